"""A week beside the ERP: daily syncs keep dunning's items equal to the books'; a dispute holds one invoice only;
a forced escalation says so."""

from __future__ import annotations

import csv
import datetime as dt
import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dunning import Delivery, dispatch, hookimpl, stage_moves
from dunning.models import Status
from dunning.runtime import Runtime
from dunning.sync_apply import sync_file


@pytest.fixture
def dunning_runtime(dunning_database: str | Path, dunning_runtime: Callable[..., Runtime]) -> Callable[..., Runtime]:
    """Every runtime here opens its store on SQLite, then (the test's second run) on PostgreSQL. The database is
    asked for first, so it outlives the runtimes: they are closed before it is dropped."""
    return functools.partial(dunning_runtime, database=dunning_database)


UTC = dt.UTC
MONDAY = dt.date(2026, 3, 2)
COLUMNS = ["debtor_id", "name", "kind", "email", "country", "reference", "amount", "currency", "due_on",
           "open_amount", "status"]


class Books:
    """A simulated ERP: debtors and their items, with amount, open amount and status, as the books keep them."""

    def __init__(self) -> None:
        self.debtors: dict[str, dict[str, str]] = {}
        self.items: dict[tuple[str, str], dict[str, Any]] = {}

    def debtor(self, debtor_id: str, name: str, email: str) -> None:
        self.debtors[debtor_id] = {"name": name, "email": email}

    def invoice(self, debtor_id: str, reference: str, amount: int, due_on: str) -> None:
        self.items[(debtor_id, reference)] = {"amount": amount, "open": amount, "due_on": due_on, "status": "open"}

    def export(self, path: Path) -> Path:
        """Today's open items, as the ERP's report lists them: paid and credited ones drop out the next day."""
        with path.open("w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=COLUMNS)
            writer.writeheader()
            for (debtor_id, reference), item in self.items.items():
                if item["status"] == "gone":
                    continue
                who = self.debtors[debtor_id]
                writer.writerow({"debtor_id": debtor_id, "name": who["name"], "kind": "company",
                                 "email": who["email"], "country": "GB", "reference": reference,
                                 "amount": f"{item['amount'] / 100:.2f}", "currency": "EUR",
                                 "due_on": item["due_on"], "open_amount": f"{item['open'] / 100:.2f}",
                                 "status": item["status"]})
        return path

    def open_amounts(self) -> dict[tuple[str, str], int]:
        return {key: (item["open"] if item["status"] == "open" else 0) for key, item in self.items.items()}


def dunning_open_amounts(rt: Runtime, keys: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    found = {}
    for debtor_id, reference in keys:
        obligation = rt.store.obligation_by_reference(debtor_id, reference)
        found[(debtor_id, reference)] = 0 if obligation.closed_reason else obligation.open_amount
    return found


def sync(rt: Runtime, books: Books, folder: Path, day: dt.date) -> Any:
    now = dt.datetime.combine(day, dt.time(7), UTC)
    return sync_file(rt, books.export(folder / f"erp-{day}.csv"), now=now)


def test_a_week_of_daily_syncs_keeps_every_item_equal_to_the_books(dunning_runtime, tmp_path: Path):
    rt = dunning_runtime()
    books = Books()
    books.debtor("D1", "Acme Ltd", "ap@acme.example")
    books.debtor("D2", "Bolt GmbH", "rechnung@bolt.example")
    books.debtor("D3", "Crane plc", "accounts@crane.example")
    books.invoice("D1", "INV-1", 100000, "2026-01-10")
    books.invoice("D1", "INV-2", 50000, "2026-01-20")
    books.invoice("D2", "INV-9", 30000, "2026-01-15")
    books.invoice("D3", "INV-20", 80000, "2026-02-01")

    def change(day: int) -> None:
        if day == 1:
            books.items[("D1", "INV-2")]["open"] = 20000  # partly paid at the bank the ERP reads
            books.invoice("D1", "INV-3", 25000, "2026-03-20")
        elif day == 2:
            books.items[("D2", "INV-9")]["status"] = "credited"  # a credit note cancels it
            books.debtor("D1", "Acme Holdings Ltd", "billing@acme.example")  # renamed, new accounts address
        elif day == 3:
            books.items[("D1", "INV-1")]["status"] = "gone"  # vanishes from the list: settled elsewhere
            books.items[("D2", "INV-9")]["status"] = "gone"
            books.items[("D3", "INV-20")].update(amount=70000, open=70000)  # a price corrected
        elif day == 4:
            books.items[("D3", "INV-20")]["open"] = 0  # paid in full
        elif day == 5:
            books.items[("D3", "INV-20")]["status"] = "gone"
            books.invoice("D1", "INV-4", 12000, "2026-03-31")
            books.items[("D1", "INV-2")]["open"] = 0

    keys: list[tuple[str, str]] = []
    for offset in range(7):
        day = MONDAY + dt.timedelta(days=offset)
        change(offset)
        sync(rt, books, tmp_path, day)
        keys = list(books.items)
        assert dunning_open_amounts(rt, keys) == books.open_amounts(), f"day {offset}"
        for debtor_id in books.debtors:
            owed = sum(v for (d, _), v in books.open_amounts().items() if d == debtor_id)
            open_cases = rt.store.open_cases_of(debtor_id)
            assert sum(c.balance for c in open_cases) == owed, f"day {offset}, {debtor_id}"
        events = rt.store.last_seq()
        again = sync(rt, books, tmp_path, day)
        assert not again.changed and rt.store.last_seq() == events, f"day {offset}: the same file changed something"

    # Credited, vanished and paid items closed with their reasons; D2 and D3 owe nothing and are resolved as paid.
    closed = {(e.data["reference"], e.data["reason"]) for e in rt.store.events(kind="obligation_closed")}
    assert closed == {("INV-9", "credited"), ("INV-1", "paid_elsewhere"), ("INV-20", "paid_elsewhere"),
                      ("INV-2", "paid_elsewhere")}
    for debtor_id in ("D2", "D3"):
        [case] = [c for c in rt.store.cases() if c.debtor_id == debtor_id]
        assert case.status is Status.PAID
    assert [e.data["reason"] for e in rt.store.events(kind="resolved")] == ["closed in the books"] * 2
    [price] = [e for e in rt.store.events(kind="adjusted") if e.data["reference"] == "INV-20"
               and e.data["after"]["amount"] == 70000]
    assert price.data["before"]["amount"] == 80000 and price.data["reason"] == "sync"
    # The rename is an event naming the field; the old email is kept, inactive, and no longer used.
    [renamed] = [e for e in rt.store.events(kind="debtor_changed") if "changes" in e.data]
    assert renamed.data["changes"]["name"] == {"before": "Acme Ltd", "after": "Acme Holdings Ltd"}
    assert rt.store.debtor("D1").name == "Acme Holdings Ltd"
    assert [c.value for c in rt.store.contacts("D1")] == ["billing@acme.example"]
    assert [(c.value, active) for c, active, _ in rt.store.all_contacts("D1")] == [
        ("ap@acme.example", False), ("billing@acme.example", True)]


class ContextChannel:
    """An email channel that keeps what each message would state."""

    name = "email"
    needs = ("email",)

    def __init__(self) -> None:
        self.stated: list[dict[str, Any]] = []

    def send(self, action: Any, case: Any, ctx: Any) -> Delivery:
        context = ctx.template_context
        self.stated.append({"case": case.id, "to": [c.value for c in ctx.contacts],
                            "overdue": context["overdue_minor"],
                            "items": [i["reference"] for i in context["obligations"]]})
        return Delivery.sent(f"rec:{ctx.key}")


class Channels:
    def __init__(self, channel: ContextChannel):
        self.channel = channel

    @hookimpl
    def register_channels(self, register: Any) -> None:
        register(self.channel)


def test_a_dispute_of_one_invoice_leaves_the_other_collected(dunning_runtime, tmp_path: Path):
    from dunning import corrections

    channel = ContextChannel()
    rt = dunning_runtime(plugins=[Channels(channel)], enabled=["email"],
                         policy='name = "daily"\n[[steps]]\nname = "reminder"\ndpd = [1, 9]\nevery = 1\n'
                                'channels = ["email"]\ntemplate = "overdue-notice"\n')
    books = Books()
    books.debtor("D1", "Acme Ltd", "ap@acme.example")
    books.invoice("D1", "INV-1", 100000, "2026-03-01")
    books.invoice("D1", "INV-2", 40000, "2026-03-01")
    sync(rt, books, tmp_path, MONDAY)
    [case] = rt.store.cases()
    day = dt.datetime(2026, 3, 3, 9, tzinfo=UTC)
    dispatch.run(rt, day)
    assert channel.stated[-1]["items"] == ["INV-1", "INV-2"] and channel.stated[-1]["overdue"] == 140000

    corrections.dispute(rt, "INV-1", reason="goods damaged on delivery", by="ana", now=day)
    dispatch.run(rt, day + dt.timedelta(days=1))
    assert channel.stated[-1] == {"case": case.id, "to": ["ap@acme.example"], "overdue": 40000, "items": ["INV-2"]}
    assert rt.store.case(case.id).balance == 140000  # the books still hold it; only the demands leave it out

    corrections.dispute(rt, f"{case.id}/INV-2", reason="disputes everything now", by="ana", now=day)
    sent = len(channel.stated)
    dispatch.run(rt, day + dt.timedelta(days=2))
    assert len(channel.stated) == sent  # nothing undisputed left to ask for
    [skipped] = rt.store.events(kind="skipped")[-1:]
    assert skipped.data["rule"] == "disputed"

    corrections.dispute(rt, "INV-1", reason="credit note agreed", by="ana", now=day, lift=True)
    dispatch.run(rt, day + dt.timedelta(days=3))
    assert channel.stated[-1]["items"] == ["INV-1"] and channel.stated[-1]["overdue"] == 100000


def test_a_forced_escalation_is_recorded_as_forced(dunning_runtime, tmp_path: Path):
    rt = dunning_runtime()
    books = Books()
    books.debtor("D1", "Acme Ltd", "ap@acme.example")
    books.invoice("D1", "INV-1", 100000, "2026-01-10")
    sync(rt, books, tmp_path, MONDAY)
    [case] = rt.store.cases()
    now = dt.datetime(2026, 3, 2, 10, tzinfo=UTC)
    done = stage_moves.escalate(rt, case.id, "litigation", now=now, reason="director absconded", by="sam",
                                force=True)
    assert done.moved and rt.store.case(case.id).stage == "litigation"
    [moved] = rt.store.events(kind="stage_changed")
    assert moved.data["forced"] is True and moved.data["by"] == "sam"
    assert any("below the policy's minimum" in o for o in moved.data["overridden"])
    assert any("requires approval" in o for o in moved.data["overridden"])


def test_a_contact_gone_from_the_books_is_never_written_to_again(dunning_runtime, tmp_path: Path):
    channel = ContextChannel()
    rt = dunning_runtime(plugins=[Channels(channel)], enabled=["email"],
                         policy='name = "daily"\n[[steps]]\nname = "reminder"\ndpd = [1, 9]\nevery = 1\n'
                                'channels = ["email"]\ntemplate = "overdue-notice"\n')
    books = Books()
    books.debtor("D1", "Acme Ltd", "ap@acme.example")
    books.invoice("D1", "INV-1", 100000, "2026-03-01")
    sync(rt, books, tmp_path, MONDAY)
    dispatch.run(rt, dt.datetime(2026, 3, 3, 9, tzinfo=UTC))
    books.debtor("D1", "Acme Ltd", "billing@acme.example")
    sync(rt, books, tmp_path, MONDAY + dt.timedelta(days=2))
    dispatch.run(rt, dt.datetime(2026, 3, 4, 9, tzinfo=UTC))
    assert [s["to"] for s in channel.stated] == [["ap@acme.example"], ["billing@acme.example"]]


def test_an_item_the_books_list_open_again_reopens_its_resolved_case(dunning_runtime, tmp_path: Path):
    rt = dunning_runtime()
    books = Books()
    books.debtor("D1", "Acme Ltd", "ap@acme.example")
    books.invoice("D1", "INV-1", 100000, "2026-02-01")
    sync(rt, books, tmp_path, MONDAY)
    books.items[("D1", "INV-1")]["open"] = 0  # paid ... and the cheque bounces the next day
    assert sync(rt, books, tmp_path, MONDAY + dt.timedelta(days=1)).resolved
    books.items[("D1", "INV-1")]["open"] = 100000
    report = sync(rt, books, tmp_path, MONDAY + dt.timedelta(days=2))
    [adjustment] = report.debtors[0].adjusted
    assert adjustment.reopens
    [case] = rt.store.cases()
    assert (case.status, case.balance, case.resolved_on) == (Status.OPEN, 100000, None)
    assert [e.kind for e in rt.store.events(case_id=case.id)][-2:] == ["reopened", "adjusted"]
