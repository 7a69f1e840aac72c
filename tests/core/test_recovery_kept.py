"""``recovery`` from m027's kept moves and payment contacts, over arrays, gives what reading the events gives.

A varied history on bench/dispatch.py's portfolio: stage changes back and
forth (some at the same second, some naming no stage left, some after the
report's day), agency placements with and without their end, contacts of
every kind with and without a channel, calls with and without a collector;
payments partial, surplus and reversed (tests/core/test_report_rollups.py's
ledger); then contacts written later about moments before payments already
recorded, a payment moved to another moment, one removed, and
``dunning archive`` moving cases out. Every time, on several days, in
several zones and with filters, the report from the kept figures equals the
report from the events (``report_counts = False``), and the fast path is the
one taken.
"""

from __future__ import annotations

import datetime as dt
import random
import zoneinfo
from pathlib import Path
from typing import Any

import pytest

from dunning.models import Event
from dunning.reports import Params, recovery_arrays, run
from dunning.reports.history import Filters
from dunning.reports.model import as_json
from dunning.store import Store
from tests.core.test_report_rollups import generated_store, write_ledger

# m027's kept moves and payment contacts are kept by SQLite triggers, which have no PostgreSQL form yet: there the
# recovery report reads the events (docs/postgresql.md), so this comparison is SQLite's alone for now.
pytestmark = pytest.mark.sqlite_only
DAYS = [dt.date(2026, 1, 31), dt.date(2026, 3, 15), dt.date(2026, 5, 31)]
ZONES = ["UTC", "America/New_York", "Asia/Kolkata"]
FILTERS = [Filters(), Filters(currency="EUR"), Filters(stage="onsite"), Filters(agency="eastgate"),
           Filters(collector="ann")]
STAGES = ("internal", "onsite", "agency", "litigation")


@pytest.fixture
def portfolio(tmp_path: Path) -> Any:
    """bench/dispatch.py's portfolio of 120 cases, as tests/core/test_report_rollups.py makes it."""
    opened = generated_store(tmp_path / "recovery.db")
    yield opened
    opened.close()


def moment(rng: random.Random, first: dt.date, days: int) -> dt.datetime:
    day = first + dt.timedelta(days=rng.randrange(days))
    return dt.datetime.combine(day, dt.time(rng.randrange(24), rng.randrange(60), rng.randrange(60)), dt.UTC)


