"""The schema on PostgreSQL: the same named steps give the same tables, columns, indexes and triggers as on SQLite."""

from __future__ import annotations

import importlib
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from dunning.store import Store
from dunning.store.database import parse_postgres_url
from dunning.store.errors import StoreError
from dunning.store.postgres import PostgresConnection
from dunning.store.postgres_schema import MIGRATIONS_TABLE, migrate_postgres

BUILT_IN = ("email", "letter", "phone", "visit", "agency", "legal")
Schema = dict[str, set[str]]


def built_in_migrations() -> dict[str, list[tuple[str, Callable[..., None]]]]:
    """Each built-in plugin's steps, as its register_migrations hook gives them."""
    found: dict[str, list[tuple[str, Callable[..., None]]]] = {}
    for name in BUILT_IN:
        hook = getattr(importlib.import_module(f"dunning.plugins.{name}"), "register_migrations", None)
        if hook is not None:
            steps: list[tuple[str, Callable[..., None]]] = []
            hook(lambda step, fn, steps=steps: steps.append((step, fn)))
            found[name] = steps
    return found


# m027's triggers, which keep the recovery report's figures, have no PL/pgSQL form yet: on PostgreSQL that
# report reads the events instead (dunning.store.report_case_facts), as the test below checks.
KEPT_RECOVERY_TRIGGERS = {
    "report_case_moves_insert", "report_case_moves_update", "report_case_moves_delete",
    "report_payment_contacts_insert", "report_payment_contacts_update", "report_payment_contacts_delete",
    "report_payment_contacts_contact", "report_payment_contacts_contact_update",
    "report_payment_contacts_contact_delete",
}


def sqlite_schema(path: Path) -> tuple[Schema, set[str], set[str]]:
    conn = sqlite3.connect(path)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                             "AND name NOT LIKE 'sqlite_%' AND name != '_sqlite_migrations'")]
        columns = {t: {r[1] for r in conn.execute(f'PRAGMA table_info("{t}")')} for t in tables}
        indexes = {r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_autoindex_%' "
            "AND tbl_name != '_sqlite_migrations'")}
        triggers = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    finally:
        conn.close()
    return columns, indexes, triggers


