"""A Store opened on PostgreSQL (``Store("postgresql://...")``) keeps what it keeps on SQLite."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from dunning import chain_walk, evidence, importer
from dunning.models import Event
from dunning.store import Store
from tests.core.test_debtor_zone import CSV, NOW


@pytest.fixture
def store(tmp_path: Path, dunning_database: str | Path) -> Iterator[Store]:
    store = Store(dunning_database)
    path = tmp_path / "debtors.csv"
    path.write_text(CSV)
    importer.import_file(store, path, now=NOW, today=NOW.date())
    yield store
    store.close()


def test_an_import_keeps_the_same_rows(store: Store) -> None:
    assert store.counts() == {"debtors": 4, "cases": 4, "obligations": 5, "actions": 0, "events": 9}
    ny = store.open_case_id("NY", "USD")
    assert ny is not None
    assert [o.reference for o in store.obligations(ny)] == ["I2", "I3"]
    assert store.case(ny).balance == 2200


def test_the_evidence_chain_verifies_both_ways(store: Store) -> None:
    # The hashes are kept as 32 bytes: a BLOB in SQLite's TEXT column, a BYTEA column on PostgreSQL.
    hashes = [row[0] for row in store.conn.execute("SELECT hash FROM events ORDER BY seq")]
    assert len(hashes) == 9 and all(isinstance(h, bytes) and len(h) == 32 for h in hashes)
    exact = evidence.verify_chain(store.event_rows_for_verify())
    assert (exact.checked, exact.broken_at) == (9, None)
    fast = chain_walk.walk(store.event_links())
    assert (fast.checked, fast.broken_at) == (9, None)
    assert store.chain_head() == (9, hashes[-1].hex())


def test_each_database_opens_with_the_cores_schema_and_nothing_in_it(dunning_database: str | Path,
                                                                   request: pytest.FixtureRequest) -> None:
    # On PostgreSQL a copy of the migrated template: the same steps applied, no row of another test's.
    store = Store(dunning_database)
    try:
        assert store.dialect == request.node.callspec.params["dunning_database"]
        assert store.counts() == {"debtors": 0, "cases": 0, "obligations": 0, "actions": 0, "events": 0}
        assert store.conn.execute("SELECT count(*) FROM mirror_cursors").fetchone() == (0,)
    finally:
        store.close()


@pytest.mark.sqlite_only
def test_a_test_of_sqlites_own_is_given_the_file_alone(dunning_database: str | Path,
                                                       request: pytest.FixtureRequest) -> None:
    assert request.node.callspec.params["dunning_database"] == "sqlite"
    assert isinstance(dunning_database, Path)


def test_sums_and_averages_read_as_on_sqlite(dunning_database: str | Path) -> None:
    # PostgreSQL's sum of a BIGINT is NUMERIC: the store reads it as SQLite gives it, an int (avg: a float).
    store = Store(dunning_database)
    try:
        with store.transaction():
            store.set_mirror_cursor("a", 3)
            store.set_mirror_cursor("b", 4)
            store.set_mirror_cursor("b", 2)  # never backwards
        total, mean = store.conn.execute("SELECT sum(seq), avg(seq) FROM mirror_cursors").fetchone()
        assert (total, mean) == (7, 3.5) and isinstance(total, int) and isinstance(mean, float)
        assert store.mirror_cursors() == {"a": 3, "b": 4}
    finally:
        store.close()


def test_the_reports_read_the_facts_in_events_data_on_both(store: Store) -> None:
    # json_extract on SQLite, ->> on PostgreSQL (dunning.store.dialect.json_field): the same rows either way.
    ny = store.open_case_id("NY", "USD")
    assert ny is not None
    at = dt.datetime(2026, 3, 2, 9, 20, tzinfo=dt.UTC)
    with store.transaction():
        store.append_events([
            Event(kind="stage_changed", at=at, case_id=ny, data={"from": "internal", "to": "onsite"}),
            Event(kind="phone:call_logged", at=at, case_id=ny, channel="phone", data={"collector": "ana"}),
            Event(kind="agency:placed", at=at, case_id=ny, data={"agency": "north", "balance": 2200}),
            Event(kind="payment", at=at, case_id=ny, data={"amount": 700, "currency": "USD", "rule": "r1"}),
            Event(kind="payment", at=at, case_id=ny, data={"amount": 300, "currency": "USD", "rule": "r1"}),
        ])
    until = "2026-03-03T00:00:00Z"
    facts = sorted(store.report_case_facts(until), key=lambda row: row[2])
    assert [row[2:] for row in facts] == [
        ("agency:placed", None, None, None, "north", 2200),
        ("phone:call_logged", None, None, "ana", None, None),
        ("stage_changed", "onsite", "internal", None, None, None),
    ]
    groups = list(store.report_event_groups(["payment"], until, "2026-03-02T00:00:00Z", case_ids=[ny]))
    assert groups == [("payment", None, "2026-03-02T09:15", "r1", "USD", 2, 1000)]
    assert list(store.report_promises(until)) == []
    assert list(store.report_payment_contacts(until, 30)) == []
