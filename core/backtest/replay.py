"""Run one policy over a copy of the database, as ``dunning simulate`` does, and count what it did."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import attrs

from dunning import calendar
from dunning.backtest.payment_model import Contact, Paid, PaymentModel
from dunning.backtest.recovery import Exposure, Recovery, expected_recovery
from dunning.config import Config
from dunning.models import Case, Event, Status
from dunning.simulation import simulate_copy
from dunning.store import Store


@attrs.frozen
class PolicyRun:
    """What one policy did in the replay."""

    policy: str
    sent: dict[str, int]  # by channel
    blocked: dict[str, int]  # by rule
    deferred: int
    approvals_asked: int
    stage_changes: dict[str, int]  # by the stage entered
    stages_at_end: dict[str, int]
    recovery: tuple[Recovery, ...]


@attrs.frozen
class Snapshot:
    """The cases open when the replay starts, and the history before it."""

    cases: tuple[Case, ...]
    contacts: tuple[Contact, ...]
    payments: tuple[Paid, ...]
    # The latest contact or payment in the log, before the first day or not: a replay that starts on a day
    # the database already ran plans little for it.
    last_activity: dt.datetime | None


def snapshot(db: Path, before: dt.datetime) -> Snapshot:
    """Open cases, and the contacts and payments the evidence log holds from before ``before``."""
    store = Store(db)
    try:
        cases = tuple(store.cases(status=Status.OPEN.value))
        sent, paid = store.events(kind="sent"), store.events(kind="payment")
    finally:
        store.close()
    contacts = tuple(Contact(e.case_id, e.at, e.dpd, e.channel) for e in sent
                     if e.case_id is not None and e.channel and e.at < before)
    payments = tuple(_paid(e) for e in paid if e.case_id is not None and e.at < before)
    last = max((e.at for e in (*sent, *paid)), default=None)
    return Snapshot(cases, contacts, payments, last)


def _paid(e: Event) -> Paid:
    d = e.data
    amount = int(d.get("amount", 0)) - int(d.get("credit", 0))
    before = amount + int(d.get("balance_after", 0)) + int(d.get("charges_after", 0))
    return Paid(case_id=e.case_id or 0, at=e.at, amount=amount, balance_before=before)


def replay_policy(config: Config, db: Path, policy: str, first_day: dt.date, days: int, *, cases: Sequence[Case],
                  model: PaymentModel, seed: int) -> PolicyRun:
    """``policy`` (a preset name or an absolute file path) run over a fresh copy of ``db``."""
    # Every case runs the replayed policy, whatever strategy it was assigned (dunning.strategy_policies).
    replayed = attrs.evolve(config, policy=policy, sections=attrs.evolve(config.sections, strategies=()))
    timeline = simulate_copy(replayed, db, first_day, days)
    events = timeline.events
    rates: dict[int, list[float]] = {}
    for e in events:
        if e.kind == "sent" and e.channel and e.case_id is not None:
            rates.setdefault(e.case_id, []).append(model.rate(e.dpd, e.channel))
    exposures = [Exposure(c.id, c.currency, c.balance, tuple(rates.get(c.id, ()))) for c in cases if c.id]
    return PolicyRun(
        policy=policy,
        sent=_count(e.channel for e in events if e.kind == "sent"),
        blocked=_count(e.data.get("rule") for e in events if e.kind == "blocked"),
        deferred=sum(1 for e in events if e.kind == "deferred"),
        approvals_asked=sum(1 for e in events if e.kind == "approval_requested"),
        stage_changes=_count(e.data.get("to") for e in events if e.kind == "stage_changed"),
        stages_at_end=dict(sorted(timeline.stage_counts.items())),
        recovery=tuple(expected_recovery(exposures, model.share, seed=seed)),
    )


def _count(values: Iterable[object]) -> dict[str, int]:
    counts = Counter(str(v) if v is not None else "other" for v in values)
    return dict(sorted(counts.items()))


def start_of(day: dt.date, config: Config) -> dt.datetime:
    return calendar.local_moment(day, dt.time(0), config.zone)
