"""One connection to the database file: its pragmas, the schema, and write transactions.

Plain sqlite3: WAL, a busy timeout, and every write inside a ``BEGIN
IMMEDIATE`` transaction, so two dispatchers never interleave. sqlite-utils
(which imports numpy when numpy is installed) is imported only to apply a
pending migration or when a plugin asks for ``db``: a command that only
reads never loads it.
Evidence events appended inside a transaction are handed to the listener
(the ``record_event`` hook) only after it commits.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self, cast

from dunning.migration_set import all_applied, step_names
from dunning.migrations import migrations as core_migrations
from dunning.models import Event
from dunning.store.database import is_postgres_url
from dunning.store.errors import StoreError
from dunning.store.stamped_events import _StampedEvents

if TYPE_CHECKING:
    import sqlite_utils


Migration = tuple[str, Callable[["sqlite_utils.Database"], None]]


# ``[store] synchronous``: how hard SQLite pushes each commit to the disk.
SYNCHRONOUS_MODES = ("full", "normal")


class StoreConnection:
    """The file a Store has open, and the transactions its other parts write in."""

    # Set by ``_open``; every part of the store works through them.
    path: Path
    synchronous: str
    conn: sqlite3.Connection
    dialect: str  # "sqlite", or "postgresql" for a postgresql:// URL
    _db: sqlite_utils.Database | None
    on_events: Callable[[Sequence[Event]], None] | None
    _pending_events: _StampedEvents
    _last_link: tuple[int, str] | None  # the chain's last (seq, hash), once read in this transaction

    def _open(self, path: str | Path, synchronous: str) -> None:
        if synchronous not in SYNCHRONOUS_MODES:
            raise ValueError(f"synchronous must be one of {', '.join(SYNCHRONOUS_MODES)}, got {synchronous!r}")
        self.synchronous = synchronous
        self.dialect = "sqlite"
        if isinstance(path, str) and is_postgres_url(path):
            self._open_postgres(path)
            return
        self.path = Path(path)
        if self.path.is_dir():
            raise StoreError(f"{self.path}: is a folder, not a database file")
        try:
            self.conn = sqlite3.connect(str(self.path))
            self._db = None
            # What sqlite_utils.Database does on opening a file, so the triggers behave the same either way.
            self.conn.execute("PRAGMA recursive_triggers=on")
            self.conn.execute("PRAGMA journal_mode=WAL")
        except sqlite3.DatabaseError as exc:
            reason = "not a SQLite database" if "not a database" in str(exc) else f"cannot be opened ({exc})"
            raise StoreError(f"{self.path}: {reason}") from None
        self.conn.execute("PRAGMA busy_timeout=30000")
        # FULL: in WAL mode NORMAL may lose the last commits on a power cut, and a
        # lost "sent" is a message sent twice. NORMAL only for those who accept that.
        self.conn.execute(f"PRAGMA synchronous={synchronous.upper()}")
        self._pending_events = _StampedEvents()
        self._last_link = None
        self.on_events = None

    def _open_postgres(self, url: str) -> None:
        """A PostgreSQL database (dunning.store.postgres): the same subset of a connection, over psycopg."""
        from dunning.store.database import parse_postgres_url
        from dunning.store.postgres import PostgresConnection

        target = parse_postgres_url(url)
        self.dialect = "postgresql"
        # Files kept beside a database file (checkpoints) are named after the database, in the working folder.
        self.path = Path(target.database)
        # Typed as the sqlite3.Connection whose subset it offers: the store's parts use no more than that.
        self.conn = cast(sqlite3.Connection, PostgresConnection(target))
        self._db = None
        self._pending_events = _StampedEvents()
        self._last_link = None
        self.on_events = None

    @classmethod
    def _another_connection(cls, file: str, synchronous: str) -> Self:
        """A Store on a database file that a Store already opened (and migrated), for a second thread.

        Same pragmas; no migrations. Its connection belongs to the thread
        that calls this. Its events are announced by whoever sets its
        ``on_events``.
        """
        other = cls.__new__(cls)
        other._open(file, synchronous)
        return other

    def _database_file(self) -> str | None:
        """The absolute path SQLite has open (None for ``:memory:``): a second connection opens that,
        whatever the working directory has become since."""
        if self.dialect != "sqlite":
            return None  # a server: the work stays on this one connection, as for ``:memory:``
        for _seq, name, file in self.conn.execute("PRAGMA database_list"):
            if name == "main":
                return file or None
        return None

    @property
    def db(self) -> sqlite_utils.Database:
        """sqlite-utils over the same connection (for plugins' tables and migrations), made on first use.

        On PostgreSQL the same handle's portable part (``dunning.store.postgres_database``): ``execute``, ``query``,
        ``conn``, ``table_names()``, ``atomic()``; typed as the sqlite-utils database whose subset it offers."""
        if self._db is None and self.dialect == "postgresql":
            from dunning.store.postgres_database import PostgresDatabase

            self._db = cast("sqlite_utils.Database", PostgresDatabase(cast(Any, self.conn)))
        if self._db is None:
            import sqlite_utils

            self._db = sqlite_utils.Database(self.conn, execute_plugins=False)
        return self._db

    def close(self) -> None:
        self.conn.close()

    def migrate(self, plugin_migrations: Mapping[str, Sequence[Migration]]) -> None:
        """The core's schema, then each plugin's steps.

        A plugin step that raises is rolled back and noted in
        ``failed_migrations`` (plugin -> "step: error"); the other plugins'
        steps still run, so only what needs that plugin's tables stops.
        """
        self.failed_migrations: dict[str, str] = {}
        if self.dialect == "postgresql":
            from dunning.store.postgres_schema import migrate_postgres

            self.failed_migrations = migrate_postgres(cast(Any, self.conn), plugin_migrations)
            return
        wanted = {core_migrations.name: core_migrations.names()}
        wanted |= {f"plugin:{plugin}": step_names(steps) for plugin, steps in plugin_migrations.items()}
        if all_applied(self.conn, wanted):
            return  # one query, and no sqlite-utils: the usual start
        import sqlite_utils

        core_migrations.apply(self.db)
        for plugin, steps in plugin_migrations.items():
            named = sqlite_utils.Migrations(f"plugin:{plugin}")
            for name, fn in steps:
                named(name=name)(fn)
            try:
                named.apply(self.db)
            except Exception as exc:
                pending = named.pending(self.db)
                step = pending[0].name if pending else "?"
                self.failed_migrations[plugin] = f"migration {step} failed: {type(exc).__name__}: {exc}"

    # A write transaction left open (``begin_carried``, ``transaction(carry=True)``) for the next ``transaction()``
    # to take over and commit with its own work; kept on a failure (finished work) or undone (``_carried_kept``).
    _carried = False
    _carried_kept = False

    def begin_carried(self) -> None:
        """Open a write transaction whose commit is carried into the next ``transaction()``: that one commits
        (or rolls back) both as one, so the work begun here costs no commit of its own (``Store.claim``).
        ``end_carried`` commits it if no ``transaction()`` took it over; a failure undoes it."""
        self.conn.execute("BEGIN IMMEDIATE")
        self._last_link = None
        self._carried, self._carried_kept = True, False

    def end_carried(self, *, failed: bool = False) -> None:
        """Commit the transaction left open for the next ``transaction()``, if none took it over; on a ``failed``
        run, roll it back instead when it was begun by ``begin_carried`` (a claim: its batch stays pending)."""
        if not self._carried:
            return
        self._carried = False
        if failed and not self._carried_kept:
            self.conn.execute("ROLLBACK")
            self._pending_events = _StampedEvents()
            return
        self._commit()

    def _commit(self) -> None:
        self.conn.execute("COMMIT")
        committed, self._pending_events = self._pending_events, _StampedEvents()
        if committed and self.on_events:
            self.on_events(committed)

    @contextlib.contextmanager
    def transaction(self, *, carry: bool = False) -> Iterator[Self]:
        """A write transaction; nested calls join the outer one, and the first one after a carried transaction
        takes it over. ``carry``: left open when done, for the next ``transaction()`` to commit with its own
        work (``end_carried`` commits it if none does; kept on a failure): one commit less."""
        if self._carried:
            self._carried = False
        elif self.conn.in_transaction:
            yield self
            return
        else:
            self.conn.execute("BEGIN IMMEDIATE")
            self._last_link = None
        try:
            yield self
        except BaseException:
            self.conn.execute("ROLLBACK")
            self._pending_events = _StampedEvents()
            raise
        if carry:
            self._carried, self._carried_kept = True, True
            return
        self._commit()

    @contextlib.contextmanager
    def savepoint(self) -> Iterator[None]:
        """Undo a part of a transaction (a plugin's writes) without losing the rest."""
        name = f"sp{id(self)}_{len(self._pending_events)}"
        mark = len(self._pending_events)
        link = self._last_link
        self.conn.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            self.conn.execute(f"ROLLBACK TO {name}")
            self.conn.execute(f"RELEASE {name}")
            self._pending_events.truncate(mark)
            self._last_link = link
            raise
        self.conn.execute(f"RELEASE {name}")

    def counts(self) -> dict[str, int]:
        return {
            table: self.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("debtors", "cases", "obligations", "actions", "events")
        }

    def backup_to(self, target: Path) -> None:
        """A consistent copy of the whole database (for ``simulate``)."""
        dest = sqlite3.connect(str(target))
        with dest:
            self.conn.backup(dest)
        dest.close()


@contextlib.contextmanager
def write_transaction(db: sqlite_utils.Database) -> Iterator[None]:
    """A write transaction on dunning's connection for a plugin's own tables; joins one already open.

    ``BEGIN IMMEDIATE`` takes the write lock at once, as the core's own
    transactions do, so a plugin's write never leaves an implicit
    transaction behind that the core's next one would silently join.
    """
    conn = db.conn
    if conn.in_transaction:
        yield
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
