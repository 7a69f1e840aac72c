"""The reports' kept counts (dunning.store.report_rollups) give what counting every row gives.

A varied history (bench/dispatch.py's portfolio, then events and contact
attempts written through the store at odd moments) is reported on before any
roll-up, after one, after rows written later about earlier days, after
counted attempts change or go, and after ``dunning archive`` moves cases out:
every time, on several days, in several zones and with filters, each report
with the counts equals the same report counted from the rows.
"""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
import subprocess
import sys
import zoneinfo
from pathlib import Path
from typing import Any

import pytest

from dunning.models import Event
from dunning.reports import REPORTS, Params, run
from dunning.reports.activity import COUNTED
from dunning.reports.buckets import Buckets
from dunning.reports.history import Filters
from dunning.reports.model import as_json
from dunning.store import Store
from dunning.store.database import is_postgres_url
from dunning.store.report_rollups import ROLLED_EVENT_KINDS, on_quarter
from dunning.store.reports import EPOCH_DAY_BY_JULIANDAY, EPOCH_DAY_BY_UNIXEPOCH

ROOT = Path(__file__).resolve().parents[2]
DAYS = [dt.date(2026, 1, 20), dt.date(2026, 2, 28), dt.date(2026, 4, 30)]
ZONES = ["UTC", "America/New_York", "Asia/Kolkata"]
FILTERS = [Filters(), Filters(currency="EUR"), Filters(stage="internal")]
CHANNELS = ("email", "phone", "sms", "letter")


def generated_store(db: Path, cases: int = 120, into: str | Path | None = None) -> Store:
    """bench/dispatch.py's generated portfolio (in a child: the bench's module is not a package), opened; or,
    ``into`` a PostgreSQL URL (as ``dunning_database`` gives), copied there as ``dunning db copy`` does, and that
    opened."""
    subprocess.run([sys.executable, "-c", "import sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]); "
                    "import dispatch; dispatch.generate(Path(sys.argv[2]), int(sys.argv[3]))",
                    str(ROOT / "bench"), str(db), str(cases)], check=True, timeout=60)
    if into is None or not is_postgres_url(str(into)):
        return Store(db, synchronous="normal")
    from dunning.store.copy import copy_to_postgres

    source, target = Store(db), Store(str(into))
    try:
        copy_to_postgres(source, target)
    finally:
        source.close()
    return target


@pytest.fixture
def store(tmp_path: Path, dunning_database: str | Path) -> Any:
    opened = generated_store(tmp_path / "rollups.db", into=dunning_database)
    yield opened
    opened.close()


def write_history(store: Store, rng: random.Random, first: dt.date, days: int, keys: list[str]) -> None:
    """A day's worth of events and attempts for some cases, at any minute of the day."""
    cases = store.conn.execute("SELECT c.id, c.debtor_id, c.currency, k.value FROM cases c "
                               "JOIN contacts k ON k.debtor_id = c.debtor_id ORDER BY c.id").fetchall()
    for n in range(days):
        day = first + dt.timedelta(days=n)
        with store.transaction():
            for case_id, debtor_id, currency, email in rng.sample(cases, 15):
                at = dt.datetime.combine(day, dt.time(rng.randrange(24), rng.randrange(60), rng.randrange(60)),
                                         dt.UTC)
                channel = rng.choice(CHANNELS)
                kind = rng.choice([*ROLLED_EVENT_KINDS, "note"])
                data: dict[str, Any] = {"collector": rng.choice(("ann", "bob"))}
                if kind == "payment":
                    data |= {"amount": rng.randrange(1, 50_000), "currency": currency}
                elif kind in ("blocked", "deferred"):
                    data |= {"rule": rng.choice(("window:phone", "cap:weekly", "opt_out"))}
                elif kind == "stage_changed":
                    data |= {"from": "internal", "to": "onsite"}
                store.append_events([Event(kind=kind, at=at, case_id=case_id, stage="internal",
                                           channel=channel if kind != "payment" else None, data=data)])
                key = f"k{len(keys)}"
                keys.append(key)
                store.record_attempt(debtor_id=debtor_id, case_id=case_id, channel=channel, at=at, source="test",
                                     key=key, contact=rng.choice((email, None, "+4915112345678")),
                                     role=rng.choice(("debtor", "debtor", "third_party")),
                                     connected=rng.choice((None, True, False)))


