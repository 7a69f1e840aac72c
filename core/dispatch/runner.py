"""One run: lift expired holds, settle promises, plan what is due, deliver what is ready."""

from __future__ import annotations

import datetime as dt

from dunning.dispatch.heap import start_up_heap_frozen
from dunning.dispatch.housekeeping import lift_expired_holds, roll_up_reports, settle_promises
from dunning.dispatch.outbox import deliver_ready
from dunning.dispatch.planning import dry_plan, plan
from dunning.dispatch.summary import ProgressCallback, RunSummary
from dunning.ledger import accrual, settlement
from dunning.runtime import Runtime


def run(rt: Runtime, now: dt.datetime, *, dry_run: bool = False, progress: ProgressCallback | None = None,
        deliver: bool = True) -> RunSummary:
    """Do everything that is due at ``now``. Safe to repeat; safe to rerun after a crash."""
    # Nothing alive once the runtime is up (modules, policy, plugins) becomes
    # garbage during the run: the collector's full passes leave it out.
    with start_up_heap_frozen():
        return _run(rt, now, dry_run=dry_run, progress=progress, deliver=deliver)


def _run(rt: Runtime, now: dt.datetime, *, dry_run: bool, progress: ProgressCallback | None,
         deliver: bool) -> RunSummary:
    summary = RunSummary()
    if dry_run:
        dry_plan(rt, now, summary)
        return summary
    # Mirrors that missed events (they raised, or the process stopped) catch up first, in order.
    rt.mirrors.catch_up()
    lift_expired_holds(rt, now, summary)
    settle_promises(rt, now, summary)
    from dunning.ledger.payments import apply_credits  # here: the ledger builds on operations, which build on dispatch

    apply_credits(rt, now)  # a debtor's credit pays their new items before those are dunned
    # Settlement offers paid or missed, then interest and compensation up to yesterday (dunning.ledger).
    summary.settlements_settled, summary.settlements_lapsed = settlement.review(rt, now)
    summary.charges_posted = accrual.accrue(rt, now)
    plan(rt, now, summary, progress)
    if deliver:
        deliver_ready(rt, now, summary, progress)
    roll_up_reports(rt)  # after delivery, off its path; the run's own rows too, so a second run writes nothing
    return summary
