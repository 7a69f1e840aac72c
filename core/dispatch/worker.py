"""A dispatch worker: one of several processes, on one machine or many, draining one portfolio together.

Each turn a worker first offers to plan: planning (and what a run settles
before it: holds run out, promises, credits, settlement offers, interest) is
done by one worker at a time, the one holding the planner lock
(``Store.take_planner_lock``). Planning is not split between workers: it is a
pass over the due cases in large batches, each batch written with a
compare-and-set on each case's cursor, cheap beside delivery; and splitting
it by claimed cases would hold those cases' rows locked while Python works
out their plans, holding up everyone else who writes to them.

Then it delivers: it claims ready actions a batch at a time (on PostgreSQL
``FOR UPDATE SKIP LOCKED``: two workers never claim the same action, and
neither waits for the other's batch) and takes each to its outcome exactly
as ``dunning run`` does (``outbox.deliver_round``). What keeps the promises
with several workers lives in the store (``dunning.store.pg_locks``): the
contact caps (a debtor's attempts read under a lock per debtor) and the
evidence chain (appends under one lock).

A worker stops between batches: ``stop`` set (SIGTERM) finishes the batch in
hand, records it, gives every channel its end-of-run call and returns.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable

import attrs

from dunning import calendar
from dunning.dispatch.claims import claimer_id
from dunning.dispatch.housekeeping import lift_expired_holds, roll_up_reports, settle_promises
from dunning.dispatch.outbox import deliver_ready
from dunning.dispatch.planning import plan
from dunning.dispatch.summary import RunSummary
from dunning.ledger import accrual, settlement
from dunning.runtime import Runtime

DEFAULT_BATCH = 200


@attrs.define
class WorkerSummary:
    """What one worker did: the run's counts, and how it went about them."""

    run: RunSummary = attrs.field(factory=RunSummary)
    claimed: int = 0  # actions claimed, batch after batch
    batches: int = 0
    turns: int = 0
    planned_turns: int = 0  # turns in which this worker was the planner
    plan_seconds: float = 0.0  # wall time spent planning (with what a run settles first), lock waits included
    stopped: bool = False  # stopped by a signal rather than by running out of work


class _Stop(Exception):
    """Raised from planning's progress callback when the worker is asked to stop."""


def work(rt: Runtime, *, batch: int = DEFAULT_BATCH, once: bool = False, idle_sleep: float = 30.0,
         now: Callable[[], dt.datetime] = calendar.utc_now, stop: threading.Event | None = None) -> WorkerSummary:
    """Plan (when no other worker is) and deliver, turn after turn.

    ``once``: wait for the planner's turn, plan, deliver until nothing is
    ready, and return: with several workers started together, each returns
    once the portfolio is drained. Otherwise a worker that found nothing to
    deliver sleeps ``idle_sleep`` seconds before its next turn, until
    ``stop`` is set.
    """
    stop = stop or threading.Event()
    summary = WorkerSummary()
    claimer = claimer_id()
    while not stop.is_set():
        summary.turns += 1
        moment = now()
        started = time.monotonic()
        # With ``once`` every worker waits its turn to plan, so none returns while work is still being planned.
        if rt.store.take_planner_lock(wait=once):
            try:
                _plan(rt, moment, summary.run, stop)
                summary.planned_turns += 1
            except _Stop:
                pass
            finally:
                rt.store.release_planner_lock()
        summary.plan_seconds += time.monotonic() - started
        delivered = _deliver(rt, moment, claimer, batch, summary, stop)
        if once:
            break
        if not delivered:
            stop.wait(idle_sleep)
    summary.stopped = stop.is_set()
    return summary


def _plan(rt: Runtime, now: dt.datetime, summary: RunSummary, stop: threading.Event) -> None:
    """What ``dunning run`` does before it delivers (``dispatch.runner``), stopping between batches when asked."""
    rt.mirrors.catch_up()
    lift_expired_holds(rt, now, summary)
    settle_promises(rt, now, summary)
    from dunning.ledger.payments import apply_credits  # as in dispatch.runner: the ledger builds on dispatch

    apply_credits(rt, now)
    summary.settlements_settled, summary.settlements_lapsed = settlement.review(rt, now)
    summary.charges_posted = accrual.accrue(rt, now)

    def progress(_phase: str, _count: int) -> None:
        if stop.is_set():  # each planned batch is committed whole: stopping between them leaves the rest due
            raise _Stop

    plan(rt, now, summary, progress)
    if rt.store.dialect == "sqlite":
        # The reports' roll-up statements are SQLite's still; on PostgreSQL the reports read the events.
        roll_up_reports(rt)


def _deliver(rt: Runtime, now: dt.datetime, claimer: str, batch: int, summary: WorkerSummary,
             stop: threading.Event) -> int:
    """Claim and deliver ready actions a batch at a time until none is ready or ``stop`` is set; how many."""

    def claimed(step: str, count: int) -> None:
        summary.claimed += count
        summary.batches += 1

    return deliver_ready(rt, now, summary.run, claimed, claimer=claimer, size=batch, stop=stop, finish_idle=False)
