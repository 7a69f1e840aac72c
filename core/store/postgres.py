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
import re
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

import psycopg
import psycopg.adapt

from dunning.store.database import PostgresTarget
from dunning.store.dialect import (_pieces, column_types_query, identity_columns_query, insert_target,
                                   numbered_parameters, to_postgres, typed_values)
from dunning.store.errors import StoreError
from dunning.store.pg_arrays import Group, bind_arrays, collapse_in_lists
from dunning.store.pg_locks import CHAIN_LOCK

Parameters = Sequence[Any] | Mapping[str, Any]
# The rewrite of a statement depends on its text alone: kept for the process, so each new connection (a
# second thread's, the next command's in one process) does not rewrite the store's statements again.
_rewrite = functools.lru_cache(maxsize=4096)(to_postgres)
_NAMED = re.compile(r"(?<![:\w]):[A-Za-z_]")  # a ``:name`` parameter, as dunning.store.dialect reads one
_SCHEMA_CHANGE = (b"CREATE", b"ALTER", b"DROP")
# SQLite's BEGIN IMMEDIATE takes the database's write lock as the transaction begins. Here it takes the evidence
# chain's lock (``dunning.store.pg_locks``) as it begins, in the same round trip: the store's write transactions
# take turns, as on SQLite, and none can hold a row another waits for while it waits for the chain. Taken at the
# first append instead, a transaction that changed a case and then appends, and one that appended and then changes
# the same case, would each wait for the other (tests/postgres/test_workers_lock_order.py).
_BEGIN_IMMEDIATE = re.compile(r"\s*BEGIN\s+(IMMEDIATE|EXCLUSIVE)\s*;?\s*", re.IGNORECASE)
_BEGIN_WITH_CHAIN_LOCK = f"BEGIN; SELECT pg_advisory_xact_lock({CHAIN_LOCK}, 0)".encode()


class _Said(NamedTuple):
    """A statement as this connection sends it, worked out once per distinct text."""

    text: bytes
    returning: bool  # RETURNING id added: the row made is read as ``lastrowid``
    # Sent as written with ``$1, $2...`` (psycopg's RawCursor: no parsing of the text on each run); False for a
    # statement naming its parameters (``:name``), sent in psycopg's ``%(name)s`` form.
    raw: bool
    by_number: bool  # (``%(name)s`` form only) ``?1, ?2`` handed over as ``{"p1": ...}``
    groups: tuple[Group, ...]  # the ``IN (?, ...)`` lists said as one array each (dunning.store.pg_arrays)
    listed: bytes  # the text with those lists as written: for values no array literal holds
    schema_change: bool


