"""What an approver needs to see beside each action waiting for approval: whose case, how much, and why."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any

import attrs

from dunning import money
from dunning.models import Action, ActionStatus
from dunning.owed import owed_on
from dunning.runtime import Runtime


def approval_why(facts: Mapping[str, Any] | None) -> str:
    """The ``approval_requested`` event's reason as one line: the rule's words, or the policy's."""
    if not facts:
        return "approval required"
    detail = facts.get("detail") or facts.get("reason") or "approval required"
    rule = facts.get("rule")
    return f"{rule}: {detail}" if rule else str(detail)


@attrs.frozen
class ApprovalRow:
    action: Action
    debtor_name: str
    balance: int
    overdue: int
    currency: str
    why: str


def approval_rows(rt: Runtime, today: dt.date) -> Iterator[ApprovalRow]:
    """The actions awaiting approval, oldest first, with the case as it stands ``today``; read a page at a
    time, each page's cases, debtors, obligations and reasons in a few queries."""
    for waiting in rt.store.action_pages([ActionStatus.AWAITING_APPROVAL.value]):
        reasons = rt.store.approval_reasons(waiting)
        cases = rt.store.cases_by_id(sorted({a.case_id for a in waiting}))
        names = rt.store.debtor_names(c.debtor_id for c in cases.values())
        obligations = rt.store.obligations_of(list(cases))
        for action in waiting:
            case = cases[action.case_id]
            owed = owed_on(obligations[action.case_id], today, case.currency)
            yield ApprovalRow(action=action, debtor_name=names.get(case.debtor_id, case.debtor_id),
                              balance=case.balance, overdue=owed.overdue, currency=case.currency,
                              why=approval_why(reasons.get(action.id or 0)))


def approval_json(row: ApprovalRow) -> dict[str, Any]:
    """The row's own fields, to add to the action's JSON."""
    return {
        "debtor_name": row.debtor_name,
        "balance": money.format_minor(row.balance, row.currency), "balance_minor": row.balance,
        "overdue": money.format_minor(row.overdue, row.currency), "overdue_minor": row.overdue,
        "currency": row.currency, "why": row.why,
    }
