"""What a run settles before it plans: holds that have run out, promises kept or broken."""

from __future__ import annotations

import datetime as dt

import attrs

from dunning import calendar
from dunning.dispatch.stages import trigger_escalation
from dunning.dispatch.summary import RunSummary
from dunning.models import PromiseStatus
from dunning.runtime import Runtime


def lift_expired_holds(rt: Runtime, now: dt.datetime, summary: RunSummary) -> None:
    today = rt.today(now)
    for hold_id, case_id, reason, until in rt.store.expired_holds(today):
        with rt.store.transaction():
            if rt.store.expire_hold(hold_id, now):
                case = rt.store.case(case_id)
                rt.store.wake(case_id, today)
                rt.store.append_events([rt.event("hold_released", case, now, data={
                    "hold_id": hold_id, "reason": reason, "until": until.isoformat(), "by": "expiry"})])
                summary.holds_lifted += 1


def settle_promises(rt: Runtime, now: dt.datetime, summary: RunSummary) -> None:
    """A promise covered by payments is kept; one past its time without them is broken."""
    today = rt.today(now)
    # A promise is judged an hour (the grace) after its time: the debtor's
    # transfer may take that long to show, and the check call goes then.
    grace = rt.config.compliance.promise_grace
    for promise_id, case_id, amount, paid_since, due_at in rt.store.promises_to_settle(now, grace):
        kept = paid_since >= amount
        status = PromiseStatus.KEPT if kept else PromiseStatus.BROKEN
        with rt.store.transaction():
            if not rt.store.settle_promise(promise_id, status, now):
                continue
            case = rt.store.case(case_id)
            if not kept and case.is_open:
                rt.store.update_case(case_id, broken_promises=case.broken_promises + 1)
                rt.store.wake(case_id, today)
            rt.store.append_events([rt.event(f"promise_{status.value}", case, now, data={
                "promise_id": promise_id, "amount": amount, "paid": paid_since, "due_at": calendar.to_text(due_at)})])
            if not kept and case.is_open:
                trigger_escalation(rt, attrs.evolve(case, broken_promises=case.broken_promises + 1), now,
                                   cause=f"broken promise {promise_id}")
        if kept:
            summary.promises_kept += 1
        else:
            summary.promises_broken += 1


def roll_up_reports(rt: Runtime) -> None:
    """Count what was written since the last roll-up into the reports' kept counts (dunning.store.report_rollups).

    At the end of the run, once delivery is done, never while delivering: a report adds what came after, so it
    is exact either way.
    """
    rt.store.roll_up_reports()
