"""Rows become models here (``_case``, ``_action``, ...) and nowhere else; and the other way, an action's row.

The names keep their leading underscore: they belong to the store package,
not to what ``dunning.store`` offers the rest of dunning.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from dunning.calendar import from_text, to_text
from dunning.models import Action, ActionStatus, Case


def _date(text: str | None) -> dt.date | None:
    if not text:
        return None
    # Rows repeat a handful of dates (a million cases due the same day):
    # parse each once. Dates are immutable, so sharing them is safe.
    day = _DATES.get(text)
    if day is None:
        if len(_DATES) >= 4096:
            _DATES.clear()
        day = _DATES[text] = dt.date.fromisoformat(text)
    return day


_DATES: dict[str, dt.date] = {}


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


_CASE_COLUMNS = (
    "id, debtor_id, currency, stage, status, balance, anchor_due_on, opened_on, planned_through, "
    "next_action_on, broken_promises, account_locked, previous_stage, stage_entered_on, resolved_on, "
    "last_contact_on, last_payment_on, last_acknowledged_on, signals, creditor_reference, strategy, policy"
)


def _case(row: Sequence[Any]) -> Case:
    return Case(
        id=row[0],
        debtor_id=row[1],
        currency=row[2],
        stage=row[3],
        status=row[4],
        balance=row[5],
        anchor_due_on=_date(row[6]),
        opened_on=_date(row[7]),
        planned_through=_date(row[8]),
        next_action_on=_date(row[9]),
        broken_promises=row[10],
        account_locked=bool(row[11]),
        previous_stage=row[12],
        stage_entered_on=_date(row[13]),
        resolved_on=_date(row[14]),
        last_contact_on=_date(row[15]),
        last_payment_on=_date(row[16]),
        last_acknowledged_on=_date(row[17]),
        signals=tuple(row[18].split(",")) if row[18] else (),
        creditor_reference=row[19],
        strategy=row[20],
        policy=row[21],
    )


def _case_filter(stage: str | None, status: str | None, strategy: str | None = None
                 ) -> tuple[list[str], list[Any]]:
    """The WHERE terms and parameters that keep the cases at ``stage``, with ``status`` and assigned ``strategy``
    (any may be None)."""
    where: list[str] = []
    params: list[Any] = []
    if strategy:
        where.append("strategy = ?")
        params.append(strategy)
    if stage:
        where.append("stage = ?")
        params.append(stage)
    if status:
        where.append("status = ?")
        params.append(status)
    return where, params


# The case columns with the debtor's time zone last (for ``due_cases``).
_DUE_COLUMNS = ", ".join("c." + c.strip() for c in _CASE_COLUMNS.split(",")) + ", d.timezone"

_ACTION_COLUMNS = (
    "id, key, case_id, kind, step, channel, template, target, dpd, planned_for, not_before, status, "
    "required, requires_approval, approved_by, attempts, last_error, reference, options, created_at"
)


def _action(row: Sequence[Any]) -> Action:
    return Action(
        id=row[0],
        key=row[1],
        case_id=row[2],
        kind=row[3],
        step=row[4],
        channel=row[5],
        template=row[4] if row[6] == "" else row[6],  # '': the step's name (m035: not kept twice)
        target=row[7],
        dpd=row[8],
        planned_for=_date(row[9]) or dt.date.fromisoformat(row[9]),
        not_before=from_text(row[10]),
        status=row[11],
        required=bool(row[12]),
        requires_approval=bool(row[13]),
        approved_by=row[14],
        attempts=row[15],
        last_error=row[16],
        # '' is the action's own key, which most providers give back (m035: not kept twice).
        reference=row[1] if row[17] == "" else row[17],
        # Most actions have no options: a new empty dict each, without the parser.
        options={} if row[18] == "{}" else json.loads(row[18]),
        created_at=from_text(row[19]),
    )


def _stored_template(template: str | None, step: str) -> str | None:
    """What an action's ``template`` column keeps: '' for a template named as its step (most are), read back by
    ``_action``."""
    return "" if template == step else template


def action_row_tail(planned: Any, not_before: dt.datetime, status: ActionStatus, now_text: str) -> tuple[Any, ...]:
    """An action's insert row without its key and case: the same for every case planning this item at this moment.

    A full row is ``(key, case_id, *tail)``; planning works each tail out once
    per item and run (``dispatch.planning._CasePlanner``).
    """
    return (
        planned.kind.value,
        planned.step,
        planned.channel,
        _stored_template(planned.template, planned.step),
        planned.target,
        planned.dpd,
        planned.day.isoformat(),
        to_text(not_before),
        status.value,
        int(planned.required),
        int(planned.requires_approval),
        json.dumps(dict(planned.options), sort_keys=True) if planned.options else "{}",
        now_text,
        now_text,
    )


_ACTION_INSERT_COLUMNS = (
    "key, case_id, kind, step, channel, template, target, dpd, planned_for, not_before, status, required, "
    "requires_approval, options, created_at, updated_at"
)
_INSERT_ACTION = f"INSERT OR IGNORE INTO actions ({_ACTION_INSERT_COLUMNS}) VALUES ({', '.join('?' * 16)})"