def write_moves_and_contacts(store: Store, rng: random.Random, first: dt.date, days: int) -> None:
    cases = [case_id for (case_id,) in store.conn.execute("SELECT id FROM cases ORDER BY id")]
    events: list[Event] = []
    for case_id in rng.sample(cases, len(cases) * 2 // 3):
        at = moment(rng, first, days)
        stage = "internal"
        for _ in range(rng.choice((1, 1, 2, 3))):
            to = rng.choice([s for s in STAGES if s != stage])
            data: dict[str, Any] = {"to": to}
            if rng.random() < 0.85:
                data["from"] = stage
            events.append(Event(kind="stage_changed", at=at, case_id=case_id, stage=stage, data=data))
            if rng.random() < 0.2:  # another change at the same second
                events.append(Event(kind="stage_changed", at=at, case_id=case_id, stage=to,
                                    data={"from": to, "to": stage}))
            stage = to
            at += dt.timedelta(days=rng.randrange(0, 50), minutes=rng.randrange(600))
    for case_id in rng.sample(cases, len(cases) // 3):
        at = moment(rng, first, days)
        for _ in range(rng.choice((1, 1, 2))):
            events.append(Event(kind="agency:placed", at=at, case_id=case_id, stage="agency", channel="agency",
                                data={"agency": rng.choice(("eastgate", "harbour", "")),
                                      "balance": rng.randrange(1_000, 90_000)}))
            if rng.random() < 0.6:
                at += dt.timedelta(days=rng.randrange(0, 60))
                events.append(Event(kind="agency:placement_ended", at=at, case_id=case_id, stage="agency",
                                    data={}))
            at += dt.timedelta(days=rng.randrange(1, 30))
    write_contacts(store, rng, cases, first, days, events)


def write_contacts(store: Store, rng: random.Random, cases: list[int], first: dt.date, days: int,
                   events: list[Event]) -> None:
    for case_id in rng.sample(cases, len(cases) * 3 // 4):
        for _ in range(rng.randrange(1, 6)):
            kind = rng.choice(("sent", "sent", "phone:call_logged", "visit:logged", "note"))
            data: dict[str, Any] = {}
            if kind == "phone:call_logged" and rng.random() < 0.8:
                data["collector"] = rng.choice(("ann", "bob", "cy"))
            channel = {"sent": rng.choice(("email", "letter", "sms", None)), "phone:call_logged": "phone",
                       "visit:logged": rng.choice(("visit", None)), "note": None}[kind]
            events.append(Event(kind=kind, at=moment(rng, first, days), case_id=case_id, stage="internal",
                                channel=channel, data=data))
    with store.transaction():
        store.append_events(events)


def both(store: Store) -> tuple[list[Any], list[Any]]:
    kept = []
    for counts in (True, False):
        store.report_counts = counts
        try:
            kept.append([as_json(run("recovery", store, Params(as_of=day, zone=zoneinfo.ZoneInfo(zone),
                                                                   filters=filters, periods=6)))
                         for day in DAYS for zone in ZONES for filters in FILTERS])
        finally:
            store.report_counts = True
    return kept[0], kept[1]


def check(store: Store) -> list[Any]:
    until = "2026-06-01T00:00:00Z"
    params = Params(as_of=dt.date(2026, 5, 31), zone=zoneinfo.ZoneInfo("UTC"))
    rows = store.report_recovery_rows(until, 30)
    assert rows is not None and recovery_arrays.sums(rows, None, params) is not None  # the kept figures answer
    kept, from_events = both(store)
    assert kept == from_events
    return from_events


def test_recovery_from_kept_figures_equals_recovery_from_the_events(portfolio: Store, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch):
    store = portfolio
    monkeypatch.setattr(recovery_arrays, "CHUNK", 7)  # the cases' stays in many chunks, as at a million cases
    rng = random.Random(12)
    write_ledger(store, rng)
    write_moves_and_contacts(store, rng, dt.date(2025, 12, 1), 170)
    reports = check(store)
    whole = reports[len(reports) - len(FILTERS)]  # the last day, unfiltered
    tables = whole["tables"]
    assert {row["stage"] for row in tables["by_stage"]["rows"]} >= {"internal", "onsite", "agency", "litigation"}
    assert {row["agency"] for row in tables["by_agency"]["rows"]} == {"eastgate", "harbour"}
    assert len({row["channel"] for row in tables["by_channel"]["rows"]}) >= 4
    assert {"ann", "(no call)"} <= {row["collector"] for row in tables["by_collector"]["rows"]}
    # Contacts written now about moments before payments already recorded: the payments' kept contacts follow.
    cases = [case_id for (case_id,) in store.conn.execute("SELECT DISTINCT case_id FROM payments")]
    events: list[Event] = []
    write_contacts(store, rng, cases, dt.date(2025, 12, 1), 170, events)
    before = store.conn.execute("SELECT count(*) FROM report_payment_contacts").fetchone()[0]
    check(store)
    # A payment moved to another moment, one taken out, one recorded now about last month.
    with store.transaction():
        moved, gone = store.conn.execute("SELECT id FROM payments ORDER BY id LIMIT 2").fetchall()
        store.conn.execute("UPDATE payments SET at = '2026-02-14T08:30:00Z' WHERE id = ?", moved)
        store.conn.execute("DELETE FROM payments WHERE id = ?", gone)
        store.conn.execute("INSERT INTO payments (case_id, amount, at, created_at) VALUES (?, 12345, "
                           "'2026-04-02T10:00:00Z', '2026-05-30T10:00:00Z')", [cases[0]])
    assert store.conn.execute("SELECT count(*) FROM report_payment_contacts").fetchone()[0] == before
    check(store)
    # `dunning archive`: resolved cases' payments leave, their events become stubs.
    with store.transaction():
        store.conn.execute("UPDATE cases SET status = 'paid', resolved_on = '2026-02-01' WHERE id % 4 = 0")
    moved_out = store.archive_cases(store.resolved_before(dt.date(2026, 5, 1)), tmp_path / "archive.db",
                                    dt.datetime(2026, 5, 2, tzinfo=dt.UTC), before=dt.date(2026, 5, 1))
    assert moved_out.events > 0
    check(store)


def test_a_payment_without_its_kept_contact_is_read_from_the_events(portfolio: Store):
    store = portfolio
    rng = random.Random(3)
    write_ledger(store, rng)
    write_moves_and_contacts(store, rng, dt.date(2025, 12, 1), 170)
    with store.transaction():
        store.conn.execute("DELETE FROM report_payment_contacts WHERE payment_id = "
                           "(SELECT min(id) FROM payments)")
    rows = store.report_recovery_rows("2026-06-01T00:00:00Z", 30)
    assert rows is not None
    assert recovery_arrays.sums(rows, None, Params(as_of=dt.date(2026, 5, 31), zone=zoneinfo.ZoneInfo("UTC"))) is None
    kept, from_events = both(store)
    assert kept == from_events
