"""`dunning demo`: sample portfolios for both presets, run day by day in a fresh database.

The installed channel plugins do the work for real, against stand-ins for
the outside world on 127.0.0.1 (``demo_services``): emails go over SMTP into
a Maildir, texts over HTTP into a JSON-lines file, letters are PDFs in a
folder, calls and visits wait in the collectors' lists. A standard channel
without an installed plugin is played by an outbox channel that writes what
it would send to ``outbox/<channel>.jsonl``. Nobody outside is reached.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import attrs

from dunning import calendar, checkpoints, dispatch, hookimpl, money, operations
from dunning.channels import STANDARD_CHANNELS, Delivery, DeliveryContext
from dunning.config import DEFAULT_EVIDENCE_KEY, Config, load_config
from dunning.demo_config import demo_config
from dunning.demo_services import DemoMailServer, SmsGateway
from dunning.importer import COLUMNS
from dunning.models import Action, Case, Event, Stage, Status
from dunning.plugin_manager import load_plugins
from dunning.policy import PRESETS
from dunning.runtime import Runtime
from dunning.simulation import RUN_HOURS, day_story
from dunning.importer import validate

START = dt.date(2026, 1, 5)  # a fixed Monday, so every demo prints the same story
APPROVER = "demo approver"
_COMPANIES = ["Harbour", "Northwind", "Blue Ridge", "Keystone", "Lumen", "Oakfield", "Riverside", "Summit",
              "Copperleaf", "Granite", "Meadow", "Pioneer", "Silverline", "Tidewater", "Westbrook", "Evergreen"]
_TRADES = ["Supplies", "Builders", "Foods", "Logistics", "Print", "Motors", "Textiles", "Electric"]
_GIVEN = ["Ana", "Ben", "Chen", "Dara", "Eli", "Fatima", "Goran", "Hana", "Ivan", "Jia", "Kofi", "Lena", "Mateo",
          "Nadia"]
_FAMILY = ["Alvarez", "Brooks", "Chen", "Dubois", "Evans", "Fischer", "Garcia", "Hughes", "Ito", "Jensen", "Kowalski",
           "Li"]


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


# Where sample debtors live: country, zone, currency, how a number and an address are written.
_PLACES = {
    "GB": ("Europe/London", "GBP", lambda i, j: f"+44 20 7946 {i:02d}{j}{i % 10}",
           lambda i: f"{i} High Street\nManchester\nM{1 + i % 3} {1 + i % 9}AB"),
    "DE": ("Europe/Berlin", "EUR", lambda i, j: f"+49 30 9018{i:02d}{j}{i % 10}",
           lambda i: f"Hauptstraße {i}\n10{115 + i % 3} Berlin"),
    "US": ("America/New_York", "USD", lambda i, j: f"+1 212 555 01{i % 100:02d}",
           lambda i: f"{i} Market Street\nNew York, NY 100{1 + i % 3}0"),
    "CN": ("Asia/Shanghai", "CNY", lambda i, j: f"+86 138 0013 {i:02d}{j}{i % 10}",
           lambda i: f"北京市朝阳区建国路{i}号\n1000{20 + i % 3}"),
}


def _portfolio(preset: str, n: int, rng: random.Random) -> tuple[list[dict[str, Any]], dict[str, Behaviour]]:
    rows: list[dict[str, Any]] = []
    behaviours: dict[str, Behaviour] = {}
    trade = preset == "trade-receivables"
    for i in range(1, n + 1):
        debtor_id = f"{'T' if trade else 'L'}{i:03d}"
        if trade:
            name = f"{rng.choice(_COMPANIES)} {rng.choice(_TRADES)} {'Ltd' if i % 2 else 'GmbH'}"
            kind, country = "company", ("GB" if i % 2 else "DE")
        else:
            kind = "person"
            country = "CN" if i % 4 == 0 else "US"  # a quarter of the borrowers read Chinese
            name = f"{rng.choice(_GIVEN)} {rng.choice(_FAMILY)}"
        zone, currency, phone, address = _PLACES[country]
        extra: dict[str, Any] = {"locale": "zh_CN"} if country == "CN" else {}
        if not trade:
            # Borrowers name a relative: asked where they are from day 6, told of the debt from day 18.
            extra["contacts"] = [{"kind": "mobile", "role": "relative", "name": f"{rng.choice(_GIVEN)} (relative)",
                                  "value": phone(i + 50, 9)}]
        for j in range(rng.randint(1, 3)):
            due = START + dt.timedelta(days=rng.randint(-25, 12) + j * 30)
            amount = (
                rng.choice([380, 900, 2400, 4800, 7600, 12500, 26000])
                if trade
                else rng.choice([150, 420, 800, 1500, 2600])
            )
            rows.append({
                "debtor_id": debtor_id, "name": name, "kind": kind, "email": f"accounts{i}@example.com",
                "mobile": phone(i, 1), "work_phone": phone(i, 2) if trade else "", "home_phone": "",
                "address": address(i), "country": country, "timezone": zone,
                "reference": f"{'INV' if trade else 'LN'}-{i:03d}-{j + 1}", "amount": f"{amount}.00",
                "currency": currency, "issued_on": (due - dt.timedelta(days=30)).isoformat(), "due_on": due.isoformat(),
                **extra,
            })
        roll = rng.random()
        if roll < 0.3:
            behaviours[debtor_id] = Behaviour(pay_day=rng.randint(8, 120))
        elif roll < 0.45:
            behaviours[debtor_id] = Behaviour(pay_day=rng.randint(20, 100), pay_share=0.4)
        elif roll < 0.6:
            behaviours[debtor_id] = Behaviour(promise_day=rng.randint(10, 60), keeps_promise=rng.random() < 0.5)
    assert set(rows[0]) - {"locale", "contacts"} <= set(COLUMNS)
    return rows, behaviours


def run_demo(folder: Path | None, *, days: int, debtors: int, seed: int, echo: Callable[[str], None]) -> Path:
    base = folder or Path(tempfile.mkdtemp(prefix="dunning-demo-"))
    base.mkdir(parents=True, exist_ok=True)
    echo(f"dunning demo: {len(PRESETS)} portfolios of {debtors} debtors, {days} days from {START}, in {base}")
    for preset in PRESETS:
        _run_portfolio(
            base / preset, preset, days=days, debtors=debtors, rng=random.Random(f"{seed}:{preset}"), echo=echo
        )
    return base


# What a demo leaves in its folder, cleared before a new one starts there.
_OUTPUTS = ("outbox", "mailbox", "letters", "sms", "agency-files", "legal")


def _run_portfolio(folder: Path, preset: str, *, days: int, debtors: int, rng: random.Random,
                   echo: Callable[[str], None]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "dunning.db"
    for stale in (db, folder / "dunning.db-wal", folder / "dunning.db-shm", checkpoints.file_beside(db)):
        stale.unlink(missing_ok=True)
    for output in _OUTPUTS:
        shutil.rmtree(folder / output, ignore_errors=True)
    installed = load_plugins(Config(path=None)).channels
    outbox = OutboxPlugin(tuple(OutboxChannel(name, folder / "outbox") for name in STANDARD_CHANNELS
                                if name not in installed and name not in ("agency", "legal")))
    enabled = sorted({c.name for c in outbox.channels} | (set(installed) & set(STANDARD_CHANNELS)))
    rows, behaviours = _portfolio(preset, debtors, rng)
    with DemoMailServer(folder / "mailbox") as mail, SmsGateway(folder / "sms" / "messages.jsonl") as sms:
        config_path = folder / "dunning.toml"
        config_path.write_text(demo_config(preset, enabled, smtp_port=mail.port, sms_url=sms.url), encoding="utf-8")
        if not (folder / DEFAULT_EVIDENCE_KEY).exists():
            checkpoints.generate_key(folder / DEFAULT_EVIDENCE_KEY)
        with Runtime(load_config(config_path, required=True), extra_plugins=[outbox]) as rt:
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
                    rt.checkpoint(now)  # as `dunning run` does at its end
                    if hour == RUN_HOURS[0]:
                        _debtors_act(rt, offset, day, behaviours, promises)
                for action in rt.store.approvals():
                    operations.decide(rt, cast(int, action.id), approve=True, by=APPROVER,
                                      now=calendar.local_moment(day, dt.time(21), rt.config.zone))
            _report(rt, preset, folder, days, debtors, echo)
            _where_to_look(rt, folder, START + dt.timedelta(days=days - 1), mail.handler.count, len(sms.messages), echo)


def _debtors_act(
    rt: Runtime, offset: int, day: dt.date, behaviours: dict[str, Behaviour], promises: dict[int, int]
) -> None:
    at = calendar.local_moment(day, dt.time(11), rt.config.zone)
    for case in rt.store.cases(status=Status.OPEN.value):
        b = behaviours.get(case.debtor_id)
        if b is None:
            continue
        if b.pay_day == offset:
            amount = case.balance if b.pay_share >= 1 else max(1, int(case.balance * b.pay_share))
            operations.pay(
                rt,
                case.id,
                money.format_minor(amount, case.currency),
                at=at,
                now=at,
                reference=f"BANK-{case.id}-{offset}",
            )
        if b.promise_day == offset and case.balance:
            half = max(1, case.balance // 2)
            operations.promise(rt, case.id, money.format_minor(half, case.currency), at + dt.timedelta(days=2), now=at)
            if b.keeps_promise:
                promises[case.id] = offset + 1
        if promises.get(case.id) == offset and case.balance:
            half = max(1, case.balance // 2)
            operations.pay(
                rt, case.id, money.format_minor(half, case.currency), at=at, now=at, reference=f"PROMISED-{case.id}"
            )
            del promises[case.id]


def _report(rt: Runtime, preset: str, folder: Path, days: int, debtors: int, echo: Callable[[str], None]) -> None:
    events = rt.store.events()
    sent = Counter(e.channel for e in events if e.kind == "sent" and e.channel)
    kinds = Counter(e.kind for e in events)
    echo("")
    echo(f"== {preset}: {debtors} debtors over {days} days ==")
    echo("sent: " + ", ".join(f"{c} {n}" for c, n in sorted(sent.items())))
    echo(
        f"notices {kinds['notice']}, stage changes {kinds['stage_changed']}, approvals {kinds['approved']}, "
        f"payments {kinds['payment']}, promises {kinds['promise']} (kept {kinds['promise_kept']}, broken "
        f"{kinds['promise_broken']}), "
        f"resolved {kinds['resolved']}"
    )
    cases = rt.store.cases()
    picks: list[tuple[str, Case]] = []
    paid = [c for c in cases if c.status is Status.PAID]
    placed = [c for c in cases if c.is_open and c.stage is Stage.AGENCY]
    litigation = [c for c in cases if c.stage is Stage.LITIGATION]
    onsite = [c for c in cases if c.is_open and c.stage is Stage.ONSITE]
    for label, group in (
        ("paid mid-way", paid),
        ("with the agency", placed),
        ("in litigation", litigation),
        ("on site", onsite),
    ):
        if group and len(picks) < 3:
            picks.append((label, group[0]))
    for label, case in picks:
        debtor = rt.store.debtor(case.debtor_id)
        echo("")
        echo(f"-- case {case.id}, {debtor.name if debtor else case.debtor_id}: {label} --")
        # One line a day: the day, days past due, stage, and all that happened.
        by_day: dict[dt.date, list[Event]] = {}
        deferrals: Counter[str] = Counter()
        for e in rt.store.events(case_id=case.id):
            if e.kind == "deferred":
                # Waiting for a contact window or a working day: counted, not told day by day.
                deferrals[str(e.data.get("rule"))] += 1
            elif e.kind not in ("case_opened", "obligation_added"):
                by_day.setdefault(e.at.date(), []).append(e)
        for day, day_events in by_day.items():
            first = day_events[0]
            echo(f"  {day}  dpd {first.dpd if first.dpd is not None else '':>4}  {first.stage or '':<10} "
                 + day_story(day_events))
        if deferrals:
            echo(
                "  (held back until allowed: "
                + ", ".join(f"{n} by {rule}" for rule, n in sorted(deferrals.items()))
                + ")"
            )
    echo("")
    echo("stages at the end: " + ", ".join(f"{k} {v}" for k, v in sorted(rt.store.stage_counts().items())))


def _where_to_look(rt: Runtime, folder: Path, last_day: dt.date, emails: int, texts: int,
                   echo: Callable[[str], None]) -> None:
    """Where each channel's work can be seen, with the commands that show it."""
    letters = [p for p in (folder / "letters").glob("*/*.pdf") if p.parent.name != "batches"]
    batches = sorted((folder / "letters" / "batches").glob("*.pdf"))
    calls = [e.at for e in rt.store.events(kind="sent") if e.channel == "phone"]
    # The call list is by day: show the last day calls were put on it.
    call_day = calendar.local_date(max(calls), rt.config.zone) if calls else last_day
    config = folder / "dunning.toml"
    cli = f"dunning --config {config} --now {last_day.isoformat()}T10:00"
    echo("where to look:")
    if emails:
        echo(
            f"  emails    {emails} in the Maildir {folder / 'mailbox'} (any mail reader: mutt -f {folder / 'mailbox'})"
        )
    if letters:
        echo(
            f"  letters   {len(letters)} PDFs under {folder / 'letters'}, {len(batches)} print batches in "
            "letters/batches"
        )
    if texts:
        echo(f"  texts     {texts} in {folder / 'sms' / 'messages.jsonl'}")
    if calls:
        echo(
            f"  calls     dunning --config {config} --now {call_day.isoformat()}T10:00 calls   (and: calls script CASE)"
        )
    if "visit" in rt.plugins.enabled:
        echo(f"  visits    {cli} visits --all")
    if "agency" in rt.plugins.enabled:
        echo(f"  agencies  {folder / 'agency-files'}   ({cli} agency report)")
    if "legal" in rt.plugins.enabled:
        echo(f"  legal     {cli} legal list")
    if (folder / "outbox").is_dir():
        echo(f"  outbox    {folder / 'outbox'} (channels without an installed plugin)")
    echo(f"  evidence  {cli} events --case CASE   (database {rt.config.db})")
    echo(f"            {cli} verify   (the hash chain against the checkpoints signed after each run)")
