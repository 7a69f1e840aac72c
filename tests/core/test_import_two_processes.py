"""A large import checked in a second process while this one writes (dunning.import_worker): the same rows
written, the same messages, and nothing written when the check finds a problem."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from dunning.evidence import verify_chain
from dunning.importer import ImportError_, import_file
from dunning.store import Store
from tests.core.raw_database import more_databases  # noqa: F401  (a fixture)

Databases = Callable[[str], Path | str]

NOW = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
HEADER = "debtor_id,name,email,mobile,country,reference,amount,currency,due_on\n"


def _rows(count: int) -> list[str]:
    """Two obligations per debtor; every 7th debtor's number is too long for its range (a warning)."""
    return [f"D{n // 2},Name {n // 2},d{n // 2}@example.com,"
            f"{'+4915199' if (n // 2) % 7 == 0 else '+49151'}{n // 2:08d},DE,INV-{n},{n % 50 + 1}.25,EUR,2026-02-15\n"
            for n in range(count)]


def _import(tmp_path: Path, db: Path | str, name: str, text: str, two: bool, prepare: str = ""
            ) -> tuple[Path | str, object, list[str]]:
    store = Store(db)
    if prepare:
        seed = tmp_path / f"{name}-before.csv"
        seed.write_text(prepare, encoding="utf-8")
        import_file(store, seed, now=NOW, today=NOW.date(), two_processes=False)
    path = tmp_path / "in.csv"
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    warnings: list[str] = []
    try:
        outcome: object = import_file(store, path, now=NOW, today=NOW.date(), warnings=warnings, two_processes=two)
    except ImportError_ as exc:
        outcome = exc
    assert verify_chain(store.event_rows_for_verify()).ok
    store.close()
    return db, outcome, warnings


def _tables(db: Path | str) -> dict[str, list[tuple[object, ...]]]:
    store = Store(db)
    conn = store.conn
    queries = {
        "debtors": "SELECT id, name, kind, country, zone FROM debtors ORDER BY id",
        "contacts": "SELECT debtor_id, kind, value, role FROM contacts ORDER BY id",
        "cases": "SELECT id, debtor_id, currency, balance, anchor_due_on, next_action_on FROM cases ORDER BY id",
        "obligations": "SELECT case_id, debtor_id, reference, amount, due_on FROM obligations ORDER BY id",
        "events": "SELECT seq, case_id, kind, stage, data FROM events ORDER BY seq",
    }
    tables = {name: conn.execute(sql).fetchall() for name, sql in queries.items()}
    store.close()
    return tables


def test_a_good_file_is_written_as_one_process_writes_it(tmp_path: Path, more_databases: Databases):  # noqa: F811
    text = HEADER + "".join(_rows(1200))  # more than one batch on the pipe and one chunk in the writer
    one, result_one, warned_one = _import(tmp_path, more_databases("one"), "one", text, two=False)
    two, result_two, warned_two = _import(tmp_path, more_databases("two"), "two", text, two=True)
    assert result_one == result_two and result_two[1] == 1200 and result_two[0].cases_opened == 600
    assert warned_one == warned_two and "line 2: mobile: +4915199" in warned_two[0] and "line 3:" in warned_two[1]
    assert _tables(one) == _tables(two)


@pytest.mark.parametrize("bad", [
    ("D10,Name 10,,,DE,INV-20,12.50,EUR,2026-02-30\n", "due_on"),  # a date that does not exist
    ("D450,Name 450,,,DE,INV-3,1.00,EUR,2026-02-15\n", "reference"),  # INV-3 is D1's: fine; a new debtor
    ("D1,Another name,,,DE,INV-new,1.00,EUR,2026-02-15\n", "name"),  # D1 was named otherwise on line 4
    ("D5,Name 5,,,DE,INV-10,3.00,EUR,2026-02-15\n", "reference"),  # D5's INV-10 again
])
def test_a_problem_on_the_last_line_leaves_the_store_as_it_was(tmp_path: Path, bad: tuple[str, str],
                                                               more_databases: Databases):  # noqa: F811
    text = HEADER + "".join(_rows(1100)) + bad[0]
    before = "debtor_id,name,reference,amount,currency,due_on\nD450,Name 450,INV-3,2.00,EUR,2026-02-15\n"
    one, failed_one, _ = _import(tmp_path, more_databases("one"), "one", text, two=False, prepare=before)
    two, failed_two, _ = _import(tmp_path, more_databases("two"), "two", text, two=True, prepare=before)
    assert isinstance(failed_two, ImportError_) and isinstance(failed_one, ImportError_)
    assert str(failed_two) == str(failed_one) and f"line 1102: {bad[1]}:" in str(failed_two)
    assert _tables(two) == _tables(one) and len(_tables(two)["obligations"]) == 1  # only what was there before


def test_a_byte_that_is_not_utf8_late_in_the_file_is_named_by_its_line(tmp_path: Path,
                                                                       more_databases: Databases):  # noqa: F811
    text = (HEADER + "".join(_rows(3000))).encode("utf-8") + b"D9,Caf\xe9,,,DE,INV-x,1.00,EUR,2026-02-15\n"
    _, failed_one, _ = _import(tmp_path, more_databases("one"), "one", text, two=False)  # type: ignore[arg-type]
    two, failed_two, _ = _import(tmp_path, more_databases("two"), "two", text, two=True)  # type: ignore[arg-type]
    assert isinstance(failed_two, ImportError_) and str(failed_two) == str(failed_one)
    assert "line 3002: file: not utf-8 text: byte 0xe9" in str(failed_two)
    assert _tables(two)["events"] == []
