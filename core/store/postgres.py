"""The store's connection on PostgreSQL: the part of ``sqlite3.Connection`` the store uses, over psycopg 3.

The store's parts speak through ``self.conn``: ``execute`` and ``executemany``
with ``?`` or ``:name`` parameters, cursors read with ``fetchone``,
``fetchall`` or a loop, ``rowcount``, ``lastrowid``, ``in_transaction``,
``BEGIN IMMEDIATE`` / ``COMMIT`` / ``ROLLBACK`` and savepoints as plain
statements. ``PostgresConnection`` offers that same subset, so on SQLite the
store keeps its ``sqlite3.Connection`` (nothing in between on the hot path)
and on PostgreSQL it gets this. Each distinct statement is rewritten once
(``dunning.store.dialect.to_postgres``, cached by its text): parameters to
psycopg's, DDL's types to PostgreSQL's, and ``RETURNING`` added to an insert
into a table with a generated id, so ``lastrowid`` reads as on SQLite.

psycopg is imported here alone, and this module only when a ``postgresql://``
database is opened: SQLite users never load it.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import psycopg
import psycopg.adapt

from dunning.store.database import PostgresTarget
from dunning.store.dialect import (column_types_query, identity_columns_query, insert_target, numbered_parameters,
                                   to_postgres, typed_values)
from dunning.store.errors import StoreError

Parameters = Sequence[Any] | Mapping[str, Any]
# The rewrite of a statement depends on its text alone: kept for the process, so each new connection (a
# second thread's, the next command's in one process) does not rewrite the store's statements again.
_rewrite = functools.lru_cache(maxsize=4096)(to_postgres)


class PostgresCursor:
    """The rows of one statement, read the way the store reads a ``sqlite3.Cursor``."""

    def __init__(self, cursor: psycopg.Cursor[Any], returning: bool) -> None:
        self._cursor = cursor
        self.lastrowid: int | None = None
        if returning:  # an INSERT given RETURNING id by the rewrite: the row it made, as sqlite3 tells it
            row = cursor.fetchone()
            self.lastrowid = row[0] if row else None
        self.rowcount = cursor.rowcount

    @property
    def description(self) -> Any:
        return self._cursor.description

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._cursor.fetchone() if self._cursor.description else None

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._cursor.fetchall() if self._cursor.description else []

    def fetchmany(self, size: int) -> list[tuple[Any, ...]]:
        return self._cursor.fetchmany(size) if self._cursor.description else []

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self.fetchall())


class PostgresConnection:
    """One psycopg connection, autocommit unless the store says ``BEGIN``, as sqlite3's is."""

    # Which SQL this connection speaks, for code handed a connection alone (a plugin's ``db.conn``).
    dialect = "postgresql"

    def __init__(self, target: PostgresTarget) -> None:
        self.target = target
        try:
            # autocommit: transactions are the store's own BEGIN ... COMMIT, exactly as on SQLite.
            self._conn = psycopg.connect(target.url, autocommit=True)
        except psycopg.OperationalError as exc:
            # libpq says it over two lines (what failed, then a hint): one line here, as every error of a command.
            reason = "; ".join(line.strip() for line in str(exc).splitlines() if line.strip()) or type(exc).__name__
            raise StoreError(f"{target.shown}: cannot connect ({reason})") from None
        # sum() of a BIGINT column is NUMERIC on PostgreSQL: read it as SQLite gives it, an int (a float for avg()).
        self._conn.adapters.register_loader("numeric", _SqliteNumber)
        # statement as written -> (as PostgreSQL takes it, RETURNING added, parameters ?1 ?2 by name)
        self._rewritten: dict[str, tuple[str, bool, bool]] = {}
        self._identity: dict[str, str] | None = None  # table -> its generated id column
        self._types: dict[str, dict[str, str]] | None = None  # table -> column -> its type
        # Rows inserted, updated or deleted through this connection, as sqlite3's ``total_changes``.
        self.total_changes = 0

    @property
    def in_transaction(self) -> bool:
        return self._conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE

    def _statement(self, sql: str) -> tuple[str, bool, bool]:
        known = self._rewritten.get(sql)
        if known is None:
            text = _rewrite(sql)
            table = insert_target(text)
            if table:
                text = typed_values(text, self._column_types().get(table, {}))
            column = self._identity_columns().get(table) if table else None
            returning = bool(column) and " RETURNING " not in text.upper()
            if returning:
                text = f"{text.rstrip().rstrip(';')} RETURNING {column}"
            known = self._rewritten[sql] = (text, returning, numbered_parameters(sql))
        return known

    def _column_types(self) -> dict[str, dict[str, str]]:
        if self._types is None:
            self._types = {}
            for table, column, kind in self._conn.execute(column_types_query()).fetchall():
                self._types.setdefault(table, {})[column] = kind
        return self._types

    def _identity_columns(self) -> dict[str, str]:
        if self._identity is None:
            self._identity = dict(self._conn.execute(identity_columns_query()).fetchall())
        return self._identity

    def execute(self, sql: str, parameters: Parameters = ()) -> PostgresCursor:
        text, returning, by_number = self._statement(sql)
        if text.lstrip().upper().startswith(("CREATE", "ALTER", "DROP")):
            self._identity = self._types = None  # the schema changed: the catalog is read again
            self._rewritten.clear()
        cursor = self._conn.cursor()
        cursor.execute(text.encode(), _parameters(parameters, by_number))
        return self._counted(PostgresCursor(cursor, returning))

    def executemany(self, sql: str, rows: Iterable[Parameters]) -> PostgresCursor:
        text, _returning, by_number = self._statement(sql)
        cursor = self._conn.cursor()
        cursor.executemany(text.encode(), [_parameters(r, by_number) for r in rows])
        return self._counted(PostgresCursor(cursor, returning=False))

    def _counted(self, cursor: PostgresCursor) -> PostgresCursor:
        # A statement that returns no rows changed rowcount rows; so did an INSERT given RETURNING id.
        if (cursor.description is None and cursor.rowcount > 0) or cursor.lastrowid is not None:
            self.total_changes += cursor.rowcount
        return cursor

    def column_types(self, table: str) -> dict[str, str]:
        """Each column of ``table`` and its PostgreSQL type (``bigint``, ``text``, ``bytea``...)."""
        return dict(self._column_types().get(table, {}))

    def copy_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        """``rows`` into ``table`` through ``COPY ... FROM STDIN``; how many. A refused row raises ``StoreError``
        with PostgreSQL's reason (which names the row's place in the stream)."""
        from psycopg import sql

        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in columns))
        count = 0
        try:
            with self._conn.cursor().copy(statement) as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
        except psycopg.Error as exc:
            lines = str(exc).strip().splitlines()
            raise StoreError("; ".join(lines[:2]) or type(exc).__name__) from None
        return count

    def getlimit(self, category: int) -> int:
        """sqlite3's limits the store asks for: parameters in one statement (PostgreSQL's wire protocol: 65535)."""
        if category == sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER:
            return 65535
        raise ValueError(f"no PostgreSQL counterpart for SQLite limit {category}")

    def commit(self) -> None:
        if self.in_transaction:
            self._conn.execute("COMMIT")

    def rollback(self) -> None:
        if self.in_transaction:
            self._conn.execute("ROLLBACK")

    def close(self) -> None:
        self._conn.close()


class _SqliteNumber(psycopg.adapt.Loader):
    """NUMERIC as the number SQLite's arithmetic gives: ``sum(amount)`` an int, ``avg(...)`` a float."""

    def load(self, data: Any) -> int | float:
        text = bytes(data).decode("ascii")
        return int(text) if text.lstrip("-").isdigit() else float(text)


def _parameters(parameters: Parameters, by_number: bool) -> Sequence[Any] | Mapping[str, Any]:
    if isinstance(parameters, Mapping):
        return parameters
    if by_number:  # ?1, ?2 were rewritten as %(p1)s, %(p2)s
        return {f"p{i}": value for i, value in enumerate(parameters, 1)}
    return list(parameters)
