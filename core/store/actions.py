"""The outbox's actions: reading them, queueing one outside the plan, approving, cancelling."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from dunning import event_codec
from dunning.calendar import to_text
from dunning.models import Action, ActionKind, ActionStatus, Event
from dunning.store.bulk import _execute_rows
from dunning.store.errors import Conflict, NotFound
from dunning.store.events import EventLog
from dunning.store.rows import _ACTION_COLUMNS, _INSERT_ACTION, _action, _stored_template

# What an outcome writes to ``reference`` (m035): '' for the action's own key (what most providers give back,
# ``rows._action`` reads it as the key), the reference otherwise, the one before for none (or an empty one).
REFERENCE_KEPT = "coalesce(CASE WHEN {new} = {t}.key THEN '' ELSE nullif({new}, '') END, {t}.reference)"

# A round's outcomes, many to a statement (``_execute_rows``): ``Claims.finish`` for each, the claim let go.
_FINISH_CLAIMED = (
    "UPDATE actions SET status = v.column2, not_before = coalesce(v.column3, actions.not_before), "
    f"last_error = v.column4, reference = {REFERENCE_KEPT.format(new='v.column5', t='actions')}, "
    "attempts = actions.attempts + v.column6, claimed_by = NULL, claimed_at = NULL, send_started_at = NULL, "
    "updated_at = v.column7 "
    "FROM (VALUES {rows}) AS v WHERE actions.id = v.column1 AND actions.status = 'sending' "
    "AND actions.claimed_by = v.column8"
)

# One outcome as ``finish_claimed`` writes it: (id, status, not_before, last_error, reference, attempts added,
# updated_at, claimer).
ClaimedOutcome = tuple[int, str, str | None, str | None, str | None, int, str, str]


class Actions(EventLog):
    """The store's part that reads and changes actions."""

    def action(self, action_id: int) -> Action:
        row = self.conn.execute(f"SELECT {_ACTION_COLUMNS} FROM actions WHERE id = ?", [action_id]).fetchone()
        if row is None:
            raise NotFound(f"no action with id {action_id}")
        return _action(row)

    def actions(self, *, case_id: int | None = None, statuses: Iterable[str] | None = None) -> list[Action]:
        where: list[str] = ["1"]
        params: list[Any] = []
        if case_id is not None:
            where.append("case_id = ?")
            params.append(case_id)
        if statuses is not None:
            status_list = list(statuses)
            where.append(f"status IN ({', '.join('?' * len(status_list))})")
            params.extend(status_list)
        return [
            _action(r)
            for r in self.conn.execute(
                f"SELECT {_ACTION_COLUMNS} FROM actions WHERE {' AND '.join(where)} ORDER BY id", params
            )
        ]

    def required_actions(self, case_id: int, up_to_dpd: int | None, statuses: Iterable[ActionStatus]) -> list[Action]:
        """The case's required outreach for days up to ``up_to_dpd``, in these statuses."""
        wanted = [s.value for s in statuses]
        return [
            _action(r)
            for r in self.conn.execute(
                f"SELECT {_ACTION_COLUMNS} FROM actions WHERE case_id = ? AND required = 1 "
                f"AND status IN ({', '.join('?' * len(wanted))}) AND (? IS NULL OR dpd <= ?) ORDER BY id",
                [case_id, *wanted, up_to_dpd, up_to_dpd],
            )
        ]

    def ended_unsent(self, keys: Iterable[str]) -> set[str]:
        """Those of ``keys`` whose action ended without going out (superseded, skipped, cancelled, blocked, ...).

        For plugins' own task lists: a task written for an occurrence whose
        outcome was never recorded as sent (the run stopped in between) must
        not be worked once that occurrence is superseded or dropped.
        """
        wanted = list(dict.fromkeys(keys))
        ended: set[str] = set()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            ended.update(r[0] for r in self.conn.execute(
                f"SELECT key FROM actions WHERE key IN ({', '.join('?' * len(chunk))}) "
                "AND status NOT IN ('sent', 'pending', 'sending', 'awaiting_approval', 'in_doubt')", chunk))
        return ended

    def add_action(self, *, key: str, case_id: int, kind: ActionKind, step: str, planned_for: dt.date,
                   not_before: dt.datetime, now: dt.datetime, channel: str | None = None, template: str | None = None,
                   target: str | None = None, dpd: int | None = None, required: bool = False,
                   requires_approval: bool = False, options: Mapping[str, Any] | None = None) -> bool:
        """Queue one action outside the policy's plan (a promise reminder, a triggered escalation); False if the key
        exists.

        One that requires approval waits in the approval queue.
        """
        status = ActionStatus.AWAITING_APPROVAL if requires_approval else ActionStatus.PENDING
        cursor = self.conn.execute(
            _INSERT_ACTION,
            [key, case_id, kind.value, step, channel, _stored_template(template, step), target, dpd,
             planned_for.isoformat(),
             to_text(not_before), status.value, int(required), int(requires_approval),
             json.dumps(dict(options or {}), sort_keys=True), to_text(now), to_text(now)],
        )
        return cursor.rowcount == 1

    def add_fallback_action(self, action: Action, channel: str, key: str, now: dt.datetime) -> bool:
        """Queue ``action`` again on ``channel`` under ``key``, due at once; False if that key exists."""
        cursor = self.conn.execute(
            _INSERT_ACTION,
            [key, action.case_id, action.kind.value, action.step, channel,
             _stored_template(action.template, action.step), action.target,
             action.dpd, action.planned_for.isoformat(), to_text(now), ActionStatus.PENDING.value,
             int(action.required), int(action.requires_approval),
             json.dumps({**action.options, "fallback_from": action.key}, sort_keys=True),
             to_text(now), to_text(now)],
        )
        return cursor.rowcount == 1

    def set_action_status(self, action_id: int, status: ActionStatus, now: dt.datetime, *,
                          expected: Iterable[ActionStatus], approved_by: str | None = None,
                          events: Sequence[Event] = ()) -> Action:
        expected_values = [s.value for s in expected]
        with self.transaction():
            cursor = self.conn.execute(
                f"UPDATE actions SET status = ?, approved_by = coalesce(?, approved_by), updated_at = ? "
                f"WHERE id = ? AND status IN ({', '.join('?' * len(expected_values))})",
                [status.value, approved_by, to_text(now), action_id, *expected_values],
            )
            if cursor.rowcount != 1:
                current = self.action(action_id)
                raise Conflict(f"action {action_id} is {current.status}, not {' or '.join(expected_values)}")
            self.append_events(events)
        return self.action(action_id)

    def cancel_open_actions(self, case_id: int, now: dt.datetime, reason: str) -> int:
        """Cancel everything still planned for a case (inside the caller's transaction)."""
        cursor = self.conn.execute(
            "UPDATE actions SET status = 'cancelled', last_error = ?, updated_at = ? "
            "WHERE case_id = ? AND status IN ('awaiting_approval', 'pending', 'in_doubt')",
            [reason, to_text(now), case_id],
        )
        return cursor.rowcount

    def approvals(self) -> list[Action]:
        return self.actions(statuses=[ActionStatus.AWAITING_APPROVAL.value])

    def approval_reasons(self, actions: Sequence[Action]) -> dict[int, Mapping[str, Any]]:
        """The latest ``approval_requested`` event's data for each action (matched by id, key, or case and step)."""
        if not actions:
            return {}
        case_ids = sorted({a.case_id for a in actions})
        found: dict[int, Mapping[str, Any]] = {}
        by_id = {a.id: a for a in actions}
        by_key = {a.key: a for a in actions}
        by_step = {(a.case_id, a.step): a for a in actions}
        for chunk in range(0, len(case_ids), 500):
            ids = case_ids[chunk:chunk + 500]
            for case_id, step, action_id, data, channel in self.conn.execute(
                    "SELECT case_id, step, action_id, data, channel FROM events WHERE kind = 'approval_requested' "
                    f"AND case_id IN ({', '.join('?' * len(ids))}) ORDER BY seq", ids):
                facts = json.loads(event_codec.decode_data(data, case_id, step, channel))
                # Planning writes its events before the action has an id; they carry the key, or the step.
                action = by_id.get(action_id) or by_key.get(facts.get("key")) or by_step.get((case_id, step))
                if action is not None and action.id is not None:
                    found[action.id] = facts
        return found

    def claims_held(self, action_ids: Sequence[int], claimer: str) -> set[int]:
        """Those of ``action_ids`` that ``claimer`` still holds (being sent, claimed by it)."""
        held: set[int] = set()
        for start in range(0, len(action_ids), 500):
            part = list(action_ids[start:start + 500])
            held.update(r[0] for r in self.conn.execute(
                f"SELECT id FROM actions WHERE id IN ({', '.join('?' * len(part))}) AND status = 'sending' "
                "AND claimed_by = ?", [*part, claimer]))
        return held

    def finish_claimed(self, outcomes: Sequence[ClaimedOutcome]) -> int:
        """A round's outcomes in a few statements, inside the caller's transaction; returns the rows changed.

        As ``finish`` does for one: only a claim its claimer still holds is
        finished; the evidence goes in through ``append_events``.
        """
        if not self.conn.in_transaction:
            raise RuntimeError("finish_claimed needs a transaction (the one the round's outcomes are recorded in)")
        return _execute_rows(self.conn, _FINISH_CLAIMED, outcomes, 8)
