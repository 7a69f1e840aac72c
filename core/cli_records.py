"""Records as the commands print them with ``--json``: cases, actions and events."""

from __future__ import annotations

import datetime as dt
from typing import Any

from dunning import calendar, evidence, money, priority_hook
from dunning.compliance.risk import risk_class
from dunning.models import Action, Case, Event
from dunning.owed import Owed, owed_on
from dunning.runtime import Runtime


def case_json(rt: Runtime, case: Case, now: dt.datetime, owed: Owed | None = None) -> dict[str, Any]:
    """The case as ``cases list/show --json`` print it; ``owed`` when the caller has read the obligations already."""
    debtor = rt.store.debtor(case.debtor_id)
    priority = priority_hook.case_priority(rt.plugins.calls, case,
                                           rt.store.priority_facts(case, rt.today(now), rt.config.zone))
    if owed is None:
        owed = owed_on(rt.store.obligations(case.id), rt.today(now), case.currency)
    return {
        "id": case.id,
        "debtor_id": case.debtor_id,
        "debtor_name": debtor.name if debtor else None,
        "stage": case.stage.value,
        "status": case.status.value,
        "balance": money.format_minor(case.balance, case.currency),
        "balance_minor": case.balance,
        # Past their due date on the business's today, and due today or later (dunning.owed).
        "overdue": money.format_minor(owed.overdue, case.currency),
        "overdue_minor": owed.overdue,
        "not_yet_due": money.format_minor(owed.not_yet_due, case.currency),
        "not_yet_due_minor": owed.not_yet_due,
        "currency": case.currency,
        "creditor_reference": case.creditor_reference,
        "dpd": rt.dpd(case, now) if case.is_open else None,
        "oldest_due_on": case.anchor_due_on,
        "next_action_on": case.next_action_on,
        "broken_promises": case.broken_promises,
        "risk": risk_class(case, rt.today(now)).value if case.is_open else None,
        "signals": list(case.signals),
        "account_locked": case.account_locked,
        "opened_on": case.opened_on,
        "resolved_on": case.resolved_on,
        "priority": priority,
    }


def action_json(action: Action) -> dict[str, Any]:
    return {
        "id": action.id,
        "key": action.key,
        "case_id": action.case_id,
        "kind": action.kind.value,
        "step": action.step,
        "channel": action.channel,
        "template": action.template,
        "target": action.target,
        "dpd": action.dpd,
        "planned_for": action.planned_for,
        "not_before": calendar.to_text(action.not_before),
        "status": action.status.value,
        "required": action.required,
        "requires_approval": action.requires_approval,
        "approved_by": action.approved_by,
        "attempts": action.attempts,
        "last_error": action.last_error,
    }


def event_json(event: Event) -> dict[str, Any]:
    return evidence.event_fields(event) | {"hash": event.hash}
