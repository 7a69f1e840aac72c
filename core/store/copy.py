"""Every table of a SQLite database copied into a new PostgreSQL one (``dunning db copy``).

The target has been migrated by the same steps (the core's and the enabled
plugins'), so both hold the same tables and columns; rows go over with
PostgreSQL's ``COPY``, table by table, in one transaction: a copy that fails
leaves the target as it was. The target's triggers are off while rows arrive
(they are rows the source's triggers already kept right: a contact copied
after its debtor must not clear the debtor's stored zone), and each
generated id then continues after the largest copied one.

The evidence chain's hashes go over as the 32 bytes they are; a row written
before migration m023 keeps them as hex text in SQLite, and is given them as
bytes here, which reads back the same (``dunning.event_codec``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any, cast

from dunning.store.connection import StoreConnection
from dunning.store.errors import StoreError
from dunning.store.postgres import PostgresConnection
from dunning.store.postgres_schema import MIGRATIONS_TABLE

# Filled by a migration step on every new database (m019's published reference rates): replaced by the source's.
FILLED_BY_MIGRATIONS = frozenset({"reference_rates"})


def copy_to_postgres(source: StoreConnection, target: StoreConnection) -> dict[str, int]:
    """Copy every table of ``source`` (SQLite) into ``target`` (PostgreSQL, migrated, empty); table -> rows.

    Raises ``StoreError`` naming the table when the target lacks one (a plugin not enabled there), already
    holds rows, or refuses a row.
    """
    if source.dialect != "sqlite" or target.dialect != "postgresql":
        raise StoreError("copy goes from a SQLite database to a PostgreSQL one")
    conn = cast(PostgresConnection, target.conn)
    where = conn.target.shown
    tables = _sqlite_tables(source.conn)
    there = {r[0] for r in conn.execute("SELECT table_name FROM information_schema.tables "
                                        "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'")}
    there.discard(MIGRATIONS_TABLE)
    for table in tables:
        if table not in there:
            raise StoreError(f"{where}: has no table {table} (is the plugin that keeps it enabled?)")
    for table in sorted(there):
        held = conn.execute(f'SELECT EXISTS (SELECT 1 FROM "{table}")').fetchone()
        if table not in FILLED_BY_MIGRATIONS and held == (True,):
            raise StoreError(f"{where}: is not empty (table {table} has rows): copy into a new database")
    copied: dict[str, int] = {}
    with target.transaction():
        # Off before any row arrives and on again once the references are checked: PostgreSQL alters no
        # table with checks still pending.
        for table in tables:
            conn.execute(f'ALTER TABLE "{table}" DISABLE TRIGGER USER')
        for table in tables:
            columns = [r[1] for r in source.conn.execute(f'PRAGMA table_info("{table}")')]
            binary = {c for c, kind in conn.column_types(table).items() if kind == "bytea"}
            if table in FILLED_BY_MIGRATIONS:
                conn.execute(f'DELETE FROM "{table}"')
            try:
                copied[table] = conn.copy_rows(table, columns, _rows(source.conn, table, columns, binary))
            except StoreError as exc:
                raise StoreError(f"{table}: {exc}") from None
        try:
            conn.execute("SET CONSTRAINTS ALL IMMEDIATE")
        except Exception as exc:  # a row naming one that is not there (SQLite does not check references)
            raise StoreError(f"{where}: {str(exc).strip().splitlines()[0]}") from None
        for table in tables:
            conn.execute(f'ALTER TABLE "{table}" ENABLE TRIGGER USER')
        for table, column in conn.execute(
                "SELECT table_name, column_name FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND is_identity = 'YES'").fetchall():
            # The next generated id follows the largest copied one, as SQLite's rowid would.
            conn.execute(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', '{column}'), "
                         f'coalesce((SELECT max("{column}") FROM "{table}"), 0) + 1, false)')
    return copied


def _sqlite_tables(conn: sqlite3.Connection) -> list[str]:
    return [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "AND name != '_sqlite_migrations' ORDER BY name")]


def _rows(conn: sqlite3.Connection, table: str, columns: Sequence[str], binary: set[str]) -> Iterator[Sequence[Any]]:
    names = ", ".join(f'"{c}"' for c in columns)
    hex_text = [i for i, c in enumerate(columns) if c in binary]
    for row in conn.execute(f'SELECT {names} FROM "{table}"'):
        if hex_text:
            row = list(row)
            for i in hex_text:
                if isinstance(row[i], str):  # written before m023: the same hash, as hex text
                    row[i] = bytes.fromhex(row[i])
        yield row
