"""The schema's triggers on PostgreSQL do what the SQLite ones do (dunning.store.postgres_schema)."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from dunning.store.database import parse_postgres_url
from dunning.store.postgres import PostgresConnection
from dunning.store.postgres_schema import migrate_postgres

EVENT = ("INSERT INTO events (at, recorded_at, case_id, kind, data, prev_hash, hash) "
         "VALUES ('2026-03-01T10:20:00', '2026-03-01T10:20:00', 1, ?, ?, 'p', 'h')")


@pytest.fixture
def conn(dunning_postgres_url: str) -> Iterator[PostgresConnection]:
    conn = PostgresConnection(parse_postgres_url(dunning_postgres_url))
    migrate_postgres(conn, {})
    yield conn
    conn.close()


def test_events_refuse_edits_and_deletions(conn: PostgresConnection) -> None:
    seq = conn.execute(EVENT, ["payment", '{"amount": 500}']).lastrowid
    assert seq == 1
    with pytest.raises(psycopg.errors.RaiseException, match="events are append-only"):
        conn.execute("UPDATE events SET data = '{}' WHERE seq = ?", [seq])
    with pytest.raises(psycopg.errors.RaiseException, match="events are append-only"):
        conn.execute("DELETE FROM events WHERE seq = ?", [seq])
    # Archiving leaves a stub: the kind becomes 'archived', the links stay; that one change is allowed.
    conn.execute("UPDATE events SET kind = 'archived', data = '' WHERE seq = ?", [seq])
    with pytest.raises(psycopg.errors.RaiseException, match="events are append-only"):
        conn.execute("UPDATE events SET hash = 'other' WHERE seq = ?", [seq])
    assert conn.execute("SELECT kind, hash FROM events").fetchall() == [("archived", b"h")]  # BYTEA


def test_a_debtors_zone_is_cleared_when_what_it_comes_from_changes(conn: PostgresConnection) -> None:
    conn.execute("INSERT INTO debtors (id, name, kind, country, timezone, created_at, updated_at, zone) "
                 "VALUES ('D1', 'Dee', 'person', 'GB', 'Europe/London', 'now', 'now', 'Europe/London')")

    def zone() -> str | None:
        row = conn.execute("SELECT zone FROM debtors WHERE id = 'D1'").fetchone()
        return row[0] if row else "missing"

    conn.execute("UPDATE debtors SET name = 'Dee Two' WHERE id = 'D1'")
    assert zone() == "Europe/London"
    conn.execute("UPDATE debtors SET timezone = 'Europe/Paris' WHERE id = 'D1'")
    assert zone() is None
    conn.execute("UPDATE debtors SET zone = 'Europe/Paris' WHERE id = 'D1'")
    conn.execute("INSERT INTO contacts (debtor_id, kind, value, role) "
                 "VALUES ('D1', 'email', 'd@example.com', 'debtor')")
    assert zone() == "Europe/Paris"
    contact = conn.execute("INSERT INTO contacts (debtor_id, kind, value, role) "
                           "VALUES ('D1', 'mobile', '+447700900123', 'debtor')").lastrowid
    assert zone() is None
    conn.execute("UPDATE debtors SET zone = '' WHERE id = 'D1'")
    conn.execute("DELETE FROM contacts WHERE id = ?", [contact])
    assert zone() is None


def test_rolled_up_attempts_follow_their_rows(conn: PostgresConnection) -> None:
    conn.execute("INSERT INTO debtors (id, name, kind, timezone, created_at, updated_at) "
                 "VALUES ('D1', 'Dee', 'person', 'Europe/London', 'now', 'now')")
    attempt = ("INSERT INTO contact_attempts (debtor_id, channel, contact, at, connected, source) "
               "VALUES ('D1', 'phone', '+447700900123', '2026-03-01T10:20:00', ?, 'test')")
    conn.execute(attempt, [1])
    conn.execute("INSERT INTO report_rollup_marks (name, upto) VALUES ('attempts', 10)")
    # A row under the mark inserted after the roll-up is counted as it comes; changes move its count.
    second = conn.execute(attempt, [0]).lastrowid
    rollup = "SELECT channel, kind, zone, quarter, attempts, reached FROM report_attempt_rollup"
    assert conn.execute(rollup).fetchall() == [("phone", "", "Europe/London", "2026-03-01T10:15", 1, 0)]
    conn.execute("UPDATE contact_attempts SET connected = 1 WHERE id = ?", [second])
    assert conn.execute(rollup).fetchall() == [("phone", "", "Europe/London", "2026-03-01T10:15", 1, 1)]
    conn.execute("DELETE FROM contact_attempts WHERE id = ?", [second])
    assert conn.execute(rollup).fetchall() == [("phone", "", "Europe/London", "2026-03-01T10:15", 0, 0)]


def test_an_archived_event_leaves_its_rolled_up_group(conn: PostgresConnection) -> None:
    seq = conn.execute(EVENT, ["payment", '{"amount": 500, "currency": "EUR"}']).lastrowid
    conn.execute("INSERT INTO report_rollup_marks (name, upto) VALUES ('events', ?)", [seq])
    conn.execute("INSERT INTO report_event_rollup VALUES ('payment', '', '2026-03-01T10:15', '', 'EUR', 3, 1500)")
    conn.execute("UPDATE events SET kind = 'archived', data = '' WHERE seq = ?", [seq])
    assert conn.execute("SELECT events, amount FROM report_event_rollup").fetchall() == [(2, 1000)]
