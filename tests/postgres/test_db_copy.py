"""`dunning db copy SQLITE_PATH POSTGRES_URL`: every table, evidence included; the chain verifies on the copy."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest

from dunning.store import Store
from tests.conftest import Project, row, write_csv

# The command's source is a SQLite file by nature: each project here lives on its file, and the copy's target is
# the PostgreSQL database dunning_postgres_url gives.
pytestmark = pytest.mark.sqlite_only


def _imported(project: Project) -> None:
    rows = [row("C001", "INV-1", "1200.00", "2026-02-01"), row("C002", "INV-2", "80.50", "2026-02-10"),
            row("C002", "INV-3", "19.50", "2026-02-12")]
    project("import", str(write_csv(project.folder / "in.csv", rows)), now="2026-03-01T09:00:00+00:00")
    project("pay", "1", "200.00", "--reference", "BANK-1", now="2026-03-02T09:00:00+00:00")


def _sqlite_counts(project: Project) -> dict[str, int]:
    conn = sqlite3.connect(project.db)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                             "AND name NOT LIKE 'sqlite_%' AND name != '_sqlite_migrations'")]
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
    finally:
        conn.close()


def test_every_table_is_copied_and_the_chain_verifies_there(project: Project, dunning_postgres_url: str) -> None:
    _imported(project)
    before = project.db.read_bytes()
    result = project("db", "copy", str(project.db), dunning_postgres_url)
    counts = _sqlite_counts(project)
    assert counts["events"] > 5 and counts["payments"] == 1
    printed = {line.split()[0]: int(line.split()[1].replace(",", "")) for line in result.output.splitlines()[:-1]}
    assert printed == counts
    assert result.output.splitlines()[-1] == (
        f"copied {sum(counts.values()):,} rows of {len(counts)} tables to {dunning_postgres_url}; "
        f"the evidence chain verifies there ({counts['events']:,} events)")
    assert project.db.read_bytes() == before  # the source is left as it was
    with psycopg.connect(dunning_postgres_url) as conn:
        for table, rows in counts.items():
            assert conn.execute(f'SELECT count(*) FROM "{table}"').fetchone() == (rows,), table
    # The copy is a working store: a new row continues after the copied ids.
    store = Store(dunning_postgres_url)
    try:
        case = store.case(1)
        assert case.balance == 1000_00
        with store.transaction():
            hold = store.conn.execute("INSERT INTO holds (case_id, reason, since) VALUES (1, 'test', '2026-03-03')")
        assert hold.lastrowid == 1 + counts["holds"]
        assert store.chain_head()[0] == counts["events"]
    finally:
        store.close()


def test_a_database_that_is_not_empty_is_refused_and_left_alone(project: Project, dunning_postgres_url: str) -> None:
    _imported(project)
    project("db", "copy", str(project.db), dunning_postgres_url)
    again = project("db", "copy", str(project.db), dunning_postgres_url, expect=1)
    assert again.output == (f"Error: {dunning_postgres_url}: is not empty (table cases has rows): "
                            "copy into a new database\n")


def test_bad_arguments_are_one_line(project: Project, dunning_postgres_url: str) -> None:
    missing = project("db", "copy", str(project.folder / "nothere.db"), dunning_postgres_url, expect=1)
    assert missing.output.startswith(f"Error: {project.folder / 'nothere.db'}: no such database")
    bad = project("db", "copy", str(project.db), "postgresql://me@host:54x2/db", expect=1)
    assert bad.output == ("Error: database URL postgresql://me@host:54x2/db: "
                          "Port could not be cast to integer value as '54x2'\n")
    down = project("db", "copy", str(project.db), "postgresql://me@/db?host=/nonexistent", expect=1)
    assert down.output.startswith("Error: postgresql://me@/db?host=/nonexistent: cannot connect (")
