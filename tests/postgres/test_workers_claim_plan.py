"""On PostgreSQL a worker's claim reads the ready actions in the index's order and stops at its batch (m038)."""

from __future__ import annotations

import datetime as dt

from dunning.models import Debtor
from dunning.store import ImportedObligation, Store

NOW = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
# The claim's choice of rows (dunning.store.claims), as PostgreSQL is given it.
CLAIM = ("EXPLAIN SELECT id FROM actions WHERE status = 'pending' AND not_before <= ? "
         "ORDER BY not_before, id LIMIT 200 FOR UPDATE SKIP LOCKED")


def test_the_claim_takes_its_batch_from_the_index_without_sorting_every_ready_action(dunning_postgres_url: str) -> None:
    store = Store(dunning_postgres_url)
    try:
        _, (case_id,) = store.import_obligations(
            [ImportedObligation(debtor=Debtor(id="D1", name="Debtor 1"), contacts=(), reference="INV-1",
                                amount=10_000, currency="EUR", issued_on=None, due_on=dt.date(2026, 3, 1))],
            NOW, NOW.date())
        # A day's outbox: every action ready at the same moment, most of them already sent.
        with store.transaction():
            store.conn.executemany(
                "INSERT INTO actions (key, case_id, kind, step, channel, planned_for, not_before, status, created_at, "
                "updated_at) VALUES (?, ?, 'outreach', 'notice', 'email', '2026-03-02', '2026-03-02T09:00:00Z', ?, "
                "'2026-03-01T00:00:00Z', '2026-03-01T00:00:00Z')",
                [(f"k{i}", case_id, "pending" if i % 4 else "sent") for i in range(20_000)])
        store.conn.execute("ANALYZE actions")
        plan = "\n".join(row[0] for row in store.conn.execute(CLAIM, ["2026-03-02T10:00:00Z"]).fetchall())
    finally:
        store.close()
    assert "actions_ready" in plan, plan
    assert "Sort" not in plan, plan  # neither a sort of all 15,000 ready actions nor an incremental one
