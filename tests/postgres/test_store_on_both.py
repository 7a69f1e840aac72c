"""A Store opened on PostgreSQL (``Store("postgresql://...")``) keeps what it keeps on SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dunning import chain_walk, evidence, importer
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
