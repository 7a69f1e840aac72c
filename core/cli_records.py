"""Records as the commands print them with ``--json``: cases, actions and events."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

from dunning import builtin, calendar, money, priority, priority_hook
from dunning.compliance.risk import risk_class
from dunning.models import Action, Case, Event
from dunning.owed import Owed, owed_on
from dunning.days_past_due import dpd_on
from dunning.priority import CaseFacts
from dunning.runtime import Runtime


def case_json(rt: Runtime, case: Case, now: dt.datetime, owed: Owed | None = None) -> dict[str, Any]:
    """The case as ``cases show --json`` prints it; ``owed`` when the caller has read the obligations already."""
    debtor = rt.store.debtor(case.debtor_id)
    today = rt.today(now)
    if owed is None:
        owed = owed_on(rt.store.obligations(case.id), today, case.currency)
    facts = rt.store.priority_facts(case, today, rt.config.zone)
    return case_fields(case, today, debtor.name if debtor else None, owed.overdue, owed.not_yet_due,
                       priority_hook.case_priority(rt.plugins.calls, case, facts))


def cases_json(rt: Runtime, now: dt.datetime, *, stage: str | None = None, status: str | None = None,
               limit: int | None = None, strategy: str | None = None) -> Iterator[dict[str, Any]]:
    """The cases as ``cases list --json`` prints them, read a page at a time: each page's debtors, obligations
    and priority facts in a few queries, whatever its size."""
    today = rt.today(now)
    score = _scorer(rt)
    for page in rt.store.case_pages(stage=stage, status=status, limit=limit, strategy=strategy):
        ids = [c.id or 0 for c in page]
        names = rt.store.debtor_names(c.debtor_id for c in page)
        owed = rt.store.owed_figures_of(ids, today)
        facts = rt.store.priority_facts_of(page, today, rt.config.zone)
        for case in page:
            overdue, later = owed[case.id or 0]
            yield case_fields(case, today, names.get(case.debtor_id), overdue, later, score(case, facts[case.id or 0]))


def listing_scored_by_plugin(rt: Runtime) -> bool:
    """Whether a plugin implements or wraps ``case_priority`` (else the built-in score is the answer)."""
    impls = rt.plugins.pm.hook.case_priority.get_hookimpls()
    return not (len(impls) == 1 and impls[0].function is builtin.case_priority)


def _scorer(rt: Runtime) -> Callable[[Case, CaseFacts], float | None]:
    """How a listing scores its cases: through ``case_priority``, or straight through the built-in score
    when no plugin implements or wraps the hook (the same answer, without a hook call per case)."""
    if not listing_scored_by_plugin(rt):
        return priority.score
    return lambda case, facts: priority_hook.case_priority(rt.plugins.calls, case, facts)


def case_fields(case: Case, today: dt.date, debtor_name: str | None, overdue: int, not_yet_due: int,
                score: float | None) -> dict[str, Any]:
    """The case's fields from what the store read: its debtor's name, what is overdue and not yet due
    ``today`` (``dunning.owed``), its priority."""
    return {
        "id": case.id,
        "debtor_id": case.debtor_id,
        "debtor_name": debtor_name,
        "stage": case.stage.value,
        "status": case.status.value,
        "balance": money.format_minor(case.balance, case.currency),
        "balance_minor": case.balance,
        # Past their due date on the business's today, and due today or later (dunning.owed).
        "overdue": money.format_minor(overdue, case.currency),
        "overdue_minor": overdue,
        "not_yet_due": money.format_minor(not_yet_due, case.currency),
        "not_yet_due_minor": not_yet_due,
        "currency": case.currency,
        "creditor_reference": case.creditor_reference,
        "dpd": dpd_on(case, today) if case.is_open else None,
        "oldest_due_on": _day(case.anchor_due_on),
        "next_action_on": _day(case.next_action_on),
        "broken_promises": case.broken_promises,
        "risk": risk_class(case, today).value if case.is_open else None,
        "signals": list(case.signals),
        "account_locked": case.account_locked,
        "opened_on": _day(case.opened_on),
        "resolved_on": _day(case.resolved_on),
        "priority": score,
        # The strategy the case was assigned (dunning.strategies), or None.
        "strategy": case.strategy,
    }


def _day(day: dt.date | None) -> str | None:
    # As text already: JSON's encoder then needs no fallback per date (a million cases, four dates each).
    return day.isoformat() if day else None


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
    from dunning import evidence  # the events' listings alone need it (and hashlib with it)

    return evidence.event_fields(event) | {"hash": event.hash}