def write_ledger(store: Store, rng: random.Random) -> None:
    """Due dates over the months reported on, second invoices issued later, some closed by the books; payments
    partial, whole, too much (a surplus to credit) and reversed; some cases resolved. Written as rows: the
    reports read rows."""
    first = dt.date(2025, 12, 1)
    with store.transaction():
        for case_id, debtor_id, currency in store.conn.execute(
                "SELECT id, debtor_id, currency FROM cases").fetchall():
            due = first + dt.timedelta(days=rng.randrange(140))
            store.conn.execute("UPDATE obligations SET due_on = ?, issued_on = ? WHERE case_id = ?",
                               [due.isoformat(), rng.choice((None, (due - dt.timedelta(days=30)).isoformat())),
                                case_id])
            store.conn.execute("UPDATE cases SET opened_on = ? WHERE id = ?",
                               [(due - dt.timedelta(days=rng.randrange(10, 40))).isoformat(), case_id])
            if rng.random() < 0.4:
                later = due + dt.timedelta(days=rng.choice((-5, 0, 20, 45)))
                closed = rng.choice((None, None, (later + dt.timedelta(days=30)).isoformat()))
                store.conn.execute(
                    "INSERT INTO obligations (case_id, debtor_id, reference, amount, currency, issued_on, due_on, "
                    "closed_on) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [case_id, debtor_id, f"second-{case_id}", rng.randrange(1_000, 90_000), currency,
                     rng.choice((None, (later - dt.timedelta(days=14)).isoformat())), later.isoformat(), closed])
            for _ in range(rng.choice((0, 0, 1, 2, 3))):
                at = dt.datetime.combine(due + dt.timedelta(days=rng.randrange(-10, 120)),
                                         dt.time(rng.randrange(24), rng.randrange(60)), dt.UTC)
                amount = rng.randrange(500, 120_000)
                reversed_at = (at + dt.timedelta(days=rng.randrange(1, 40))).strftime("%Y-%m-%dT%H:%M:%SZ") \
                    if rng.random() < 0.15 else None
                store.conn.execute(
                    "INSERT INTO payments (case_id, amount, at, created_at, surplus, reversed_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    [case_id, amount, at.strftime("%Y-%m-%dT%H:%M:%SZ"), at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                     rng.choice((0, 0, 0, amount // 4)), reversed_at])
            if rng.random() < 0.2:
                store.conn.execute("UPDATE cases SET status = ?, resolved_on = ? WHERE id = ?",
                                   [rng.choice(("paid", "written_off", "settled")),
                                    (due + dt.timedelta(days=rng.randrange(10, 100))).isoformat(), case_id])


def reports(store: Store, counts: bool) -> list[Any]:
    store.report_counts = counts
    try:
        return [as_json(run(name, store, Params(as_of=day, zone=zoneinfo.ZoneInfo(zone), filters=filters)))
                for name in ("aging", "contacts", "activity", "roll-rates", "recovery")
                for day in DAYS for zone in ZONES for filters in FILTERS]
    finally:
        store.report_counts = True


def weekly_roll_rates(store: Store, counts: bool) -> list[Any]:
    """roll-rates week over week with other buckets: the arrays (dunning.reports.roll_states) and the books."""
    store.report_counts = counts
    try:
        return [as_json(run("roll-rates", store, Params(as_of=day, zone=zoneinfo.ZoneInfo(zone), period="week",
                                                        periods=20, buckets=Buckets((7, 45)))))
                for day in DAYS for zone in ZONES]
    finally:
        store.report_counts = True


def check(store: Store) -> None:
    counted, from_rows = reports(store, True), reports(store, False)
    assert counted == from_rows
    assert weekly_roll_rates(store, True) == weekly_roll_rates(store, False)
    assert any(table["rows"] for report in from_rows for table in report["tables"].values())


def test_the_counts_give_what_the_rows_give_through_corrections_changes_and_archive(store: Store, tmp_path: Path):
    rng = random.Random(7)
    keys: list[str] = []
    write_ledger(store, rng)
    write_history(store, rng, dt.date(2026, 1, 10), 60, keys)
    check(store)  # nothing counted yet: every row read after the (zero) marks
    attempts_mark, _ = store.roll_up_reports()
    assert attempts_mark == store.conn.execute("SELECT max(id) FROM contact_attempts").fetchone()[0]
    assert store.conn.execute("SELECT count(*) FROM report_event_rollup").fetchone()[0] > 0
    check(store)
    # Written after the roll-up: more days, and rows about earlier days (a correction, an agency's return).
    write_history(store, rng, dt.date(2026, 3, 11), 30, keys)
    write_history(store, rng, dt.date(2026, 1, 25), 5, keys)
    check(store)
    # Counted attempts change: outcomes filled in, numbers dialled, one forgotten; the newest gone, its id given again.
    with store.transaction():
        for key in rng.sample(keys[:attempts_mark], 40):
            store.update_attempt(key, contact=rng.choice((None, "+4915112345678")),
                                 connected=rng.choice((True, False)), role=rng.choice((None, "debtor")))
        store.forget_attempt(keys[3])
    store.roll_up_reports()
    newest = store.conn.execute("SELECT id, key FROM contact_attempts ORDER BY id DESC LIMIT 1").fetchone()
    with store.transaction():
        store.forget_attempt(newest[1])
        store.record_attempt(debtor_id=store.conn.execute("SELECT id FROM debtors LIMIT 1").fetchone()[0],
                             case_id=1, channel="sms", at=dt.datetime(2026, 2, 2, 10, 7, tzinfo=dt.UTC),
                             source="test", key="again", connected=True)
    [(again,)] = store.conn.execute("SELECT id FROM contact_attempts WHERE key = 'again'").fetchall()
    # SQLite gives the newest rowid again once its row is gone; PostgreSQL's identity never gives one twice.
    assert again == newest[0] if store.dialect == "sqlite" else again > newest[0]
    check(store)
    # `dunning archive`: resolved cases' attempts leave, their events become stubs. (Archiving is SQLite's
    # alone: an attached file. On PostgreSQL the command says so and stops.)
    if store.dialect == "sqlite":
        with store.transaction():
            store.conn.execute("UPDATE cases SET status = 'paid', resolved_on = '2026-02-01' WHERE id % 3 = 0")
        assert not store.conn.in_transaction
        moved = store.archive_cases(store.resolved_before(dt.date(2026, 5, 1)), tmp_path / "archive.db",
                                    dt.datetime(2026, 5, 2, tzinfo=dt.UTC), before=dt.date(2026, 5, 1))
        assert moved.rows["contact_attempts"] > 0 and moved.events > 0
        check(store)
    store.roll_up_reports()
    check(store)


def test_the_counted_kinds_are_those_the_reports_read():
    assert set(COUNTED) | {"blocked", "deferred"} == set(ROLLED_EVENT_KINDS)
    assert set(REPORTS) >= {"contacts", "activity"}


@pytest.mark.parametrize(("moment", "expected"), [
    ("", True), ("2026-03-02T00:00:00Z", True), ("2026-03-02T05:30:00Z", True), ("2026-03-02T05:20:00Z", False),
    ("2026-03-02T05:15:30Z", False), ("2026-03-02T05:15:00+01:00", False), ("2026-03-02T05:15:00.000Z", False),
])
def test_counts_answer_only_ranges_on_quarter_hours(moment: str, expected: bool):
    assert on_quarter(moment) is expected


@pytest.mark.parametrize("text", ["2026-01-01", "2026-03-31T23:59:59Z", "2026-04-01T00:00:00Z", "1969-12-31",
                                  "1960-03-01T10:00:00Z", "2100-02-28"])
def test_both_ways_of_reading_a_day_give_the_days_since_1970(text: str):
    """roll-rates reads days with unixepoch() where SQLite has it (3.38), julianday() before: the same number."""
    expected = (dt.date.fromisoformat(text[:10]) - dt.date(1970, 1, 1)).days
    conn = sqlite3.connect(":memory:")
    has_unixepoch = sqlite3.sqlite_version_info >= (3, 38)
    for expression in [EPOCH_DAY_BY_JULIANDAY, *([EPOCH_DAY_BY_UNIXEPOCH] if has_unixepoch else [])]:
        assert conn.execute(f"SELECT {expression.format('?')}", [text]).fetchone()[0] == expected
