"""``dunning worker``: a dispatch worker, one of several draining one PostgreSQL database (dunning.dispatch.worker)."""

from __future__ import annotations

import signal
import threading
from types import FrameType

import click

from dunning.cli_support import State, json_option, pass_state


@click.command()
@click.option("--batch", default=200, show_default=True, type=click.IntRange(1, 10_000),
              help="Ready actions claimed at a time.")
@click.option("--once", is_flag=True,
              help="Plan (in turn with the other workers), deliver until nothing is ready, and exit.")
@click.option("--idle-sleep", default=30.0, show_default=True, type=click.FloatRange(0.0), metavar="SECONDS",
              help="Without --once: how long to wait after a turn that found nothing to deliver.")
@click.option("--now", "now_text", metavar="ISO-8601",
              help="Work as at this moment every turn (default: the clock at each turn).")
@json_option
@pass_state
def worker(state: State, batch: int, once: bool, idle_sleep: float, now_text: str | None, as_json: bool) -> None:
    """Plan and deliver as one of several workers sharing a PostgreSQL database.

    Start as many as the database and the channels keep busy, on one
    machine or several, each `dunning --db postgresql://... worker`. Ready
    actions are claimed --batch at a time, so no two workers claim the same
    one; every contact cap holds across workers and the evidence log stays
    one chain. One worker at a time plans (the others deliver meanwhile).
    SIGTERM or Ctrl-C: the batch in hand is finished and recorded, then the
    worker exits. On SQLite the worker is a single runner: a second one on
    the same file is safe but adds nothing (SQLite writes one at a time).
    """
    from dunning import calendar
    from dunning.dispatch.worker import work
    from dunning.output import print_json

    rt = state.runtime()  # --db or dunning.toml's db: a file, or a postgresql:// server
    moment = now_text or click.get_current_context().find_root().params.get("now_text")
    fixed = state.now(moment) if moment else None
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stop.set()  # the loop stops between batches: the one in hand is finished first

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, on_signal)
    summary = work(rt, batch=batch, once=once, idle_sleep=idle_sleep, stop=stop,
                   now=calendar.utc_now if fixed is None else lambda: fixed)
    run = summary.run
    if as_json:
        print_json(run.as_dict() | {"claimed": summary.claimed, "batches": summary.batches, "turns": summary.turns,
                                    "planned_turns": summary.planned_turns, "stopped": summary.stopped,
                                    "database": rt.store.dialect})
        return
    click.echo(f"{'stopped' if summary.stopped else 'done'}: {summary.turns} turns ({summary.planned_turns} as "
               f"planner), claimed {summary.claimed} in {summary.batches} batches; planned {run.planned}, sent "
               f"{run.sent}, deferred {run.deferred}, blocked {run.blocked}, failed {run.failed}, escalated "
               f"{run.escalated}, awaiting approval {run.awaiting_approval}, skipped {run.skipped}")
