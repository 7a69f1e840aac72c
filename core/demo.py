"""`dunning demo`: sample portfolios for both presets, run day by day in a fresh database.

Installed channel plugins are used where they exist; any standard channel
without one is played by an outbox channel that writes each message it
would send to ``outbox/<channel>.jsonl`` in the demo folder, so the demo
needs no mail server and reaches nobody.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

from dunning import calendar, dispatch, hookimpl, money, operations
from dunning.channels import STANDARD_CHANNELS, Delivery, DeliveryContext
from dunning.config import Config
from dunning.importer import COLUMNS
from dunning.models import Action, Case, Event, Stage, Status
from dunning.plugin_manager import load_plugins
from dunning.policy import PRESETS
from dunning.runtime import Runtime
from dunning.simulation import RUN_HOURS, what
from dunning.importer import validate

START = dt.date(2026, 1, 5)  # a fixed Monday, so every demo prints the same story
APPROVER = "demo approver"
_COMPANIES = ["Harbour", "Northwind", "Blue Ridge", "Keystone", "Lumen", "Oakfield", "Riverside", "Summit", "Copperleaf",
              "Granite", "Meadow", "Pioneer", "Silverline", "Tidewater", "Westbrook", "Evergreen"]
_TRADES = ["Supplies", "Builders", "Foods", "Logistics", "Print", "Motors", "Textiles", "Electric"]
_GIVEN = ["Ana", "Ben", "Chen", "Dara", "Eli", "Fatima", "Goran", "Hana", "Ivan", "Jia", "Kofi", "Lena", "Mateo", "Nadia"]
_FAMILY = ["Alvarez", "Brooks", "Chen", "Dubois", "Evans", "Fischer", "Garcia", "Hughes", "Ito", "Jensen", "Kowalski", "Li"]


class OutboxChannel:
    """Writes what it would send, one JSON line per message, to a file."""

    def __init__(self, name: str, folder: Path):
        self.name = name
        self.needs = ()
        self.path = folder / f"{name}.jsonl"

    def send(self, action: Action, case: Case, ctx: DeliveryContext) -> Delivery:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = {"key": ctx.key, "sent_at": calendar.to_text(ctx.now), "case": case.id, "debtor": ctx.debtor.name,
                "step": action.step, "template": action.template, "dpd": ctx.dpd,
                "balance": money.display(case.balance, case.currency)}
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(line, ensure_ascii=False) + "\n")
        return Delivery.sent(f"outbox:{self.name}:{ctx.key}")


class OutboxPlugin:
    plugin_name = "demo-outbox"

    def __init__(self, channels: tuple[OutboxChannel, ...]):
        self.channels = channels

    @hookimpl
    def register_channels(self, register: Callable[[Any], None]) -> None:
        for channel in self.channels:
            register(channel)


@attrs.frozen
class Behaviour:
    """What a sample debtor does: pay on a day, promise on a day, or nothing."""

    pay_day: int | None = None
    pay_share: float = 1.0
    promise_day: int | None = None
    keeps_promise: bool = False


def _portfolio(preset: str, n: int, rng: random.Random) -> tuple[list[dict[str, str]], dict[str, Behaviour]]:
    rows: list[dict[str, str]] = []
    behaviours: dict[str, Behaviour] = {}
    trade = preset == "trade-receivables"
    for i in range(1, n + 1):
        debtor_id = f"{'T' if trade else 'L'}{i:03d}"
        if trade:
            name = f"{rng.choice(_COMPANIES)} {rng.choice(_TRADES)} {'Ltd' if i % 2 else 'GmbH'}"
            kind, country, tz, currency = "company", rng.choice(["GB", "DE"]), None, "EUR"
        else:
            name = f"{rng.choice(_GIVEN)} {rng.choice(_FAMILY)}"
            kind, country, tz, currency = "person", "US", "America/New_York", "USD"
        tz = tz or ("Europe/London" if country == "GB" else "Europe/Berlin")
        for j in range(rng.randint(1, 3)):
            due = START + dt.timedelta(days=rng.randint(-25, 12) + j * 30)
            amount = rng.choice([380, 900, 2400, 4800, 7600, 12500, 26000]) if trade else rng.choice([150, 420, 800, 1500, 2600])
            rows.append({
                "debtor_id": debtor_id, "name": name, "kind": kind, "email": f"accounts{i}@example.com",
                "mobile": f"+1 555 01{i:02d} {j}{i % 10}0", "work_phone": "", "home_phone": "",
                "address": f"{i} Market Street", "country": country, "timezone": tz,
                "reference": f"{'INV' if trade else 'LN'}-{i:03d}-{j + 1}", "amount": f"{amount}.00",
                "currency": currency, "issued_on": (due - dt.timedelta(days=30)).isoformat(), "due_on": due.isoformat(),
            })
        roll = rng.random()
        if roll < 0.3:
            behaviours[debtor_id] = Behaviour(pay_day=rng.randint(8, 120))
        elif roll < 0.45:
            behaviours[debtor_id] = Behaviour(pay_day=rng.randint(20, 100), pay_share=0.4)
        elif roll < 0.6:
            behaviours[debtor_id] = Behaviour(promise_day=rng.randint(10, 60), keeps_promise=rng.random() < 0.5)
    assert set(rows[0]) <= set(COLUMNS)
    return rows, behaviours


def run_demo(folder: Path | None, *, days: int, debtors: int, seed: int, echo: Callable[[str], None]) -> Path:
    base = folder or Path(tempfile.mkdtemp(prefix="dunning-demo-"))
    base.mkdir(parents=True, exist_ok=True)
    echo(f"dunning demo: {len(PRESETS)} portfolios of {debtors} debtors, {days} days from {START}, in {base}")
    for preset in PRESETS:
        _run_portfolio(base / preset, preset, days=days, debtors=debtors, rng=random.Random(f"{seed}:{preset}"), echo=echo)
    return base


def _run_portfolio(folder: Path, preset: str, *, days: int, debtors: int, rng: random.Random,
                   echo: Callable[[str], None]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "dunning.db"
    for stale in (db, folder / "dunning.db-wal", folder / "dunning.db-shm"):
        stale.unlink(missing_ok=True)
    for stale in (folder / "outbox").glob("*.jsonl"):
        stale.unlink()
    probe = load_plugins(Config(path=None))
    outbox = OutboxPlugin(tuple(OutboxChannel(name, folder / "outbox") for name in STANDARD_CHANNELS
                                if name not in probe.channels and name not in ("agency", "legal")))
    enabled = tuple(sorted({c.name for c in outbox.channels} | (set(probe.channels) & set(STANDARD_CHANNELS))))
    config = Config(path=folder / "dunning.toml", policy=preset, db=db, timezone="UTC", enabled_channels=enabled,
                    notify={"supervisor": "Sam Supervisor", "manager": "Morgan Manager", "general_manager": "Gale GM"})
    rows, behaviours = _portfolio(preset, debtors, rng)
    with Runtime(config, extra_plugins=[outbox]) as rt:
        items, errors = validate(list(enumerate(rows, start=2)), rt.store)
        assert not errors, errors
        first_now = calendar.local_moment(START, dt.time(8), rt.config.zone)
        rt.store.import_obligations(items, first_now, START)
        promises: dict[int, int] = {}
        for offset in range(days):
            day = START + dt.timedelta(days=offset)
            for hour in RUN_HOURS:
                now = calendar.local_moment(day, dt.time(hour), rt.config.zone)
                dispatch.run(rt, now)
                if hour == RUN_HOURS[0]:
                    _debtors_act(rt, offset, day, behaviours, promises)
            for action in rt.store.approvals():
                operations.decide(rt, action.id, approve=True, by=APPROVER,
                                  now=calendar.local_moment(day, dt.time(21), rt.config.zone))
        _report(rt, preset, folder, days, debtors, echo)


def _debtors_act(rt: Runtime, offset: int, day: dt.date, behaviours: dict[str, Behaviour], promises: dict[int, int]) -> None:
    at = calendar.local_moment(day, dt.time(11), rt.config.zone)
    for case in rt.store.cases(status=Status.OPEN.value):
        b = behaviours.get(case.debtor_id)
        if b is None:
            continue
        if b.pay_day == offset:
            amount = case.balance if b.pay_share >= 1 else max(1, int(case.balance * b.pay_share))
            operations.pay(rt, case.id, money.format_minor(amount, case.currency), at=at, now=at, reference=f"BANK-{case.id}-{offset}")
        if b.promise_day == offset and case.balance:
            half = max(1, case.balance // 2)
            operations.promise(rt, case.id, money.format_minor(half, case.currency), at + dt.timedelta(days=2), now=at)
            if b.keeps_promise:
                promises[case.id] = offset + 1
        if promises.get(case.id) == offset and case.balance:
            half = max(1, case.balance // 2)
            operations.pay(rt, case.id, money.format_minor(half, case.currency), at=at, now=at, reference=f"PROMISED-{case.id}")
            del promises[case.id]


def _report(rt: Runtime, preset: str, folder: Path, days: int, debtors: int, echo: Callable[[str], None]) -> None:
    events = rt.store.events()
    sent = Counter(e.channel for e in events if e.kind == "sent" and e.channel)
    kinds = Counter(e.kind for e in events)
    echo("")
    echo(f"== {preset}: {debtors} debtors over {days} days ==")
    echo("sent: " + ", ".join(f"{c} {n}" for c, n in sorted(sent.items())))
    echo(f"notices {kinds['notice']}, stage changes {kinds['stage_changed']}, approvals {kinds['approved']}, "
         f"payments {kinds['payment']}, promises {kinds['promise']} (kept {kinds['promise_kept']}, broken {kinds['promise_broken']}), "
         f"resolved {kinds['resolved']}")
    cases = rt.store.cases()
    picks: list[tuple[str, Case]] = []
    paid = [c for c in cases if c.status is Status.PAID]
    placed = [c for c in cases if c.is_open and c.stage is Stage.AGENCY]
    litigation = [c for c in cases if c.stage is Stage.LITIGATION]
    onsite = [c for c in cases if c.is_open and c.stage is Stage.ONSITE]
    for label, group in (("paid mid-way", paid), ("with the agency", placed), ("in litigation", litigation), ("on site", onsite)):
        if group and len(picks) < 3:
            picks.append((label, group[0]))
    for label, case in picks:
        debtor = rt.store.debtor(case.debtor_id)
        echo("")
        echo(f"-- case {case.id}, {debtor.name if debtor else case.debtor_id}: {label} --")
        # One line a day: the day, days past due, stage, and all that happened.
        by_day: dict[dt.date, list[Event]] = {}
        for e in rt.store.events(case_id=case.id):
            if e.kind not in ("case_opened", "obligation_added"):
                by_day.setdefault(e.at.date(), []).append(e)
        for day, group in by_day.items():
            first = group[0]
            echo(f"  {day}  dpd {first.dpd if first.dpd is not None else '':>4}  {first.stage or '':<10} "
                 + "; ".join(what(e) for e in group))
    echo("")
    echo("stages at the end: " + ", ".join(f"{k} {v}" for k, v in sorted(rt.store.stage_counts().items())))
    echo(f"database: {rt.config.db}   outbox: {folder / 'outbox'}")
