"""What a plugin is handed as ``db`` when dunning's database is PostgreSQL: the part of ``sqlite_utils.Database``
that reads the same on both databases.

On SQLite a plugin's ``ctx.db`` (and ``RunContext.db``, ``StageContext.db``...) is a ``sqlite_utils.Database``
over the store's connection. On PostgreSQL it is this, over the store's ``PostgresConnection``: ``execute``
(SQL in SQLite's words, rewritten by ``dunning.store.dialect``), ``query`` (rows as dicts), ``conn``
(``conn.execute``, ``conn.executemany``, ``conn.in_transaction``), ``table_names()``, ``atomic()`` and
``dialect``. sqlite-utils' table helpers (``db["t"].insert(...)``) are SQLite's alone; a plugin that must
run on both writes its SQL through ``execute``. docs/plugins.md says which is which.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from dunning.store.postgres import PostgresConnection, PostgresCursor


class PostgresDatabase:
    """The store's PostgreSQL connection as a plugin's ``db``."""

    dialect = "postgresql"

    def __init__(self, conn: PostgresConnection) -> None:
        self.conn = conn

    def execute(self, sql: str, parameters: Sequence[Any] | Mapping[str, Any] = ()) -> PostgresCursor:
        return self.conn.execute(sql, parameters)

    def query(self, sql: str, parameters: Sequence[Any] | Mapping[str, Any] = ()) -> Iterator[dict[str, Any]]:
        """Each row as a dict of its columns, as ``sqlite_utils.Database.query`` gives them."""
        cursor = self.conn.execute(sql, parameters)
        names = [column.name for column in cursor.description or ()]
        for row in cursor.fetchall():
            yield dict(zip(names, row, strict=True))

    def table_names(self) -> list[str]:
        """The tables of dunning's schema (PostgreSQL's ``public``), as ``sqlite_utils.Database.table_names``."""
        rows = self.conn.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = "
                                 "current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name").fetchall()
        return [name for (name,) in rows]

    @contextlib.contextmanager
    def atomic(self) -> Iterator[None]:
        """One transaction for what the block writes; joins the store's transaction when one is open."""
        if self.conn.in_transaction:
            yield
            return
        self.conn.execute("BEGIN")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")
