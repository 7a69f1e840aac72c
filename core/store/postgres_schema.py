"""The schema on PostgreSQL: the same named migration steps as on SQLite, and their triggers in PL/pgSQL.

One set of steps serves both databases (``dunning.migrations`` and each plugin's
``register_migrations``). On PostgreSQL each step is handed a
``PostgresMigrationDatabase``: its ``execute`` takes the step's SQL as written
(rewritten by ``dunning.store.dialect``), except SQLite's ``CREATE TRIGGER`` /
``DROP TRIGGER``, which are set aside, because a trigger's body is a program
that no rewrite of the text turns into PostgreSQL's. A core step that has
triggers has its PostgreSQL triggers here, in ``TRIGGER_FORMS``, run right
after it; a plugin's step writes its own (``CREATE TRIGGER ... EXECUTE
FUNCTION``, which runs as written) when ``db.dialect`` is ``"postgresql"``.
A step that sets SQLite triggers aside and has no PostgreSQL form stops the
migration, naming itself, so a trigger cannot be forgotten.

Applied steps are recorded in ``dunning_migrations`` (set, name, when), the
counterpart of sqlite-utils' ``_sqlite_migrations``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from dunning.migrations import migrations as core_migrations
from dunning.store.errors import StoreError
from dunning.store.postgres import PostgresConnection, PostgresCursor

MIGRATIONS_TABLE = "dunning_migrations"
_CREATE_TRIGGER = re.compile(r"^\s*CREATE\s+(TEMP\w*\s+)?TRIGGER\b", re.IGNORECASE)
_DROP_TRIGGER = re.compile(r"^\s*DROP\s+TRIGGER\b", re.IGNORECASE)


def is_sqlite_trigger(sql: str) -> bool:
    """SQLite's ``CREATE TRIGGER ... BEGIN ... END`` or ``DROP TRIGGER name``; PostgreSQL's own forms
    (``EXECUTE FUNCTION``, ``DROP TRIGGER name ON table``) are not, and run as they are."""
    if _CREATE_TRIGGER.match(sql):
        return not re.search(r"\bEXECUTE\s+(FUNCTION|PROCEDURE)\b", sql, re.IGNORECASE)
    return bool(_DROP_TRIGGER.match(sql)) and not re.search(r"\bON\b", sql, re.IGNORECASE)


class PostgresMigrationDatabase:
    """What a migration step is given on PostgreSQL: ``execute`` and ``conn`` (``conn.executemany``)."""

    dialect = "postgresql"

    def __init__(self, conn: PostgresConnection) -> None:
        self.conn = conn
        self.sqlite_triggers: list[str] = []

    def execute(self, sql: str, parameters: Sequence[Any] | Mapping[str, Any] = ()) -> PostgresCursor | None:
        if is_sqlite_trigger(sql):
            self.sqlite_triggers.append(sql)
            return None
        return self.conn.execute(sql, parameters)


Step = Callable[[Any], None]


def migrate_postgres(conn: PostgresConnection, plugin_migrations: Mapping[str, Sequence[tuple[str, Step]]]
                     ) -> dict[str, str]:
    """The core's steps, then each plugin's, each in its own transaction; plugin -> why it failed.

    A core step that fails raises (the store cannot open); a plugin's that fails is rolled back and
    named in the result, and that plugin's later steps wait, as on SQLite.
    """
    # Asked before it is made: a role that may read and write the tables but not create them (the floor's
    # role, a reporting role) opens an up-to-date database without needing CREATE on the schema.
    if conn.execute("SELECT to_regclass(?)", [MIGRATIONS_TABLE]).fetchone() == (None,):
        try:
            conn.execute(f"CREATE TABLE {MIGRATIONS_TABLE} (migration_set TEXT NOT NULL, name TEXT NOT NULL, "
                         "applied_at TEXT NOT NULL, PRIMARY KEY (migration_set, name))")
        except Exception as exc:
            if _not_allowed(exc):
                raise _owner_first(conn, "the schema is not made yet", exc) from None
            raise
    applied = set(conn.execute(f"SELECT migration_set, name FROM {MIGRATIONS_TABLE}").fetchall())
    core_steps = [(name, fn) for name, fn, _transactional in core_migrations.steps]
    _apply(conn, core_migrations.name, core_steps, applied)
    failed: dict[str, str] = {}
    for plugin, steps in plugin_migrations.items():
        try:
            _apply(conn, f"plugin:{plugin}", steps, applied)
        except Exception as exc:
            failed[plugin] = str(exc)
    return failed


def _apply(conn: PostgresConnection, set_name: str, steps: Sequence[tuple[str, Step]],
           applied: set[tuple[str, str]]) -> None:
    for name, fn in steps:
        if (set_name, name) in applied:
            continue
        db = PostgresMigrationDatabase(conn)
        conn.execute("BEGIN")
        try:
            fn(db)
            if db.sqlite_triggers:
                form = TRIGGER_FORMS.get((set_name, name))
                if form is None:
                    raise StoreError(f"migration {name} makes SQLite triggers and has no PostgreSQL form "
                                     "(on db.dialect == 'postgresql' a step writes PL/pgSQL triggers)")
                form(db)
            conn.execute(f"INSERT INTO {MIGRATIONS_TABLE} (migration_set, name, applied_at) VALUES (?, ?, ?)",
                         [set_name, name, dt.datetime.now(dt.UTC).isoformat()])
        except Exception as exc:
            conn.rollback()
            if isinstance(exc, StoreError):
                raise
            if _not_allowed(exc):
                raise _owner_first(conn, f"migration {name} is not applied yet", exc) from None
            raise StoreError(f"migration {name} failed: {type(exc).__name__}: {exc}") from exc
        conn.commit()
        applied.add((set_name, name))


def _not_allowed(exc: Exception) -> bool:
    import psycopg

    return isinstance(exc, psycopg.errors.InsufficientPrivilege)


def _owner_first(conn: PostgresConnection, what: str, exc: Exception) -> StoreError:
    """One line for a role that may work the cases but not change the schema, on a database that needs it."""
    who = conn.target.user or "this role"
    return StoreError(f"{what}, and {who} may not change the schema ({str(exc).splitlines()[0]}): run one "
                      "dunning command as the database's owner first (docs/operators.md, Running on PostgreSQL)")


# --- the triggers, in PL/pgSQL -----------------------------------------------------------------------------
# Each function and trigger below does what the SQLite trigger of the same name in dunning.migrations does.
# They go through ``db.conn``: ``db.execute`` sets triggers aside.


def _m004_evidence(db: PostgresMigrationDatabase) -> None:
    # The chain's hashes are kept as 32 bytes (dunning.event_codec, since m023), which SQLite keeps in
    # its TEXT columns and PostgreSQL does not: here they are BYTEA (the table is new, and empty).
    db.conn.execute("ALTER TABLE events ALTER COLUMN prev_hash TYPE BYTEA USING convert_to(prev_hash, 'UTF8'), "
                    "ALTER COLUMN hash TYPE BYTEA USING convert_to(hash, 'UTF8')")
    # Append-only: the database itself refuses edits and deletions of evidence.
    db.conn.execute("CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
                    "BEGIN RAISE EXCEPTION 'events are append-only'; END $$")
    db.conn.execute("CREATE TRIGGER events_no_update BEFORE UPDATE ON events FOR EACH ROW "
                    "EXECUTE FUNCTION events_append_only()")
    db.conn.execute("CREATE TRIGGER events_no_delete BEFORE DELETE ON events FOR EACH ROW "
                    "EXECUTE FUNCTION events_append_only()")


def _m023_archive(db: PostgresMigrationDatabase) -> None:
    # Events stay append-only but for one change: an event archived to a stub, its links kept.
    db.conn.execute("DROP TRIGGER events_no_update ON events")
    db.conn.execute("CREATE TRIGGER events_no_update BEFORE UPDATE ON events FOR EACH ROW "
                    "WHEN (NOT (OLD.kind != 'archived' AND NEW.kind = 'archived' AND NEW.seq = OLD.seq "
                    "AND NEW.hash IS NOT DISTINCT FROM OLD.hash AND NEW.prev_hash IS NOT DISTINCT FROM OLD.prev_hash "
                    "AND NEW.case_id IS NOT DISTINCT FROM OLD.case_id)) EXECUTE FUNCTION events_append_only()")


_PHONE_KINDS = "('mobile', 'work', 'home')"


def _m021_debtor_zone(db: PostgresMigrationDatabase) -> None:
    # What a debtor's zone is worked out from changed: the next reader works it out again. On SQLite an
    # AFTER trigger updates the row; here a BEFORE trigger clears it in the row being written.
    db.conn.execute("CREATE FUNCTION debtors_zone_follows() RETURNS trigger LANGUAGE plpgsql AS $$ "
                    "BEGIN NEW.zone := NULL; RETURN NEW; END $$")
    db.conn.execute("CREATE TRIGGER debtors_zone_follows BEFORE UPDATE OF timezone, country ON debtors "
                    "FOR EACH ROW WHEN (OLD.timezone IS DISTINCT FROM NEW.timezone "
                    "OR OLD.country IS DISTINCT FROM NEW.country) "
                    "EXECUTE FUNCTION debtors_zone_follows()")
    db.conn.execute(
        "CREATE FUNCTION contacts_zone() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF TG_OP <> 'INSERT' THEN UPDATE debtors SET zone = NULL WHERE id = OLD.debtor_id "
        "AND zone IS NOT NULL; END IF; "
        "IF TG_OP <> 'DELETE' THEN UPDATE debtors SET zone = NULL WHERE id = NEW.debtor_id "
        "AND zone IS NOT NULL; END IF; RETURN NULL; END $$"
    )
    db.conn.execute(f"CREATE TRIGGER contacts_added_zone AFTER INSERT ON contacts FOR EACH ROW "
                    f"WHEN (NEW.kind IN {_PHONE_KINDS}) EXECUTE FUNCTION contacts_zone()")
    db.conn.execute(f"CREATE TRIGGER contacts_changed_zone AFTER UPDATE ON contacts FOR EACH ROW "
                    f"WHEN (NEW.kind IN {_PHONE_KINDS} OR OLD.kind IN {_PHONE_KINDS}) EXECUTE FUNCTION contacts_zone()")
    db.conn.execute(f"CREATE TRIGGER contacts_removed_zone AFTER DELETE ON contacts FOR EACH ROW "
                    f"WHEN (OLD.kind IN {_PHONE_KINDS}) EXECUTE FUNCTION contacts_zone()")


def _quarter(at: str) -> str:
    """The quarter hour of a timestamp text (``2026-03-01T10:15``), as dunning.store.report_rollups groups."""
    return f"substr({at}, 1, 14) || lpad((CAST(substr({at}, 15, 2) AS INTEGER) / 15 * 15)::text, 2, '0')"


def _attempt_key(r: str) -> str:
    return (f"{r}.channel, coalesce((SELECT c.kind FROM contacts c WHERE c.debtor_id = {r}.debtor_id "
            f"AND c.value = {r}.contact LIMIT 1), ''), "
            f"coalesce((SELECT d.timezone FROM debtors d WHERE d.id = {r}.debtor_id), ''), {_quarter(f'{r}.at')}")


def _reached(r: str) -> str:
    return f"CASE WHEN {r}.connected = 1 AND {r}.role = 'debtor' THEN 1 ELSE 0 END"


def _m026_report_rollups(db: PostgresMigrationDatabase) -> None:
    # A row already rolled up that changes moves its count with it (see the SQLite triggers' comment).
    add = ("INSERT INTO report_attempt_rollup AS r (channel, kind, zone, quarter, attempts, reached) "
           "VALUES ({key}, 1, {reached}) ON CONFLICT (quarter, channel, kind, zone) DO UPDATE SET "
           "attempts = r.attempts + 1, reached = r.reached + excluded.reached;")
    take = ("UPDATE report_attempt_rollup SET attempts = attempts - 1, reached = reached - {reached} "
            "WHERE (channel, kind, zone, quarter) = ({key});")
    mark = "(SELECT upto FROM report_rollup_marks WHERE name = 'attempts')"
    db.conn.execute(
        "CREATE FUNCTION report_attempt_rollup() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP <> 'INSERT' AND OLD.id <= {mark} THEN "
        f"{take.format(key=_attempt_key('OLD'), reached=_reached('OLD'))} END IF; "
        # An update of a row under the mark adds its new group; an insert under the mark is counted as it comes.
        f"IF (TG_OP = 'UPDATE' AND OLD.id <= {mark}) OR (TG_OP = 'INSERT' AND NEW.id <= {mark}) THEN "
        f"{add.format(key=_attempt_key('NEW'), reached=_reached('NEW'))} END IF; "
        "RETURN NULL; END $$"
    )
    for op in ("INSERT", "UPDATE", "DELETE"):
        db.conn.execute(f"CREATE TRIGGER report_attempt_rollup_{op.lower()} AFTER {op} ON contact_attempts "
                   "FOR EACH ROW EXECUTE FUNCTION report_attempt_rollup()")
    old_json = "OLD.data::jsonb"
    db.conn.execute(
        "CREATE FUNCTION report_event_rollup() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF OLD.seq <= (SELECT upto FROM report_rollup_marks WHERE name = 'events') THEN "
        "UPDATE report_event_rollup SET events = events - 1, "
        f"amount = amount - coalesce(({old_json} ->> 'amount')::bigint, 0) "
        "WHERE (kind, channel, quarter, rule, currency) = (OLD.kind, coalesce(OLD.channel, ''), "
        f"{_quarter('OLD.at')}, coalesce({old_json} ->> 'rule', ''), coalesce({old_json} ->> 'currency', '')); "
        "END IF; RETURN NULL; END $$"
    )
    db.conn.execute("CREATE TRIGGER report_event_rollup_update AFTER UPDATE ON events FOR EACH ROW "
                    "EXECUTE FUNCTION report_event_rollup()")


# (migration set, step) -> its triggers on PostgreSQL.
TRIGGER_FORMS: dict[tuple[str, str], Callable[[PostgresMigrationDatabase], None]] = {
    ("dunning", "m004_evidence"): _m004_evidence,
    ("dunning", "m021_debtor_zone"): _m021_debtor_zone,
    ("dunning", "m023_archive"): _m023_archive,
    ("dunning", "m026_report_rollups"): _m026_report_rollups,
}
