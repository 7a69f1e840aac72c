"""Two transactions that change one case and append to the evidence chain in opposite orders: no deadlock.

One changes the case's row and then appends; the other appends and then changes the same row. Were the
chain's lock taken at the first append, each would hold what the other waits for and PostgreSQL would roll
one of them back (``deadlock detected``). A store's write transaction (``BEGIN IMMEDIATE``) takes the
chain's lock as it begins, on PostgreSQL as SQLite takes its write lock: the second waits for the first.
"""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest

from dunning import chain_walk
from dunning.models import Debtor, Event
from dunning.store import ImportedObligation, Store

NOW = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)


@pytest.fixture
def case_id(dunning_postgres_url: str) -> int:
    store = Store(dunning_postgres_url)
    try:
        _, cases = store.import_obligations(
            [ImportedObligation(debtor=Debtor(id="D1", name="Debtor 1"), contacts=(), reference="INV-1",
                                amount=10_000, currency="EUR", issued_on=None, due_on=dt.date(2026, 3, 1))],
            NOW, NOW.date())
        return cases[0]
    finally:
        store.close()


def test_changing_a_case_and_appending_in_opposite_orders_does_not_deadlock(dunning_postgres_url: str, case_id: int,
                                                                          tmp_path: Path) -> None:
    first, second = Store(dunning_postgres_url), Store(dunning_postgres_url)
    row_taken, appended = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def change_then_append() -> None:
        try:
            with first.transaction():
                first.conn.execute("UPDATE cases SET next_action_on = ? WHERE id = ?", ["2026-03-05", case_id])
                row_taken.set()
                # The other appends now, if it can: then it changes this case's row, which this one holds.
                appended.wait(timeout=3)
                first.append_events([Event(kind="note", at=NOW, case_id=case_id, data={"by": "first"})])
        except BaseException as exc:  # the test reports it below
            errors.append(exc)
            row_taken.set()

    def append_then_change() -> None:
        row_taken.wait(timeout=10)
        try:
            with second.transaction():
                second.append_events([Event(kind="note", at=NOW, case_id=case_id, data={"by": "second"})])
                appended.set()
                second.conn.execute("UPDATE cases SET next_action_on = ? WHERE id = ?", ["2026-03-06", case_id])
        except BaseException as exc:  # the test reports it below
            errors.append(exc)
            appended.set()

    threads = [threading.Thread(target=change_then_append), threading.Thread(target=append_then_change)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    try:
        assert errors == []
        # The second waited for the first to commit: its change is the one that stays, its event the last.
        assert first.conn.execute("SELECT next_action_on FROM cases WHERE id = ?", [case_id]).fetchone() == \
            ("2026-03-06",)
        notes = first.conn.execute("SELECT data FROM events WHERE kind = 'note' ORDER BY seq").fetchall()
        assert [n[0] for n in notes] == ['{"by":"first"}', '{"by":"second"}']
        assert chain_walk.walk(first.event_links()).ok
    finally:
        first.close()
        second.close()
