"""The import's writing pass, a chunk at a time: cases it opens get the figures a full recomputation gives."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from dunning import creditor_reference
from dunning.importer import import_file
from dunning.store import Store, obligation_import


def test_cases_opened_in_chunks_have_the_figures_a_recomputation_gives(dunning_database: Path | str, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(obligation_import, "_CHUNK", 3)
    store = Store(dunning_database)
    path = tmp_path / "in.csv"
    # Debtors on 1 to 4 rows each, so that cases start in one chunk and go on in the next; two currencies.
    rows = [(f"D{n}", f"INV-{n}-{k}", f"{10 + k}.50", "EUR" if n % 3 else "GBP", f"2026-0{1 + k}-1{n % 9}")
            for n in range(8) for k in range(1 + n % 4)]
    path.write_text("debtor_id,name,reference,amount,currency,due_on\n" + "".join(
        f"{d},Name {d},{ref},{amount},{cur},{due}\n" for d, ref, amount, cur, due in rows), encoding="utf-8")
    now = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
    result, checked = import_file(store, path, now=now, today=now.date())
    assert checked == len(rows) and result.obligations_added == len(rows) and result.cases_opened == 8
    conn = store.conn  # read outside the store's transactions, and inside the one below
    columns = "id, balance, anchor_due_on, next_action_on, creditor_reference, opened_on, stage, status"
    written = conn.execute(f"SELECT {columns} FROM cases ORDER BY id").fetchall()
    assert [r[0] for r in written] == list(range(1, 9))
    assert all(r[4] == creditor_reference.for_case(r[0]) for r in written)
    with store.transaction():
        for case_id, *_ in written:
            earliest = conn.execute("SELECT min(due_on) FROM obligations WHERE case_id = ?", [case_id]).fetchone()[0]
            store.conn.execute("UPDATE cases SET next_action_on = NULL WHERE id = ?", [case_id])
            store._refresh_balance(case_id, wake_on=obligation_import._wake(now.date(), earliest))
    assert conn.execute(f"SELECT {columns} FROM cases ORDER BY id").fetchall() == written
    store.close()