class PostgresCursor:
    """The rows of one statement, read the way the store reads a ``sqlite3.Cursor``."""

    def __init__(self, cursor: psycopg.Cursor[Any], returning: bool) -> None:
        self._cursor = cursor
        self.lastrowid: int | None = None
        if returning:  # an INSERT given RETURNING id by the rewrite: the row it made, as sqlite3 tells it
            row = cursor.fetchone()
            self.lastrowid = row[0] if row else None
        self.rowcount = cursor.rowcount
        # Whether the statement gave rows, read once: psycopg builds ``description`` anew on each reading.
        result = cursor.pgresult
        self.has_rows = bool(result is not None and result.nfields)

    @property
    def description(self) -> Any:
        return self._cursor.description

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._cursor.fetchone() if self.has_rows else None

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._cursor.fetchall() if self.has_rows else []

    def fetchmany(self, size: int) -> list[tuple[Any, ...]]:
        return self._cursor.fetchmany(size) if self.has_rows else []

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
        self._rewritten: dict[str, _Said] = {}  # statement as the store writes it -> as it is sent
        self._identity: dict[str, str] | None = None  # table -> its generated id column
        self._types: dict[str, dict[str, str]] | None = None  # table -> column -> its type
        # Rows inserted, updated or deleted through this connection, as sqlite3's ``total_changes``.
        self.total_changes = 0
        self._chain_locked = False  # the transaction began with BEGIN IMMEDIATE: it holds the chain's lock

    @property
    def holds_chain_lock(self) -> bool:
        """Whether the open transaction holds the evidence chain's lock (it began as a write transaction)."""
        return self._chain_locked and self.in_transaction

    @property
    def in_transaction(self) -> bool:
        return self._conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE

    def _statement(self, sql: str) -> _Said:
        known = self._rewritten.get(sql)
        if known is None:
            known = self._rewritten[sql] = self._said(sql)
        return known

    def _said(self, sql: str) -> _Said:
        if ":" in sql and any(_NAMED.search(text) for text, quoted in _pieces(sql) if not quoted):
            text, returning = self._completed(_rewrite(sql))
            return _Said(text.encode(), returning, False, numbered_parameters(sql), (), b"", _is_schema_change(text))
        collapsed, groups = collapse_in_lists(sql)
        text, returning = self._completed(_rewrite(collapsed, numbered=True))
        listed = self._completed(_rewrite(sql, numbered=True))[0] if groups else text
        return _Said(text.encode(), returning, True, False, groups, listed.encode(), _is_schema_change(text))

    def _completed(self, text: str) -> tuple[str, bool]:
        """``text`` with its ``VALUES`` typed by the target's columns and ``RETURNING`` its generated id."""
        table = insert_target(text)
        if table:
            text = typed_values(text, self._column_types().get(table, {}))
        column = self._identity_columns().get(table) if table else None
        returning = bool(column) and " RETURNING " not in text.upper()
        if returning:
            text = f"{text.rstrip().rstrip(';')} RETURNING {column}"
        return text, returning

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
        if _BEGIN_IMMEDIATE.fullmatch(sql):
            self._conn.execute(_BEGIN_WITH_CHAIN_LOCK)  # no parameters: one message, both statements
            self._chain_locked = True
            return PostgresCursor(self._conn.cursor(), returning=False)
        said = self._statement(sql)
        if said.text == b"BEGIN":
            self._chain_locked = False
        if said.schema_change:
            self._identity = self._types = None  # the schema changed: the catalog is read again
            self._rewritten.clear()
        cursor: psycopg.Cursor[Any]
        if said.raw:
            text, bound = _bound(said, parameters)
            cursor = psycopg.RawCursor(self._conn)
            cursor.execute(text, bound)
        else:
            cursor = self._conn.cursor()
            cursor.execute(said.text, _parameters(parameters, said.by_number))
        return self._counted(PostgresCursor(cursor, said.returning))

    def executemany(self, sql: str, rows: Iterable[Parameters]) -> PostgresCursor:
        """Every row's statement pipelined (psycopg's ``executemany``: sent together, one wait for the answers)."""
        said = self._statement(sql)
        cursor: psycopg.Cursor[Any]
        if said.raw:
            rows = list(rows)
            bound = [_bound(said, row) for row in rows]
            cursor = psycopg.RawCursor(self._conn)
            if all(text is said.text for text, _ in bound):
                cursor.executemany(said.text, [values for _, values in bound])
            else:  # a row whose list no array literal holds: every row with its lists as written
                plain = said._replace(groups=(), text=said.listed)
                cursor.executemany(said.listed, [_bound(plain, row)[1] for row in rows])
        else:
            cursor = self._conn.cursor()
            cursor.executemany(said.text, [_parameters(r, said.by_number) for r in rows])
        return self._counted(PostgresCursor(cursor, returning=False))

    def _counted(self, cursor: PostgresCursor) -> PostgresCursor:
        # A statement that returns no rows changed rowcount rows; so did an INSERT given RETURNING id.
        if (not cursor.has_rows and cursor.rowcount > 0) or cursor.lastrowid is not None:
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


def _is_schema_change(text: str) -> bool:
    return text.lstrip().upper().encode().startswith(_SCHEMA_CHANGE)


def _bound(said: _Said, parameters: Parameters) -> tuple[bytes, Sequence[Any]]:
    """The text to send and its parameters, positional: each ``IN`` list as one array when its values allow."""
    values = list(parameters.values()) if isinstance(parameters, Mapping) else list(parameters)
    if not said.groups:
        return said.text, values
    arrays = bind_arrays(values, said.groups)
    return (said.text, arrays) if arrays is not None else (said.listed, values)


def _parameters(parameters: Parameters, by_number: bool) -> Sequence[Any] | Mapping[str, Any]:
    if isinstance(parameters, Mapping):
        return parameters
    if by_number:  # ?1, ?2 were rewritten as %(p1)s, %(p2)s
        return {f"p{i}": value for i, value in enumerate(parameters, 1)}
    return list(parameters)
