"""Rehearse the policy: run day by day on a copy of the database and collect the timeline."""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Sequence
from pathlib import Path

import attrs

from dunning import calendar, dispatch, money
from dunning.config import Config
from dunning.models import Event
from dunning.runtime import Runtime
from dunning.store import Store
from dunning.store.database import opened_as

# A day is run at these local hours, so steps with morning, afternoon and
# evening slots all come due within it, as they would under an hourly cron.
RUN_HOURS = (9, 15, 20)
QUIET_KINDS = {"case_opened", "obligation_added"}


@attrs.frozen
class Timeline:
    events: tuple[Event, ...]
    stage_counts: dict[str, int]

    def lines(self) -> list[str]:
        out: list[str] = []
        current: dt.date | None = None
        for e in self.events:
            day = e.at.date()
            if day != current:
                out.append(f"{day}")
                current = day
            out.append("  " + describe(e))
        return out


def _money(minor: object, currency: object) -> str:
    if isinstance(minor, int) and isinstance(currency, str):
        return money.display(minor, currency)
    return str(minor)


def what(e: Event) -> str:
    """What happened, in a few words."""
    d = e.data
    return {
        "sent": lambda: f"{e.channel} {e.step}" + (f" (pay by {d['deadline']})" if d.get("deadline") else ""),
        "skipped": lambda: f"skipped {e.channel or d.get('action')} {e.step} ({d.get('reason')})",
        "blocked": lambda: f"blocked {e.channel or d.get('action')} {e.step} by {d.get('rule')}",
        "deferred": lambda: (
            f"deferred {e.channel or d.get('action')} {e.step} until {d.get('until')} ({d.get('rule')})"
        ),
        "notice": lambda: f"notice to {d.get('role')}",
        "approval_requested": lambda: f"approval requested: {e.step}",
        "approved": lambda: f"approved by {d.get('by')}: {e.step}",
        "rejected": lambda: f"rejected by {d.get('by')}: {e.step}",
        "stage_changed": lambda: f"stage {d.get('from')} -> {d.get('to')}" + (" (recall)" if d.get("recall") else ""),
        "account_locked": lambda: "account locked",
        "payment": lambda: (
            f"payment {_money(d.get('amount'), d.get('currency'))} (balance after "
            f"{_money(d.get('balance_after'), d.get('currency'))})"
        ),
        "resolved": lambda: f"resolved as {d.get('as')} ({d.get('cancelled_actions')} planned actions cancelled)",
        "promise": lambda: f"promise {_money(d.get('amount'), d.get('currency'))} due {d.get('due_at')}",
        "promise_kept": lambda: "promise kept",
        "promise_broken": lambda: "promise broken",
        "superseded": lambda: f"{e.channel} {e.step} superseded by {d.get('by')}",
        "steps_missed": lambda: _count(len(d.get('steps', [])), "past step", "missed {n} {noun}"),
        "delivery_failed": lambda: f"{e.channel} {e.step} failed: {d.get('error')}",
        "signal": lambda: f"signal: {d.get('signal')}" + (f" ({d.get('note')})" if d.get("note") else ""),
        "escalation_triggered": lambda: f"{d.get('trigger')}: to {d.get('to')} at once",
        "hold": lambda: f"hold ({d.get('reason')})",
        "hold_released": lambda: "hold released",
    }.get(e.kind, lambda: _plain(e))()


def _plain(e: Event) -> str:
    """A plugin's event in words: its kind, and the party or outcome it names, if any."""
    words = e.kind.replace("_", " ")
    detail = next((e.data[k] for k in ("agency", "outcome", "milestone") if isinstance(e.data.get(k), str)), None)
    return f"{words} ({detail})" if detail else words


def _count(n: int, noun: str, text: str) -> str:
    return text.format(n=n, noun=noun if n == 1 else noun + "s")


def day_story(events: Sequence[Event]) -> str:
    """A day's events in a few words each; the same words repeated are told once with a count."""
    told: dict[str, int] = {}
    for e in events:
        words = what(e)
        told[words] = told.get(words, 0) + 1
    return "; ".join(words if n == 1 else f"{words} (x{n})" for words, n in told.items())


def describe(e: Event) -> str:
    """One line for a timeline: case, days past due, stage, what happened."""
    return f"case {e.case_id:>4}  dpd {'' if e.dpd is None else e.dpd:>4}  {e.stage or '':<10} {what(e)}"


def simulate_copy(config: Config, db: Path | None, first_day: dt.date, days: int,
                  case_ids: Sequence[int] = ()) -> Timeline:
    source = Store(opened_as(db or config.db))
    with tempfile.TemporaryDirectory(prefix="dunning-simulate-") as folder:
        copy = Path(folder) / "simulation.db"
        source.backup_to(copy)
        source.close()
        # A throwaway copy: no power cut can cost it anything worth a sync per commit.
        with Runtime(attrs.evolve(config, synchronous="normal"), db_path=copy, simulated=True) as rt:
            start = rt.store.last_seq()
            for offset in range(days):
                day = first_day + dt.timedelta(days=offset)
                for hour in RUN_HOURS:
                    now = calendar.local_moment(day, dt.time(hour), rt.config.zone)
                    dispatch.run(rt, now)
            found = [e for e in rt.store.events(after_seq=start) if e.kind not in QUIET_KINDS
                     and (not case_ids or e.case_id in case_ids)]
            return Timeline(tuple(found), rt.store.stage_counts())
