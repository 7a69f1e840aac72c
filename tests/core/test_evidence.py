"""The evidence log is append-only and hash-chained; verify finds an edit."""

from __future__ import annotations

import json

from tests.conftest import Project, row, write_csv
from tests.core.raw_database import drop_trigger, raw_connection, refusal



def _populate(project: Project) -> None:
    project(
        "import", str(write_csv(project.folder / "in.csv", [row("C1"), row("C2", "INV-2")])), now="2026-02-20T08:00:00Z"
    )
    project("pay", "1", "100.00", now="2026-02-21T08:00:00Z")
    project("hold", "2", "--reason", "dispute", now="2026-02-21T09:00:00Z")


def test_verify_passes_on_an_untouched_log(project: Project):
    _populate(project)
    assert project("verify").stdout.startswith("ok: 6 events")


def test_the_database_refuses_edits_to_events(project: Project):
    _populate(project)
    conn = raw_connection(project)
    try:
        for sql in ("UPDATE events SET kind = 'x' WHERE seq = 2", "DELETE FROM events WHERE seq = 2"):
            reason = refusal(conn, sql)
            assert reason is not None, f"{sql} was allowed"
            assert "append-only" in reason
    finally:
        conn.close()


def _tamper(project: Project, trigger: str, sql: str) -> None:
    """What someone with the database could do: drop the guard, change the log."""
    conn = raw_connection(project)
    drop_trigger(project, conn, trigger)
    conn.execute(sql)
    conn.commit()
    conn.close()


def test_an_edited_event_is_found(project: Project):
    _populate(project)
    _tamper(project, "events_no_update", "UPDATE events SET data = replace(data, '10000', '1') WHERE kind = 'payment'")
    seq = next(e["seq"] for e in json.loads(project("events", "--kind", "payment", "--json").stdout))
    result = project("verify", expect=1)
    assert f"evidence chain broken at event {seq}: event {seq} was changed after it was written" in result.output


def test_a_deleted_event_is_found(project: Project):
    _populate(project)
    _tamper(project, "events_no_delete", "DELETE FROM events WHERE seq = 3")
    assert "event 3 is missing" in project("verify", expect=1).output
