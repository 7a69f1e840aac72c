"""A reference given twice for one debtor is found wherever the second one is: in the debtor's own rows (kept in
memory while they go on), when the debtor comes back later in the file, after a row with a problem, and past the
number of references kept in memory; with the line of the first, as before."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from dunning import importer
from dunning.importer import ImportError_, import_file
from dunning.store import Store

_HEADER = "debtor_id,name,reference,amount,currency,due_on\n"


def _refused(tmp_path: Path, rows: list[tuple[str, str, str]]) -> list[str]:
    """The problem lines of importing ``rows`` (debtor, reference, amount), one process; nothing is written."""
    path = tmp_path / "in.csv"
    path.write_text(_HEADER + "".join(f"{d},Name {d},{ref},{amount},EUR,2026-02-01\n" for d, ref, amount in rows),
                    encoding="utf-8")
    store = Store(tmp_path / "d.db")
    now = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
    with pytest.raises(ImportError_) as refused:
        import_file(store, path, now=now, today=now.date(), two_processes=False)
    assert store.conn.execute("SELECT count(*) FROM obligations").fetchone()[0] == 0
    return [line.split(": ", 1)[1] for line in str(refused.value).splitlines()]


def test_twice_in_the_debtors_own_rows(tmp_path: Path) -> None:
    assert _refused(tmp_path, [("A", "R1", "1"), ("A", "R2", "1"), ("A", "R1", "1"), ("B", "R1", "1")]) == [
        "line 4: reference: 'R1' for debtor 'A' already appears on line 2"]


def test_twice_when_the_debtor_comes_back_later(tmp_path: Path) -> None:
    rows = [("A", "R1", "1"), ("A", "R2", "1"), *[(f"B{n}", "R1", "1") for n in range(1200)], ("A", "R2", "1"),
            ("A", "R3", "1"), ("A", "R3", "1")]
    assert _refused(tmp_path, rows) == [
        "line 1204: reference: 'R2' for debtor 'A' already appears on line 3",
        "line 1206: reference: 'R3' for debtor 'A' already appears on line 1205"]


def test_twice_after_a_row_with_a_problem(tmp_path: Path) -> None:
    # Line 3's amount is refused, so from there on every reference is asked of the scratch file.
    assert _refused(tmp_path, [("A", "R1", "1"), ("A", "R2", "x"), ("A", "R1", "1"), ("C", "R9", "1"),
                               ("B", "R1", "1"), ("C", "R9", "1")]) == [
        "line 3: amount: not an amount: 'x'",
        "line 4: reference: 'R1' for debtor 'A' already appears on line 2",
        "line 7: reference: 'R9' for debtor 'C' already appears on line 5"]


def test_a_debtor_with_more_references_than_are_kept_in_memory(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importer, "_RUN_REFERENCES", 3)
    rows = [("A", f"R{n}", "1") for n in range(6)] + [("A", "R1", "1"), ("A", "R5", "1")]
    assert _refused(tmp_path, rows) == [
        "line 8: reference: 'R1' for debtor 'A' already appears on line 3",
        "line 9: reference: 'R5' for debtor 'A' already appears on line 7"]