def postgres_schema(url: str) -> tuple[Schema, set[str], set[str]]:
    with psycopg.connect(url) as conn:
        columns: Schema = {}
        for table, column in conn.execute("SELECT table_name, column_name FROM information_schema.columns "
                                          "WHERE table_schema = 'public' AND table_name != %s", [MIGRATIONS_TABLE]):
            columns.setdefault(table, set()).add(column)
        # Primary keys and UNIQUE constraints make indexes of their own, as SQLite's autoindexes.
        indexes = {r[0] for r in conn.execute(
            "SELECT indexname FROM pg_indexes WHERE schemaname = 'public' AND indexname NOT IN "
            "(SELECT conname FROM pg_constraint WHERE contype IN ('p', 'u'))")}
        triggers = {r[0] for r in conn.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")}
    return columns, indexes, triggers


def test_the_core_and_built_in_plugins_make_the_same_schema_on_both(tmp_path: Path,
                                                                    dunning_postgres_url: str) -> None:
    plugins = built_in_migrations()
    assert {"letter", "phone", "visit", "agency", "legal"} <= set(plugins)
    Store(tmp_path / "d.db", plugins).close()
    conn = PostgresConnection(parse_postgres_url(dunning_postgres_url))
    try:
        assert migrate_postgres(conn, plugins) == {}
    finally:
        conn.close()
    columns, indexes, triggers = sqlite_schema(tmp_path / "d.db")
    pg_columns, pg_indexes, pg_triggers = postgres_schema(dunning_postgres_url)
    assert len(columns) >= 40
    assert pg_columns == columns
    assert pg_indexes == indexes
    assert pg_triggers == triggers - KEPT_RECOVERY_TRIGGERS


def test_migrating_twice_applies_nothing_the_second_time(dunning_postgres_url: str) -> None:
    conn = PostgresConnection(parse_postgres_url(dunning_postgres_url))
    try:
        migrate_postgres(conn, {})
        applied = conn.execute(f"SELECT count(*) FROM {MIGRATIONS_TABLE}").fetchone()
        migrate_postgres(conn, {})
        assert conn.execute(f"SELECT count(*) FROM {MIGRATIONS_TABLE}").fetchone() == applied
        assert applied is not None and applied[0] >= 25
    finally:
        conn.close()


def test_a_plugin_step_that_fails_is_rolled_back_and_named(dunning_postgres_url: str) -> None:
    def m001_half(db: Any) -> None:
        db.execute("CREATE TABLE half_made (id INTEGER PRIMARY KEY)")
        db.execute("CREATE TABLE half_made (id INTEGER PRIMARY KEY)")

    conn = PostgresConnection(parse_postgres_url(dunning_postgres_url))
    try:
        failed = migrate_postgres(conn, {"half": [("m001_half", m001_half)]})
        assert failed["half"].startswith("migration m001_half failed: DuplicateTable")
        assert conn.execute("SELECT to_regclass('half_made')").fetchone() == (None,)
    finally:
        conn.close()


def test_a_step_with_sqlite_triggers_and_no_postgres_form_stops_the_migration(dunning_postgres_url: str) -> None:
    def m001_audit(db: Any) -> None:
        db.execute("CREATE TABLE audited (id INTEGER PRIMARY KEY)")
        db.execute("CREATE TRIGGER audited_no_delete BEFORE DELETE ON audited BEGIN SELECT RAISE(ABORT, 'no'); END")

    conn = PostgresConnection(parse_postgres_url(dunning_postgres_url))
    try:
        failed = migrate_postgres(conn, {"audit": [("m001_audit", m001_audit)]})
        assert failed == {"audit": "migration m001_audit makes SQLite triggers and has no PostgreSQL form "
                                   "(on db.dialect == 'postgresql' a step writes PL/pgSQL triggers)"}
    finally:
        conn.close()


def test_a_plugin_step_writes_its_postgres_trigger_by_the_dialect(dunning_postgres_url: str) -> None:
    def m001_audit(db: Any) -> None:
        db.execute("CREATE TABLE audited (id INTEGER PRIMARY KEY, note TEXT)")
        if getattr(db, "dialect", "sqlite") == "postgresql":
            db.execute("CREATE FUNCTION audited_keep() RETURNS trigger LANGUAGE plpgsql AS $$ "
                       "BEGIN RAISE EXCEPTION 'audited rows stay'; END $$")
            db.execute("CREATE TRIGGER audited_no_delete BEFORE DELETE ON audited FOR EACH ROW "
                       "EXECUTE FUNCTION audited_keep()")
        else:
            db.execute("CREATE TRIGGER audited_no_delete BEFORE DELETE ON audited "
                       "BEGIN SELECT RAISE(ABORT, 'audited rows stay'); END")

    conn = PostgresConnection(parse_postgres_url(dunning_postgres_url))
    try:
        assert migrate_postgres(conn, {"audit": [("m001_audit", m001_audit)]}) == {}
        assert conn.execute("INSERT INTO audited (note) VALUES (?)", ["kept"]).lastrowid == 1
        with pytest.raises(psycopg.errors.RaiseException, match="audited rows stay"):
            conn.execute("DELETE FROM audited")
    finally:
        conn.close()


@pytest.mark.parametrize("url, message", [
    ("postgresql://user@host:port/db", "Port could not be cast to integer value"),
    ("postgresql://user@host:5432/", "name the database after the host"),
    ("postgresql://user@host/db?sslmod=require", "unknown parameter 'sslmod'"),
])
def test_a_bad_url_is_one_line_naming_what_is_wrong(url: str, message: str) -> None:
    with pytest.raises(StoreError) as raised:
        parse_postgres_url(url)
    assert message in str(raised.value) and str(raised.value).startswith(f"database URL {url}")


def test_a_password_never_shows_in_a_message() -> None:
    with pytest.raises(StoreError) as raised:
        parse_postgres_url("postgresql://me:s3cret@host:5432/")
    assert "s3cret" not in str(raised.value) and "me:***@host" in str(raised.value)
    assert parse_postgres_url("postgresql://me:s3cret@host/db").shown == "postgresql://me:***@host/db"


def test_a_server_that_does_not_answer_is_one_line(dunning_postgres_url: str) -> None:
    with pytest.raises(StoreError, match=r"^postgresql://nobody@/nowhere\?host=/nonexistent: cannot connect \("):
        PostgresConnection(parse_postgres_url("postgresql://nobody@/nowhere?host=/nonexistent"))


def test_recovery_reads_the_events_on_postgresql_where_its_kept_figures_are_not_kept(
        tmp_path: Path, dunning_postgres_url: str) -> None:
    on_sqlite, on_postgres = Store(tmp_path / "d.db"), Store(dunning_postgres_url)
    try:
        assert on_sqlite.report_recovery_rows("2026-06-01T00:00:00Z", 30) is not None
        assert on_postgres.report_recovery_rows("2026-06-01T00:00:00Z", 30) is None
    finally:
        on_sqlite.close()
        on_postgres.close()
