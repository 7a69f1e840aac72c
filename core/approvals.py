"""What an approver needs to see beside each action waiting for approval: whose case, how much, and why."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import attrs

from dunning import money
from dunning.models import Action
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


def approval_rows(rt: Runtime, today: dt.date) -> list[ApprovalRow]:
    """The actions awaiting approval, oldest first, with the case as it stands ``today``."""
    waiting = rt.store.approvals()
    reasons = rt.store.approval_reasons(waiting)
    rows: list[ApprovalRow] = []
    for action in waiting:
        case = rt.store.case(action.case_id)
        debtor = rt.store.debtor(case.debtor_id)
        owed = owed_on(rt.store.obligations(case.id), today, case.currency)
        rows.append(ApprovalRow(action=action, debtor_name=debtor.name if debtor else case.debtor_id,
                                balance=case.balance, overdue=owed.overdue, currency=case.currency,
                                why=approval_why(reasons.get(action.id or 0))))
    return rows


def approval_json(row: ApprovalRow) -> dict[str, Any]:
    """The row's own fields, to add to the action's JSON."""
    return {
        "debtor_name": row.debtor_name,
        "balance": money.format_minor(row.balance, row.currency), "balance_minor": row.balance,
        "overdue": money.format_minor(row.overdue, row.currency), "overdue_minor": row.overdue,
        "currency": row.currency, "why": row.why,
    }
