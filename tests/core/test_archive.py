"""`dunning archive`: resolved cases move to an archive file; both files' evidence still verifies."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest

from tests.conftest import Project, row, write_csv

# `dunning archive` moves rows into an attached SQLite archive file; on PostgreSQL it refuses, which
# tests/postgres/test_cli_on_both.py shows.
pytestmark = pytest.mark.sqlite_only


def _keyed_portfolio(project: Project) -> None:
    project("evidence", "keygen")
    rows = [row("C1"), row("C2", "INV-2", amount="300.00"), row("C3", "INV-3")]
    project("import", str(write_csv(project.folder / "in.csv", rows)), now="2026-02-20T08:00:00Z")
    project("run", now="2026-03-10T09:00:00Z")
    project("pay", "1", "1200.00", now="2026-03-11T08:00:00Z")  # a zero balance resolves the case as paid
    project("pay", "2", "300.00", now="2026-03-12T08:00:00Z")
    project("run", now="2026-03-13T09:00:00Z")


def _count(db: Path, sql: str) -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchone()[0]
    finally:
        conn.close()


def test_archive_moves_resolved_cases_and_both_files_verify(project: Project):
    _keyed_portfolio(project)
    events_before = _count(project.db, "SELECT count(*) FROM events")
    moving = _count(project.db, "SELECT count(*) FROM events WHERE case_id IN (1, 2)")
    dry = project("archive", "--before", "2026-03-20", "--dry-run", now="2026-03-21T08:00:00Z").stdout
    assert dry.startswith(f"would archive 2 cases resolved before 2026-03-20 ({moving} events")
    archive = project.folder / "dunning.archive.db"
    assert not archive.exists() and _count(project.db, "SELECT count(*) FROM cases") == 3

    out = project("archive", "--before", "2026-03-20", "--by", "ann", now="2026-03-21T08:00:00Z").stdout
    assert f"archived 2 cases resolved before 2026-03-20 ({moving} events" in out and str(archive) in out
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    # The rows moved; the chain keeps one stub per moved event and gained the run's own event.
    assert _count(project.db, "SELECT count(*) FROM cases") == 1
    assert _count(project.db, "SELECT count(*) FROM obligations WHERE case_id IN (1, 2)") == 0
    assert _count(project.db, "SELECT count(*) FROM payments WHERE case_id IN (1, 2)") == 0
    assert _count(project.db, "SELECT count(*) FROM events WHERE kind = 'archived'") == moving
    assert _count(project.db, "SELECT count(*) FROM events") == events_before + 1
    assert _count(archive, "SELECT count(*) FROM cases") == 2
    assert _count(archive, "SELECT count(*) FROM payments") == 2
    assert _count(archive, "SELECT count(*) FROM events") == moving

    verified = project("verify", "--full").stdout
    assert verified.startswith(f"ok: {events_before + 1} events, chain intact ({moving} events of the log archived")
    assert "signed checkpoints agree" in verified
    # From the latest checkpoint on (the default), the stubs are still accounted for.
    default = project("verify").stdout
    assert "chain intact" in default and f"({moving} events of the log archived" in default
    checked = project("verify", "--archive", str(archive)).stdout
    assert f"{moving} archived events match their stubs" in checked

    shown = project("cases", "show", "1", expect=1).output
    assert shown.strip() == f"Error: case 1 was archived on 2026-03-21T08:00:00Z to {archive}"
    project("cases", "show", "3")  # the open case is untouched

    # The chain goes on; a later run appends to the same archive.
    project("pay", "3", "1200.00", now="2026-03-22T08:00:00Z")
    project("run", now="2026-03-23T09:00:00Z")
    # The newest case stays until a newer one exists: its id would otherwise be given again.
    kept = project("archive", "--before", "2026-04-01", now="2026-04-02T08:00:00Z").stdout
    assert kept.startswith("nothing to archive") and _count(archive, "SELECT count(*) FROM cases") == 2
    project("import", str(write_csv(project.folder / "more.csv", [row("C4", "INV-4")])), now="2026-04-02T08:00:00Z")
    assert _count(project.db, "SELECT max(id) FROM cases") == 4
    project("archive", "--before", "2026-04-01", now="2026-04-02T08:30:00Z")
    assert _count(archive, "SELECT count(*) FROM cases") == 3
    assert _count(archive, "SELECT count(*) FROM cases WHERE archived_case_id = id") == 3
    total = _count(archive, "SELECT count(*) FROM events")
    assert f"{total} archived events match their stubs" in project("verify", "--archive", str(archive)).stdout
    again = project("archive", "--before", "2026-04-03", now="2026-04-02T09:00:00Z").stdout
    assert again.startswith("nothing to archive")


def _tamper(path: Path, sql: str) -> None:
    conn = sqlite3.connect(path)
    conn.execute("DROP TRIGGER events_no_update")
    conn.execute(sql)
    conn.commit()
    conn.close()


def test_an_archived_event_changed_is_caught(project: Project):
    _keyed_portfolio(project)
    project("archive", "--before", "2026-03-20", now="2026-03-21T08:00:00Z")
    archive = project.folder / "dunning.archive.db"
    _tamper(archive, "UPDATE events SET dpd = 99 WHERE kind = 'payment' AND case_id = 1")
    out = project("verify", "--archive", str(archive), expect=1).output
    assert "was changed after it was archived" in out and str(archive) in out
    assert project("verify").exit_code == 0  # the main file alone is intact


def test_an_archive_with_rehashed_events_does_not_match_the_chain(project: Project):
    _keyed_portfolio(project)
    project("archive", "--before", "2026-03-20", now="2026-03-21T08:00:00Z")
    archive = project.folder / "dunning.archive.db"
    # Someone rewrites an archived event and recomputes its hash: the stub in the chain still has the old one.
    from dunning import evidence
    from dunning.store.archive import archived_event_rows

    first = next(r for r in archived_event_rows(archive) if r["kind"] == "payment")
    first["dpd"] = 99
    forged = evidence.chain_hash(first["prev_hash"], first)
    _tamper(archive, f"UPDATE events SET dpd = 99, hash = '{forged}' WHERE seq = {first['seq']}")
    out = project("verify", "--archive", str(archive), expect=1).output
    assert f"event {first['seq']} is not the event the main chain holds" in out


def test_a_live_event_emptied_into_a_stub_is_caught(project: Project):
    _keyed_portfolio(project)
    project("archive", "--before", "2026-03-20", now="2026-03-21T08:00:00Z")
    seq = _count(project.db, "SELECT min(seq) FROM events WHERE case_id = 3")
    # The trigger lets a row become a stub (that is how archiving works); the verify names the case.
    conn = sqlite3.connect(project.db)
    conn.execute(f"UPDATE events SET kind = 'archived', data = '' WHERE seq = {seq}")
    conn.commit()
    conn.close()
    out = project("verify", expect=1).output
    assert f"event {seq} was emptied into a stub, but case 3 was never archived" in out


def test_archive_refuses_a_bad_date_and_changes_nothing(project: Project):
    _keyed_portfolio(project)
    out = project("archive", "--before", "20-03-2026", expect=1).output
    assert out.strip() == "Error: --before '20-03-2026': not a date (YYYY-MM-DD)"
    assert not (project.folder / "dunning.archive.db").exists()
    assert _count(project.db, "SELECT count(*) FROM cases") == 3


def test_a_run_stopped_after_writing_the_archive_is_finished_by_the_next(project: Project, monkeypatch):
    _keyed_portfolio(project)
    from dunning.store.events import EventLog

    appending = EventLog.append_events

    def power_cut(self, events):  # the main file's transaction never commits
        events = list(events)
        if any(e.kind == "cases_archived" for e in events):
            raise RuntimeError("power cut")
        return appending(self, events)

    monkeypatch.setattr(EventLog, "append_events", power_cut)
    with pytest.raises(RuntimeError, match="power cut"):
        project("archive", "--before", "2026-03-20", now="2026-03-21T08:00:00Z")
    monkeypatch.undo()
    archive = project.folder / "dunning.archive.db"
    moving = _count(project.db, "SELECT count(*) FROM events WHERE case_id IN (1, 2)")
    # The archive holds the rows, the main file still has all of them and no stub.
    assert _count(archive, "SELECT count(*) FROM cases") == 2
    assert _count(archive, "SELECT count(*) FROM events") == moving
    assert _count(project.db, "SELECT count(*) FROM cases") == 3
    assert _count(project.db, "SELECT count(*) FROM events WHERE kind = 'archived'") == 0
    project("verify")
    project("archive", "--before", "2026-03-20", now="2026-03-21T09:00:00Z")
    assert _count(archive, "SELECT count(*) FROM cases") == 2  # nothing twice
    assert _count(archive, "SELECT count(*) FROM payments") == 2
    assert _count(archive, "SELECT count(*) FROM events") == moving
    assert f"{moving} archived events match their stubs" in project("verify", "--archive", str(archive)).stdout
