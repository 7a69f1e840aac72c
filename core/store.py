"""The only place that speaks SQL.

SQLite through sqlite-utils: WAL, a busy timeout, and every write inside a
``BEGIN IMMEDIATE`` transaction, so two dispatchers never interleave. Rows
become models here (``_case``, ``_action``, ...) and nowhere else. Evidence
events appended inside a transaction are handed to the listener (the
``record_event`` hook) only after it commits.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import itertools
import json
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, overload

import attrs
import sqlite_utils

from dunning import creditor_reference, evidence
from dunning.checkpoints import Checkpoint
from dunning.calendar import from_text, to_text, utc_now
from dunning.migrations import migrations as core_migrations
from dunning.priority import CaseFacts
from dunning.models import (
    Action,
    ActionKind,
    ActionStatus,
    Case,
    Contact,
    Debtor,
    Event,
    Hold,
    Obligation,
    Payment,
    Promise,
    PromiseStatus,
    Stage,
    Status,
)

Migration = tuple[str, Callable[[sqlite_utils.Database], None]]


class NotFound(LookupError):
    """A case, action or debtor id that does not exist."""


class Conflict(RuntimeError):
    """Someone else changed the row first (another dispatcher, another operator)."""


def _date(text: str | None) -> dt.date | None:
    if not text:
        return None
    # Rows repeat a handful of dates (a million cases due the same day):
    # parse each once. Dates are immutable, so sharing them is safe.
    day = _DATES.get(text)
    if day is None:
        if len(_DATES) >= 4096:
            _DATES.clear()
        day = _DATES[text] = dt.date.fromisoformat(text)
    return day


_DATES: dict[str, dt.date] = {}


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


_CASE_COLUMNS = (
    "id, debtor_id, currency, stage, status, balance, anchor_due_on, opened_on, planned_through, "
    "next_action_on, broken_promises, account_locked, previous_stage, stage_entered_on, resolved_on, "
    "last_contact_on, last_payment_on, last_acknowledged_on, signals, creditor_reference"
)


def _case(row: Sequence[Any]) -> Case:
    return Case(
        id=row[0],
        debtor_id=row[1],
        currency=row[2],
        stage=row[3],
        status=row[4],
        balance=row[5],
        anchor_due_on=_date(row[6]),
        opened_on=_date(row[7]),
        planned_through=_date(row[8]),
        next_action_on=_date(row[9]),
        broken_promises=row[10],
        account_locked=bool(row[11]),
        previous_stage=row[12],
        stage_entered_on=_date(row[13]),
        resolved_on=_date(row[14]),
        last_contact_on=_date(row[15]),
        last_payment_on=_date(row[16]),
        last_acknowledged_on=_date(row[17]),
        signals=tuple(row[18].split(",")) if row[18] else (),
        creditor_reference=row[19],
    )


# The case columns with the debtor's time zone last (for ``due_cases``).
_DUE_COLUMNS = ", ".join("c." + c.strip() for c in _CASE_COLUMNS.split(",")) + ", d.timezone"

_ACTION_COLUMNS = (
    "id, key, case_id, kind, step, channel, template, target, dpd, planned_for, not_before, status, "
    "required, requires_approval, approved_by, attempts, last_error, reference, options, created_at"
)


def _action(row: Sequence[Any]) -> Action:
    return Action(
        id=row[0],
        key=row[1],
        case_id=row[2],
        kind=row[3],
        step=row[4],
        channel=row[5],
        template=row[6],
        target=row[7],
        dpd=row[8],
        planned_for=dt.date.fromisoformat(row[9]),
        not_before=from_text(row[10]),
        status=row[11],
        required=bool(row[12]),
        requires_approval=bool(row[13]),
        approved_by=row[14],
        attempts=row[15],
        last_error=row[16],
        reference=row[17],
        options=json.loads(row[18]),
        created_at=from_text(row[19]),
    )


def action_row_tail(planned: Any, not_before: dt.datetime, status: ActionStatus, now_text: str) -> tuple[Any, ...]:
    """An action's insert row without its key and case: the same for every case planning this item at this moment.

    A full row is ``(key, case_id, *tail)``; planning works each tail out once
    per item and run (``dispatch._CasePlanner``).
    """
    return (
        planned.kind.value,
        planned.step,
        planned.channel,
        planned.template,
        planned.target,
        planned.dpd,
        planned.day.isoformat(),
        to_text(not_before),
        status.value,
        int(planned.required),
        int(planned.requires_approval),
        json.dumps(dict(planned.options), sort_keys=True) if planned.options else "{}",
        now_text,
        now_text,
    )


_ACTION_INSERT_COLUMNS = (
    "key, case_id, kind, step, channel, template, target, dpd, planned_for, not_before, status, required, "
    "requires_approval, options, created_at, updated_at"
)
_INSERT_ACTION = f"INSERT OR IGNORE INTO actions ({_ACTION_INSERT_COLUMNS}) VALUES ({', '.join('?' * 16)})"

# --- many rows per statement ---------------------------------------------------------
#
# ``executemany`` steps SQLite once per row, and the sqlite3 module lets go
# of the GIL for every step and takes it back after. On planning's writer
# thread, which shares the GIL with the busy planning loop, each take-back
# may wait a whole switch interval (5 ms): per row, that is slower than
# writing sequentially. So rows go many to a statement: bound under the GIL
# once, run without it. SQLite names a VALUES list's columns column1,
# column2, ... A statement is prepared (and cached by sqlite3) once per
# number of rows, and a prepared statement of thousands of rows takes
# megabytes and tens of milliseconds to prepare, so the number of rows
# comes from a few fixed shapes, doubling from 16 to 4096: the last chunk
# is padded (by less than half) with rows of NULLs, which every statement
# below skips (an id, key or seq is never NULL).
_SHAPES = tuple(16 << i for i in range(9))

# Action rows are 16 values, but all the cases due on a day share everything
# except the key and the case (the "tail", see ``action_row_tail``): each
# statement binds its distinct tails once, in a small VALUES table ``t``,
# and three values per row (key, case, tail number). CROSS JOIN keeps the
# rows' VALUES list the outer loop, so rows are inserted (and get their ids)
# in the order given. Rows whose key is already there are ignored.
_TAIL_COLUMNS = (
    "n, kind, step, channel, template, target, dpd, planned_for, not_before, status, required, "
    "requires_approval, options, created_at, updated_at"
)
_INSERT_ACTIONS = (
    f"WITH t({_TAIL_COLUMNS}) AS (VALUES {{tails}}) "
    f"INSERT OR IGNORE INTO actions ({_ACTION_INSERT_COLUMNS}) "
    "SELECT r.column1, r.column2, "
    + ", ".join(f"t.{c.strip()}" for c in _TAIL_COLUMNS.split(",")[1:])
    + " FROM (VALUES {rows}) AS r CROSS JOIN t WHERE t.n = r.column3 AND r.column1 IS NOT NULL"
)
_TAIL_SHAPES = (4, 16, 64)
# With more distinct tails than that in one call, rows are bound whole.
_INSERT_WHOLE_ACTIONS = (
    f"INSERT OR IGNORE INTO actions ({_ACTION_INSERT_COLUMNS}) "
    "SELECT * FROM (VALUES {rows}) WHERE column1 IS NOT NULL"
)

_INSERT_EVENTS = (
    "INSERT INTO events (seq, at, recorded_at, case_id, kind, stage, dpd, channel, step, action_id, data, "
    "prev_hash, hash) SELECT * FROM (VALUES {rows}) WHERE column1 IS NOT NULL"
)

# Pending outreach that an action inserted after ``?`` (an id) replaces: the
# same case, step and channel, planned for an earlier day, not required.
# The new rows are a range of ids, the outer loop (CROSS JOIN keeps it so:
# the planner would otherwise scan every pending action per batch); the
# older ones are found through the actions_case index. (old id, old key, case, step, channel, new id, new key,
# new dpd, the case's stage)
_OLDER_OCCURRENCES = (
    "SELECT o.id, o.key, n.case_id, n.step, n.channel, n.id, n.key, n.dpd, c.stage "
    "FROM actions AS n CROSS JOIN actions AS o ON o.case_id = n.case_id AND o.status = 'pending' "
    "JOIN cases AS c ON c.id = n.case_id "
    "WHERE n.id > ? AND +n.status = 'pending' AND n.kind = 'outreach' AND o.kind = 'outreach' "
    "AND o.step = n.step AND o.channel = n.channel AND o.required = 0 AND o.planned_for < n.planned_for "
    "ORDER BY o.id"
)

# Ends older occurrences (rows of id, last_error, updated_at; a padding row's NULL id matches none).
_SUPERSEDE = (
    "UPDATE actions SET status = 'superseded', last_error = v.column2, updated_at = v.column3 "
    "FROM (VALUES {rows}) AS v WHERE actions.id = v.column1 AND actions.status = 'pending'"
)

# Planning's compare-and-set on a case's cursor: only if nobody planned it since it was read.
_ADVANCE_CURSOR = (
    "UPDATE cases SET planned_through = ?, next_action_on = ? "
    "WHERE id = ? AND status = 'open' AND planned_through IS ?"
)
# The same for many cases in one statement; its rows are _ADVANCE_CURSOR's
# parameters (a padding row's NULL id matches no case).
_ADVANCE_CURSORS = (
    "UPDATE cases SET planned_through = v.column1, next_action_on = v.column2 FROM (VALUES {rows}) AS v "
    "WHERE cases.id = v.column3 AND cases.status = 'open' AND cases.planned_through IS v.column4"
)
# UPDATE ... FROM came with SQLite 3.33; older libraries run _ADVANCE_CURSOR row by row.
_HAS_UPDATE_FROM = sqlite3.sqlite_version_info >= (3, 33, 0)


@functools.lru_cache(maxsize=64)
def _shaped_sql(template: str, **groups: tuple[int, int]) -> str:
    """``template`` with each ``{name}`` replaced by ``count`` groups of ``width`` placeholders.

    ``groups`` maps a name to (count, width). Cached, so each shape is one
    str object and sqlite3's statement cache finds it without rebuilding it.
    """
    return template.format(**{
        name: ", ".join(["(" + ", ".join("?" * width) + ")"] * count) for name, (count, width) in groups.items()
    })


def _shape(count: int, shapes: Sequence[int], most: int) -> int:
    """The smallest shape that holds ``count`` rows, or the largest allowed (at most ``most`` rows)."""
    allowed = [size for size in shapes if size <= most] or [1]
    return next((size for size in allowed if size >= count), allowed[-1])


def _padded(rows: Sequence[Sequence[Any]], size: int, width: int) -> list[Any]:
    """``rows`` flattened into one parameter list, padded with NULL rows to ``size`` rows."""
    flat = [value for row in rows for value in row]
    flat.extend([None] * ((size - len(rows)) * width))
    return flat


def _execute_rows(conn: sqlite3.Connection, template: str, rows: Sequence[Sequence[Any]], width: int) -> int:
    """Run the ``{rows}`` statement ``template`` over ``rows`` of ``width`` values; returns rows changed."""
    if not rows:
        return 0
    before = conn.total_changes
    if len(rows) < _SHAPES[0]:
        # A few rows (one event of a delivery, say): one row per step costs
        # less than padding, and there are few steps to wait for.
        conn.executemany(_shaped_sql(template, rows=(1, width)), rows)
        return conn.total_changes - before
    most = conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // width
    start = 0
    while start < len(rows):
        size = _shape(len(rows) - start, _SHAPES, most)
        chunk = rows[start : start + size]
        conn.execute(_shaped_sql(template, rows=(size, width)), _padded(chunk, size, width))
        start += size
    return conn.total_changes - before


def _insert_actions(conn: sqlite3.Connection, rows: Sequence[tuple[Any, ...]]) -> int:
    """Insert action rows (``(key, case_id, *action_row_tail(...))``), in order, ignoring keys already there; returns rows inserted."""
    tails: dict[tuple[Any, ...], int] = {}
    narrow: list[tuple[Any, Any, int]] = []
    for row in rows:
        tail = row[2:]
        number = tails.get(tail)
        if number is None:
            number = tails[tail] = len(tails)
        narrow.append((row[0], row[1], number))
    if len(tails) > _TAIL_SHAPES[-1] or len(rows) < _SHAPES[0]:
        return _execute_rows(conn, _INSERT_WHOLE_ACTIONS, rows, 16)
    tail_size = _shape(len(tails), _TAIL_SHAPES, _TAIL_SHAPES[-1])
    tail_params = _padded([(number, *tail) for tail, number in tails.items()], tail_size, 15)
    most = (conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) - len(tail_params)) // 3
    before = conn.total_changes
    start = 0
    while start < len(narrow):
        size = _shape(len(narrow) - start, _SHAPES, most)
        chunk = narrow[start : start + size]
        conn.execute(_shaped_sql(_INSERT_ACTIONS, tails=(tail_size, 15), rows=(size, 3)),
                     tail_params + _padded(chunk, size, 3))
        start += size
    return conn.total_changes - before


def _stamped(event: Event, recorded_at: dt.datetime, seq: int, prev_hash: str, digest: str) -> Event:
    """The event as appended: recorded, numbered and linked.

    Spelled out rather than ``attrs.evolve`` (which looks the fields up on
    every call); tests/core/test_planning_writer.py checks it keeps every field.
    """
    return Event(kind=event.kind, at=event.at, case_id=event.case_id, stage=event.stage, dpd=event.dpd,
                 channel=event.channel, step=event.step, action_id=event.action_id, data=event.data,
                 recorded_at=recorded_at, seq=seq, prev_hash=prev_hash, hash=digest)


class _StampedEvents(Sequence[Event]):
    """Events appended in one transaction, as ``on_events`` receives them once it commits.

    Each is built (``_stamped``) when first asked for, from the event handed
    in and its row: a listener that looks at none of them (no record_event
    hook) costs nothing, which matters when planning appends a million.
    """

    def __init__(self) -> None:
        self._sources: list[Event] = []
        self._rows: list[tuple[Any, ...]] = []  # the events table's rows: seq first, prev_hash and hash last
        self._recorded: list[dt.datetime] = []
        self._built: dict[int, Event] = {}

    def add(self, sources: Sequence[Event], rows: Sequence[tuple[Any, ...]], recorded_at: dt.datetime) -> None:
        self._sources.extend(sources)
        self._rows.extend(rows)
        self._recorded.extend([recorded_at] * len(rows))

    def truncate(self, length: int) -> None:
        """Forget the events after the first ``length`` (a savepoint rolled back)."""
        for kept in (self._sources, self._rows, self._recorded):
            del kept[length:]
        self._built = {i: e for i, e in self._built.items() if i < length}

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, index: int) -> Event: ...

    @overload
    def __getitem__(self, index: slice) -> list[Event]: ...

    def __getitem__(self, index: int | slice) -> Event | list[Event]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("event index out of range")
        event = self._built.get(index)
        if event is None:
            row = self._rows[index]
            event = self._built[index] = _stamped(self._sources[index], self._recorded[index], row[0], row[-2], row[-1])
        return event


@attrs.frozen
class CasePlanWrite:
    """Planning's result for one case, written atomically with the case's cursor."""

    case_id: int
    expected_planned_through: dt.date | None
    planned_through: dt.date
    next_action_on: dt.date | None
    actions: Sequence[tuple[Any, ...]]  # rows for _INSERT_ACTIONS (see ``action_row_tail``)
    events: Sequence[Event] = ()
    # The run's moment: when an older occurrence is superseded (its event's ``at``).
    planned_at: dt.datetime | None = None


@attrs.frozen
class ImportedObligation:
    debtor: Debtor
    contacts: Sequence[Contact]
    reference: str
    amount: int
    currency: str
    issued_on: dt.date | None
    due_on: dt.date


@attrs.frozen
class ImportResult:
    debtors: int
    cases_opened: int
    obligations_added: int
    obligations_unchanged: int


@attrs.frozen
class SavedPlans:
    """What one batch of ``save_plans`` wrote, once committed."""

    submitted: int  # writes in the batch
    cases: int  # cases whose cursor still matched, and were written
    inserted: int  # actions inserted (rows whose key already existed are not counted)
    superseded: int = 0  # older pending occurrences the inserted ones replaced


class _PlanWriterThread:
    """The writer behind ``Store.save_plans_pipelined``: one thread, its own connection.

    Batches arrive through a bounded queue; results (a ``SavedPlans`` with
    the events that batch committed, or the exception that stopped the
    writer) go back through an unbounded one, in order. After an error, or
    once asked to stop, the thread keeps taking batches off the queue without
    writing them, so the caller never blocks on a full queue.
    """

    _STOP = None

    def __init__(self, file: str, depth: int, synchronous: str):
        self._file, self._synchronous = file, synchronous
        self._todo: queue.Queue[Sequence[CasePlanWrite] | None] = queue.Queue(maxsize=max(depth, 1))
        self._done: queue.SimpleQueue[tuple[SavedPlans, list[Sequence[Event]]] | BaseException] = queue.SimpleQueue()
        self._stopping = threading.Event()
        self._outstanding = 0  # batches put and not yet collected
        self._thread = threading.Thread(target=self._run, name="dunning-plan-writer", daemon=True)
        self._thread.start()

    def put(self, writes: Sequence[CasePlanWrite]) -> None:
        self._todo.put(writes)
        self._outstanding += 1

    def committed(self, *, wait: bool) -> Iterator[tuple[SavedPlans, list[Sequence[Event]]]]:
        """Results of the batches written so far (all of them, if ``wait``); raises the writer's error."""
        while self._outstanding:
            try:
                result = self._done.get() if wait else self._done.get_nowait()
            except queue.Empty:
                return
            self._outstanding -= 1
            if isinstance(result, BaseException):
                self._outstanding = 0  # nothing after a failed batch is written
                raise result
            yield result

    def stop(self) -> list[tuple[SavedPlans, list[Sequence[Event]]]]:
        """Let the batch in hand finish, drop the queued ones, end the thread; the results not yet collected."""
        self._stopping.set()
        while self._thread.is_alive():
            try:
                self._todo.put(self._STOP, timeout=0.1)  # the thread drains the queue, so room comes
                break
            except queue.Full:
                continue
        self._thread.join()
        leftover = []
        while self._outstanding:
            self._outstanding -= 1
            try:
                result = self._done.get_nowait()
            except queue.Empty:
                break  # dropped unwritten
            if not isinstance(result, BaseException):
                leftover.append(result)
        return leftover

    def _run(self) -> None:
        writer: Store | None = None
        failed = False
        try:
            writer = Store._another_connection(self._file, self._synchronous)
        except BaseException as exc:
            failed = True
            self._done.put(exc)
        try:
            while True:
                writes = self._todo.get()
                if writes is self._STOP:
                    return
                if failed or self._stopping.is_set() or writer is None:
                    continue  # not written; the caller learns why from the error already sent
                events: list[Sequence[Event]] = []
                writer.on_events = events.append  # called after the batch commits
                try:
                    cases, inserted, superseded = writer.save_plans(writes)
                except BaseException as exc:  # save_plans rolled the batch back
                    failed = True
                    self._done.put(exc)
                    continue
                self._done.put((SavedPlans(len(writes), cases, inserted, superseded), events))
        finally:
            if writer is not None:
                writer.close()


class StoreError(ValueError):
    """A database file that cannot be used; the message names it."""


def missing_database(path: Path) -> str:
    return (f"{path}: no such database (`dunning init` creates one beside dunning.toml; "
            "`dunning import --create FILE` starts a new one)")


# ``[store] synchronous``: how hard SQLite pushes each commit to the disk.
SYNCHRONOUS_MODES = ("full", "normal")


class Store:
    """One SQLite database file, with the core's schema and the plugins' tables."""

    def __init__(self, path: str | Path, plugin_migrations: Mapping[str, Sequence[Migration]] | None = None,
                 *, synchronous: str = "full"):
        self._open(path, synchronous)
        self.migrate(plugin_migrations or {})

    def _open(self, path: str | Path, synchronous: str) -> None:
        if synchronous not in SYNCHRONOUS_MODES:
            raise ValueError(f"synchronous must be one of {', '.join(SYNCHRONOUS_MODES)}, got {synchronous!r}")
        self.path = Path(path)
        self.synchronous = synchronous
        if self.path.is_dir():
            raise StoreError(f"{self.path}: is a folder, not a database file")
        try:
            self.db = sqlite_utils.Database(self.path, execute_plugins=False)
            self.conn: sqlite3.Connection = self.db.conn
            self.conn.execute("PRAGMA journal_mode=WAL")
        except sqlite3.DatabaseError as exc:
            reason = "not a SQLite database" if "not a database" in str(exc) else f"cannot be opened ({exc})"
            raise StoreError(f"{self.path}: {reason}") from None
        self.conn.execute("PRAGMA busy_timeout=30000")
        # FULL: in WAL mode NORMAL may lose the last commits on a power cut, and a
        # lost "sent" is a message sent twice. NORMAL only for those who accept that.
        self.conn.execute(f"PRAGMA synchronous={synchronous.upper()}")
        self._pending_events = _StampedEvents()
        self._last_link: tuple[int, str] | None = None
        self.on_events: Callable[[Sequence[Event]], None] | None = None

    @classmethod
    def _another_connection(cls, file: str, synchronous: str) -> "Store":
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
        for _seq, name, file in self.conn.execute("PRAGMA database_list"):
            if name == "main":
                return file or None
        return None

    def close(self) -> None:
        self.db.close()

    # --- schema -------------------------------------------------------------

    def migrate(self, plugin_migrations: Mapping[str, Sequence[Migration]]) -> None:
        """The core's schema, then each plugin's steps.

        A plugin step that raises is rolled back and noted in
        ``failed_migrations`` (plugin -> "step: error"); the other plugins'
        steps still run, so only what needs that plugin's tables stops.
        """
        core_migrations.apply(self.db)
        self.failed_migrations: dict[str, str] = {}
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

    # --- transactions ------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self) -> Iterator["Store"]:
        """A write transaction; nested calls join the outer one."""
        if self.conn.in_transaction:
            yield self
            return
        self.conn.execute("BEGIN IMMEDIATE")
        self._last_link = None
        try:
            yield self
        except BaseException:
            self.conn.execute("ROLLBACK")
            self._pending_events = _StampedEvents()
            raise
        self.conn.execute("COMMIT")
        committed, self._pending_events = self._pending_events, _StampedEvents()
        if committed and self.on_events:
            self.on_events(committed)

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

    # --- evidence ------------------------------------------------------------

    def append_events(self, events: Iterable[Event]) -> list[Event]:
        """Append to the log inside the current transaction, chaining hashes."""
        start = len(self._pending_events)
        self._append_events(events)
        return self._pending_events[start:]

    def _append_events(self, events: Iterable[Event]) -> None:
        """``append_events`` without building the appended Events (see _StampedEvents)."""
        if not self.conn.in_transaction:
            raise RuntimeError("append_events needs a transaction")
        if self._last_link is None:
            # Read inside the write transaction: another connection (another
            # dispatcher, or planning's writer thread) may have appended since.
            row = self.conn.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
            self._last_link = (row[0], row[1]) if row else (0, evidence.GENESIS)
        seq, prev = self._last_link
        sources = list(events)
        rows: list[tuple[Any, ...]] = []
        recorded_at = utc_now().replace(microsecond=0)
        recorded_text = to_text(recorded_at)
        # A batch's events mostly share one business moment: format each once.
        at_texts: dict[dt.datetime, str] = {}
        for event in sources:
            seq += 1
            at_text = at_texts.get(event.at)
            if at_text is None:
                at_text = at_texts[event.at] = to_text(event.at)
            # One encoding of ``data`` serves the column and the hash.
            data_text = evidence.canonical_text(event.data if type(event.data) is dict else dict(event.data))
            digest = evidence.link_hash(prev, seq, event, at_text, recorded_text, data_text)
            rows.append((seq, at_text, recorded_text, event.case_id, event.kind, event.stage, event.dpd, event.channel,
                         event.step, event.action_id, data_text, prev, digest))
            prev = digest
        if rows:
            _execute_rows(self.conn, _INSERT_EVENTS, rows, 13)
        self._last_link = (seq, prev)
        self._pending_events.add(sources, rows, recorded_at)

    def events(
        self, *, case_id: int | None = None, kind: str | None = None, limit: int | None = None, after_seq: int = 0
    ) -> list[Event]:
        where, params = ["seq > ?"], [after_seq]
        if case_id is not None:
            where.append("case_id = ?")
            params.append(case_id)
        if kind is not None:
            where.append("kind = ?")
            params.append(kind)
        sql = (
            "SELECT seq, at, case_id, kind, stage, dpd, channel, step, action_id, data, prev_hash, hash, recorded_at "
            f"FROM events WHERE {' AND '.join(where)} ORDER BY seq"
        )
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [
            Event(seq=r[0], at=from_text(r[1]), case_id=r[2], kind=r[3], stage=r[4], dpd=r[5], channel=r[6],
                  step=r[7], action_id=r[8], data=json.loads(r[9]), prev_hash=r[10], hash=r[11],
                  recorded_at=from_text(r[12]))
            for r in self.conn.execute(sql, params)
        ]

    def mirror_cursors(self) -> dict[str, int]:
        """Each record_event mirror's cursor: the last seq it took without raising."""
        return {plugin: seq for plugin, seq in self.conn.execute("SELECT plugin, seq FROM mirror_cursors")}

    def set_mirror_cursor(self, plugin: str, seq: int) -> None:
        with self.transaction():
            self.conn.execute(
                "INSERT INTO mirror_cursors (plugin, seq, updated_at) VALUES (?, ?, ?) "
                # Never backwards: another dispatcher may have handed the mirror more meanwhile.
                "ON CONFLICT (plugin) DO UPDATE SET seq = max(seq, excluded.seq), updated_at = excluded.updated_at",
                [plugin, seq, to_text(utc_now())])

    def last_seq(self) -> int:
        row = self.conn.execute("SELECT max(seq) FROM events").fetchone()
        return row[0] or 0

    def event_rows_for_verify(self) -> Iterator[dict[str, Any]]:
        cursor = self.conn.execute(
            "SELECT seq, at, recorded_at, case_id, kind, stage, dpd, channel, step, action_id, data, prev_hash, hash "
            "FROM events ORDER BY seq"
        )
        names = [d[0] for d in cursor.description]
        for row in cursor:
            record = dict(zip(names, row))
            record["data"] = json.loads(record["data"])
            yield record

    def event_hash(self, seq: int) -> str | None:
        row = self.conn.execute("SELECT hash FROM events WHERE seq = ?", [seq]).fetchone()
        return row[0] if row else None

    def chain_head(self) -> tuple[int, str]:
        """The last event's seq and hash (0 and the genesis hash for an empty log)."""
        row = self.conn.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
        return (row[0], row[1]) if row else (0, evidence.GENESIS)

    def add_checkpoint(self, checkpoint: Checkpoint) -> None:
        with self.transaction():
            self.conn.execute(
                "INSERT INTO checkpoints (seq, hash, signed_at, public_key, signature) VALUES (?, ?, ?, ?, ?)",
                [checkpoint.seq, checkpoint.hash, checkpoint.signed_at, checkpoint.public_key, checkpoint.signature])

    def latest_checkpoint(self) -> Checkpoint | None:
        row = self.conn.execute(
            "SELECT seq, hash, signed_at, public_key, signature FROM checkpoints ORDER BY id DESC LIMIT 1").fetchone()
        return Checkpoint(*row) if row else None

    def checkpoints(self) -> list[Checkpoint]:
        return [Checkpoint(*row) for row in self.conn.execute(
            "SELECT seq, hash, signed_at, public_key, signature FROM checkpoints ORDER BY id")]

    # --- reading ---------------------------------------------------------------

    def debtor(self, debtor_id: str) -> Debtor | None:
        row = self.conn.execute(
            "SELECT id, name, kind, country, timezone, locale, region FROM debtors WHERE id = ?", [debtor_id]
        ).fetchone()
        return Debtor(*row) if row else None

    def contacts(self, debtor_id: str) -> list[Contact]:
        return [
            Contact(debtor_id=r[0], kind=r[1], value=r[2], role=r[3], name=r[4], bad=bool(r[5]), id=r[6])
            for r in self.conn.execute(
                "SELECT debtor_id, kind, value, role, name, bad, id FROM contacts WHERE debtor_id = ? ORDER BY id",
                [debtor_id],
            )
        ]

    def case(self, case_id: int) -> Case:
        row = self.conn.execute(f"SELECT {_CASE_COLUMNS} FROM cases WHERE id = ?", [case_id]).fetchone()
        if row is None:
            raise NotFound(f"no case with id {case_id}")
        return _case(row)

    def cases(self, *, stage: str | None = None, status: str | None = None, limit: int | None = None) -> list[Case]:
        where, params = ["1"], []
        if stage:
            where.append("stage = ?")
            params.append(stage)
        if status:
            where.append("status = ?")
            params.append(status)
        sql = f"SELECT {_CASE_COLUMNS} FROM cases WHERE {' AND '.join(where)} ORDER BY id"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [_case(r) for r in self.conn.execute(sql, params)]

    def stage_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for stage, status, n in self.conn.execute(
            "SELECT stage, status, count(*) FROM cases GROUP BY stage, status"
        ):
            key = stage if status == Status.OPEN else status
            counts[key] = counts.get(key, 0) + n
        return counts

    def obligations(self, case_id: int) -> list[Obligation]:
        return [
            Obligation(case_id=r[0], reference=r[1], amount=r[2], currency=r[3], issued_on=_date(r[4]),
                       due_on=dt.date.fromisoformat(r[5]), paid=r[6], id=r[7])
            for r in self.conn.execute(
                "SELECT case_id, reference, amount, currency, issued_on, due_on, paid, id FROM obligations "
                "WHERE case_id = ? ORDER BY due_on, id",
                [case_id],
            )
        ]

    def promises(self, case_id: int) -> list[Promise]:
        return [
            Promise(case_id=r[0], amount=r[1], due_at=from_text(r[2]), status=r[3], created_at=from_text(r[4]), id=r[5])
            for r in self.conn.execute(
                "SELECT case_id, amount, due_at, status, created_at, id FROM promises WHERE case_id = ? ORDER BY id",
                [case_id],
            )
        ]

    def promises_due_on(self, day: dt.date, zone: dt.tzinfo, statuses: Iterable[str] = ("pending",)) -> list[Promise]:
        """Promises falling due on ``day`` in ``zone`` with one of ``statuses``, earliest first (for work queues)."""
        start = dt.datetime.combine(day, dt.time(), zone)
        end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), zone)
        wanted = [str(s) for s in statuses]
        return [
            Promise(case_id=r[0], amount=r[1], due_at=from_text(r[2]), status=r[3], created_at=from_text(r[4]), id=r[5])
            for r in self.conn.execute(
                "SELECT case_id, amount, due_at, status, created_at, id FROM promises WHERE due_at >= ? AND due_at < ? "
                f"AND status IN ({', '.join('?' for _ in wanted)}) ORDER BY due_at, id",
                [to_text(start), to_text(end), *wanted],
            )
        ]

    def payments(self, case_id: int) -> list[Payment]:
        return [
            Payment(case_id=r[0], amount=r[1], at=from_text(r[2]), reference=r[3], id=r[4])
            for r in self.conn.execute(
                "SELECT case_id, amount, at, reference, id FROM payments WHERE case_id = ? ORDER BY at, id", [case_id]
            )
        ]

    def holds(self, case_id: int, *, active_on: dt.date | None = None) -> list[Hold]:
        holds = [
            Hold(case_id=r[0], reason=r[1], since=from_text(r[2]), until=_date(r[3]), note=r[4],
                 released_at=from_text(r[5]) if r[5] else None, id=r[6])
            for r in self.conn.execute(
                "SELECT case_id, reason, since, until, note, released_at, id FROM holds WHERE case_id = ? ORDER BY id",
                [case_id],
            )
        ]
        if active_on is not None:
            holds = [h for h in holds if h.active_on(active_on)]
        return holds

    def action(self, action_id: int) -> Action:
        row = self.conn.execute(f"SELECT {_ACTION_COLUMNS} FROM actions WHERE id = ?", [action_id]).fetchone()
        if row is None:
            raise NotFound(f"no action with id {action_id}")
        return _action(row)

    def actions(self, *, case_id: int | None = None, statuses: Iterable[str] | None = None) -> list[Action]:
        where, params = ["1"], []
        if case_id is not None:
            where.append("case_id = ?")
            params.append(case_id)
        if statuses is not None:
            status_list = list(statuses)
            where.append(f"status IN ({', '.join('?' * len(status_list))})")
            params.extend(status_list)
        return [
            _action(r)
            for r in self.conn.execute(
                f"SELECT {_ACTION_COLUMNS} FROM actions WHERE {' AND '.join(where)} ORDER BY id", params
            )
        ]

    def required_actions(self, case_id: int, up_to_dpd: int | None, statuses: Iterable[ActionStatus]) -> list[Action]:
        """The case's required outreach for days up to ``up_to_dpd``, in these statuses."""
        wanted = [s.value for s in statuses]
        return [
            _action(r)
            for r in self.conn.execute(
                f"SELECT {_ACTION_COLUMNS} FROM actions WHERE case_id = ? AND required = 1 "
                f"AND status IN ({', '.join('?' * len(wanted))}) AND (? IS NULL OR dpd <= ?) ORDER BY id",
                [case_id, *wanted, up_to_dpd, up_to_dpd],
            )
        ]


    def ended_unsent(self, keys: Iterable[str]) -> set[str]:
        """Those of ``keys`` whose action ended without going out (superseded, skipped, cancelled, blocked, ...).

        For plugins' own task lists: a task written for an occurrence whose
        outcome was never recorded as sent (the run stopped in between) must
        not be worked once that occurrence is superseded or dropped.
        """
        wanted = list(dict.fromkeys(keys))
        ended: set[str] = set()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            ended.update(r[0] for r in self.conn.execute(
                f"SELECT key FROM actions WHERE key IN ({', '.join('?' * len(chunk))}) "
                "AND status NOT IN ('sent', 'pending', 'sending', 'awaiting_approval', 'in_doubt')", chunk))
        return ended

    def announced_deadline(self, case_id: int) -> tuple[dt.date, str | None] | None:
        """The latest deadline a message sent for the case gave, and the stage it leads to; None if none."""
        row = self.conn.execute("SELECT deadline, stage FROM announced_deadlines WHERE case_id = ?",
                                [case_id]).fetchone()
        return (dt.date.fromisoformat(row[0]), row[1]) if row else None

    def record_deadline(self, case_id: int, deadline: dt.date, stage: str | None, key: str, at: dt.datetime) -> None:
        """Keep the deadline a sent message gave (inside the caller's transaction); an earlier one never replaces a later."""
        self.conn.execute(
            "INSERT INTO announced_deadlines (case_id, deadline, stage, key, at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(case_id) DO UPDATE SET deadline = excluded.deadline, stage = excluded.stage, "
            "key = excluded.key, at = excluded.at WHERE excluded.deadline >= announced_deadlines.deadline",
            [case_id, deadline.isoformat(), stage, key, to_text(at)],
        )

    def existing_obligation(self, debtor_id: str, reference: str) -> tuple[int, str, str] | None:
        """(amount, currency, due_on) of an obligation already stored under this reference."""
        row = self.conn.execute(
            "SELECT amount, currency, due_on FROM obligations WHERE debtor_id = ? AND reference = ?", [debtor_id, reference]
        ).fetchone()
        return (row[0], row[1], row[2]) if row else None

    def open_cases_of(self, debtor_id: str) -> list[Case]:
        return [_case(r) for r in self.conn.execute(
            f"SELECT {_CASE_COLUMNS} FROM cases WHERE debtor_id = ? AND status = 'open' ORDER BY id", [debtor_id])]

    def open_case_id(self, debtor_id: str, currency: str) -> int | None:
        row = self.conn.execute(
            "SELECT id FROM cases WHERE debtor_id = ? AND currency = ? AND status = 'open'", [debtor_id, currency]
        ).fetchone()
        return row[0] if row else None

    # --- import ----------------------------------------------------------------

    def import_obligations(self, items: Sequence[ImportedObligation], now: dt.datetime, today: dt.date) -> tuple[ImportResult, list[int]]:
        """Write a validated import in one transaction. Returns the counts and the touched case ids.

        An obligation already present with the same amount and due date is left
        alone, so importing the same file twice changes nothing.
        """
        now_text = to_text(now)
        debtors_seen: set[str] = set()
        cases_opened = added = unchanged = 0
        touched: set[int] = set()
        with self.transaction():
            for item in items:
                d = item.debtor
                if d.id not in debtors_seen:
                    debtors_seen.add(d.id)
                    self.conn.execute(
                        "INSERT INTO debtors (id, name, kind, country, timezone, locale, region, created_at, updated_at) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET name = excluded.name, "
                        "kind = excluded.kind, country = coalesce(excluded.country, country), "
                        "timezone = coalesce(excluded.timezone, timezone), locale = coalesce(excluded.locale, locale), "
                        "region = coalesce(excluded.region, region), updated_at = excluded.updated_at",
                        [d.id, d.name, d.kind.value, d.country, d.timezone, d.locale, d.region, now_text, now_text],
                    )
                    for c in item.contacts:
                        self.conn.execute(
                            "INSERT OR IGNORE INTO contacts (debtor_id, kind, value, role, name, bad) VALUES (?, ?, ?, ?, ?, 0)",
                            [d.id, c.kind.value, c.value, c.role.value, c.name],
                        )
                existing = self.conn.execute(
                    "SELECT case_id, amount, due_on, currency FROM obligations WHERE debtor_id = ? AND reference = ?",
                    [d.id, item.reference],
                ).fetchone()
                if existing is not None:
                    unchanged += 1
                    continue
                row = self.conn.execute(
                    "SELECT id FROM cases WHERE debtor_id = ? AND currency = ? AND status = 'open'", [d.id, item.currency]
                ).fetchone()
                if row is None:
                    case_id = self.conn.execute(
                        "INSERT INTO cases (debtor_id, currency, stage, status, balance, opened_on, stage_entered_on) "
                        "VALUES (?, ?, 'internal', 'open', 0, ?, ?)",
                        [d.id, item.currency, today.isoformat(), today.isoformat()],
                    ).lastrowid
                    self.conn.execute("UPDATE cases SET creditor_reference = ? WHERE id = ?",
                                      [creditor_reference.for_case(case_id), case_id])
                    cases_opened += 1
                    self.append_events([Event(kind="case_opened", at=now, case_id=case_id, stage=Stage.INTERNAL.value,
                                              data={"debtor_id": d.id, "currency": item.currency})])
                else:
                    case_id = row[0]
                self.conn.execute(
                    "INSERT INTO obligations (case_id, debtor_id, reference, amount, currency, issued_on, due_on, paid) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, 0)",
                    [case_id, d.id, item.reference, item.amount, item.currency, _iso(item.issued_on), item.due_on.isoformat()],
                )
                added += 1
                touched.add(case_id)
                self.append_events([Event(kind="obligation_added", at=now, case_id=case_id,
                                          data={"reference": item.reference, "amount": item.amount,
                                                "currency": item.currency, "due_on": item.due_on.isoformat()})])
            for case_id in touched:
                # Wake new work early enough for any run, even one rehearsing a
                # past date: the planner works out what is really due.
                earliest = self.conn.execute(
                    "SELECT min(due_on) FROM obligations WHERE case_id = ?", [case_id]).fetchone()[0]
                wake = min(today, dt.date.fromisoformat(earliest) - dt.timedelta(days=366))
                self._refresh_balance(case_id, wake_on=wake)
        return ImportResult(len(debtors_seen), cases_opened, added, unchanged), sorted(touched)

    def _refresh_balance(self, case_id: int, *, wake_on: dt.date) -> tuple[int, dt.date | None]:
        """Recompute balance and the days-past-due anchor from the obligations; wake the case."""
        balance, anchor = self.conn.execute(
            "SELECT coalesce(sum(amount - paid), 0), min(CASE WHEN amount > paid THEN due_on END) "
            "FROM obligations WHERE case_id = ?",
            [case_id],
        ).fetchone()
        self.conn.execute(
            "UPDATE cases SET balance = ?, anchor_due_on = ?, "
            "next_action_on = CASE WHEN status = 'open' THEN min(coalesce(next_action_on, ?), ?) ELSE NULL END "
            "WHERE id = ?",
            [balance, anchor, wake_on.isoformat(), wake_on.isoformat(), case_id],
        )
        return balance, _date(anchor)

    # --- planning ----------------------------------------------------------------

    def due_cases(self, today: dt.date, after: tuple[str, int] | None, limit: int) -> list[tuple[Case, str | None]]:
        """Open cases with something due by ``today``, with the debtor's time zone; keyset-paged."""
        last_day, last_id = after or ("", 0)
        # Two plain range scans on the cases_due index instead of one row-value
        # comparison "(next_action_on, id) > (?, ?)": SQLite seeks only on the
        # first column of a row value, so each page would rescan every entry of
        # ``last_day`` before ``last_id`` - quadratic when a million cases fall
        # due on the same day (and a dry run, which moves no cursor, rescans
        # them all). First the rest of ``last_day``, then the later days.
        select = f"SELECT {_DUE_COLUMNS} FROM cases c JOIN debtors d ON d.id = c.debtor_id "
        rows = self.conn.execute(
            select + "WHERE c.next_action_on = ? AND c.id > ? AND c.next_action_on <= ? ORDER BY c.id LIMIT ?",
            [last_day, last_id, today.isoformat(), limit],
        ).fetchall()
        if len(rows) < limit:
            rows += self.conn.execute(
                select + "WHERE c.next_action_on > ? AND c.next_action_on <= ? ORDER BY c.next_action_on, c.id LIMIT ?",
                [last_day, today.isoformat(), limit - len(rows)],
            ).fetchall()
        return [(_case(r), r[-1]) for r in rows]

    def count_due(self, today: dt.date) -> int:
        return self.conn.execute("SELECT count(*) FROM cases WHERE next_action_on <= ?", [today.isoformat()]).fetchone()[0]

    def count_ready(self, now: dt.datetime) -> int:
        return self.conn.execute(
            "SELECT count(*) FROM actions WHERE status = 'pending' AND not_before <= ?", [to_text(now)]
        ).fetchone()[0]

    def save_plans(self, writes: Sequence[CasePlanWrite]) -> tuple[int, int, int]:
        """Write planned actions and advance each case's cursor, all in one transaction.

        A case whose cursor moved since it was read (another dispatcher got
        there first) is left alone. An inserted outreach supersedes the
        case's older occurrences of its step and channel still pending
        (see ``_supersede``). Returns (cases written, actions inserted,
        occurrences superseded).
        """
        if not writes:
            return 0, 0, 0
        cursors = [
            (w.planned_through.isoformat(), _iso(w.next_action_on), w.case_id, _iso(w.expected_planned_through))
            for w in writes
        ]
        with self.transaction():
            # Compare-and-set every cursor in one go: per-row execute calls
            # cost as much as the updates themselves. The write lock is held
            # (BEGIN IMMEDIATE), so if every row matched, nobody moved a
            # cursor. If some did not, undo the batch and redo it row by row
            # to learn which cases to leave alone.
            self.conn.execute("SAVEPOINT save_plans")
            if _HAS_UPDATE_FROM:
                moved = _execute_rows(self.conn, _ADVANCE_CURSORS, cursors, 4)
            else:
                moved = self.conn.executemany(_ADVANCE_CURSOR, cursors).rowcount
            if moved == len(writes):
                kept = list(writes)
            else:
                self.conn.execute("ROLLBACK TO save_plans")
                kept = [w for w, params in zip(writes, cursors)
                        if self.conn.execute(_ADVANCE_CURSOR, params).rowcount == 1]
            self.conn.execute("RELEASE save_plans")
            rows = [row for w in kept for row in w.actions]
            events = [event for w in kept for event in w.events]
            inserted = superseded = 0
            if rows:
                last_id = self.conn.execute("SELECT coalesce(max(id), 0) FROM actions").fetchone()[0]
                # Rows whose key is already there are ignored, and not counted.
                inserted = _insert_actions(self.conn, rows)
                if inserted:
                    ended = self._supersede(last_id, writes[0].planned_at or utc_now())
                    events += ended
                    superseded = len(ended)
            if events:
                self._append_events(events)
        return len(kept), inserted, superseded

    def _supersede(self, last_id: int, now: dt.datetime) -> list[Event]:
        """End the older pending occurrences that the actions inserted after ``last_id`` replace.

        Inside save_plans' transaction, so a dispatcher cannot claim one in
        between. An occurrence still pending when the next one of the same
        step and channel is planned for the case (on a later day) was held
        back by a window, a weekend or a holiday: sending both would contact
        the debtor twice for one step, so only the newer stays. Required
        steps are never superseded; occurrences of the same day (a step's
        ``at`` times) are not either. Returns the ``superseded`` events.
        """
        found: dict[int, tuple[Any, ...]] = {}
        for row in self.conn.execute(_OLDER_OCCURRENCES, [last_id]):
            found.setdefault(row[0], row)  # one ending per older occurrence, by the first that replaces it
        if not found:
            return []
        now_text = to_text(now)
        # Still pending: they were read inside this write transaction.
        ends = [(old_id, f"superseded by {row[6]}", now_text) for old_id, row in found.items()]
        if _HAS_UPDATE_FROM:
            _execute_rows(self.conn, _SUPERSEDE, ends, 3)
        else:
            self.conn.executemany(
                "UPDATE actions SET status = 'superseded', last_error = ?, updated_at = ? WHERE id = ?",
                [(error, at, old_id) for old_id, error, at in ends])
        return [
            Event(kind="superseded", at=now, case_id=case_id, stage=stage, dpd=dpd, channel=channel, step=step,
                  action_id=old_id, data={"key": old_key, "action": ActionKind.OUTREACH.value, "by": new_key,
                                          "by_action_id": new_id})
            for old_id, old_key, case_id, step, channel, new_id, new_key, dpd, stage in found.values()
        ]

    def save_plans_pipelined(self, batches: Iterable[Sequence[CasePlanWrite]], *,
                             depth: int = 2) -> Iterator[SavedPlans]:
        """``save_plans`` for each batch, on a writer thread while the caller prepares the next.

        Planning's time goes to Python working out each case and to SQLite
        writing the rows; the sqlite3 module lets go of the GIL while SQLite
        works, so the two can overlap on two cores. ``batches`` is consumed
        here, on the caller's thread (its reads and evaluation stay there);
        each batch is handed through a queue of ``depth`` to a thread that
        writes it through a second connection to the same file. Results come
        back in order, one per batch, as the batches commit.

        The guarantees are save_plans' own: each batch is one BEGIN IMMEDIATE
        transaction with its compare-and-set (a case someone else planned
        meanwhile is left alone); WAL lets the caller's connection read
        alongside, and it sees a batch whole or not at all. The events each
        batch committed are announced (``on_events``) on the caller's thread,
        in seq order, before its result is yielded. If the writer fails,
        nothing more is written (batches still queued are dropped) and its
        error is raised here; if the caller stops early or ``batches`` raises,
        the batch being written is finished and the queued ones are dropped.

        A run of a single batch starts no thread, nor does one inside an open
        transaction (the batches join it) or on a database that is not a
        file (a second connection would not see it).
        """
        source = iter(batches)
        file = self._database_file()
        if self.conn.in_transaction or file is None:
            for writes in source:
                yield SavedPlans(len(writes), *self.save_plans(writes))
            return
        first = next(source, None)
        if first is None:
            return
        second = next(source, None)
        if second is None:
            yield SavedPlans(len(first), *self.save_plans(first))
            return
        writer = _PlanWriterThread(file, depth, self.synchronous)
        try:
            for writes in itertools.chain((first, second), source):
                writer.put(writes)  # blocks while ``depth`` batches wait: memory stays bounded
                for done in writer.committed(wait=False):
                    yield self._announced(done)
            for done in writer.committed(wait=True):
                yield self._announced(done)
        finally:
            # On an early exit (an error here or in the writer, or the caller
            # stopping) let the writer finish the batch it is on and drop the
            # rest; announce whatever committed all the same.
            for done in writer.stop():
                self._announced(done)

    def _announced(self, done: tuple[SavedPlans, list[Sequence[Event]]]) -> SavedPlans:
        saved, committed = done
        for events in committed:
            if events and self.on_events:
                self.on_events(events)
        return saved

    def claim(self, now: dt.datetime, wall_now: dt.datetime, claimer: str, limit: int) -> list[Action]:
        """Mark up to ``limit`` ready actions as being sent by ``claimer`` and return them."""
        with self.transaction():
            ids = [
                r[0]
                for r in self.conn.execute(
                    "SELECT id FROM actions WHERE status = 'pending' AND not_before <= ? ORDER BY not_before, id LIMIT ?",
                    [to_text(now), limit],
                )
            ]
            if not ids:
                return []
            marks = ", ".join("?" * len(ids))
            self.conn.execute(
                f"UPDATE actions SET status = 'sending', claimed_by = ?, claimed_at = ? WHERE id IN ({marks})",
                [claimer, to_text(wall_now), *ids],
            )
            rows = self.conn.execute(
                f"SELECT {_ACTION_COLUMNS} FROM actions WHERE id IN ({marks}) ORDER BY not_before, id", ids
            ).fetchall()
        return [_action(r) for r in rows]

    def in_flight(self) -> list[tuple[int, str, dt.datetime, str | None, str, bool]]:
        """Actions claimed but never finished: (id, claimed_by, claimed_at, channel, kind, handed to the channel)."""
        return [
            (r[0], r[1], from_text(r[2]), r[3], r[4], r[5] is not None)
            for r in self.conn.execute(
                "SELECT id, claimed_by, claimed_at, channel, kind, send_started_at FROM actions "
                "WHERE status = 'sending'")
        ]

    def mark_send_started(self, action_id: int, wall_now: dt.datetime) -> None:
        """The action is about to be handed to its channel (inside the caller's transaction)."""
        self.conn.execute("UPDATE actions SET send_started_at = ? WHERE id = ?", [to_text(wall_now), action_id])

    def hold_in_doubt(self, ids: Sequence[int], now: dt.datetime, events: Callable[[Action], Event]) -> int:
        """Set abandoned claims aside for a person (status in_doubt), each with its event; returns how many."""
        held = 0
        with self.transaction():
            for action_id in ids:
                cursor = self.conn.execute(
                    "UPDATE actions SET status = 'in_doubt', claimed_by = NULL, send_started_at = NULL, updated_at = ? "
                    "WHERE id = ? AND status = 'sending'", [to_text(now), action_id])
                if cursor.rowcount:
                    self.append_events([events(self.action(action_id))])
                    held += 1
        return held

    def release_claims(self, ids: Sequence[int]) -> int:
        """Put abandoned claims back in the queue; they keep their key, so a re-send is recognisable."""
        if not ids:
            return 0
        with self.transaction():
            cursor = self.conn.execute(
                f"UPDATE actions SET status = 'pending', claimed_by = NULL, send_started_at = NULL WHERE status = 'sending' "
                f"AND id IN ({', '.join('?' * len(ids))})",
                list(ids),
            )
        return cursor.rowcount

    def finish(self, action: Action, claimer: str, status: ActionStatus, now: dt.datetime, *,
               events: Sequence[Event] = (), not_before: dt.datetime | None = None,
               error: str | None = None, reference: str | None = None, count_attempt: bool = False) -> bool:
        """Record an action's outcome and its evidence in one transaction.

        Only the dispatcher holding the claim may finish it; a second finish
        of the same claim changes nothing and returns False.
        """
        with self.transaction():
            cursor = self.conn.execute(
                "UPDATE actions SET status = ?, not_before = coalesce(?, not_before), last_error = ?, "
                "reference = coalesce(?, reference), attempts = attempts + ?, claimed_by = NULL, "
                "send_started_at = NULL, updated_at = ? WHERE id = ? AND status = 'sending' AND claimed_by = ?",
                [status.value, to_text(not_before) if not_before else None, error, reference, int(count_attempt),
                 to_text(now), action.id, claimer],
            )
            if cursor.rowcount != 1:
                return False
            self.append_events(events)
        return True

    def set_action_status(self, action_id: int, status: ActionStatus, now: dt.datetime, *,
                          expected: Iterable[ActionStatus], approved_by: str | None = None,
                          events: Sequence[Event] = ()) -> Action:
        expected_values = [s.value for s in expected]
        with self.transaction():
            cursor = self.conn.execute(
                f"UPDATE actions SET status = ?, approved_by = coalesce(?, approved_by), updated_at = ? "
                f"WHERE id = ? AND status IN ({', '.join('?' * len(expected_values))})",
                [status.value, approved_by, to_text(now), action_id, *expected_values],
            )
            if cursor.rowcount != 1:
                current = self.action(action_id)
                raise Conflict(f"action {action_id} is {current.status}, not {' or '.join(expected_values)}")
            self.append_events(events)
        return self.action(action_id)

    def cancel_open_actions(self, case_id: int, now: dt.datetime, reason: str) -> int:
        """Cancel everything still planned for a case (inside the caller's transaction)."""
        cursor = self.conn.execute(
            "UPDATE actions SET status = 'cancelled', last_error = ?, updated_at = ? "
            "WHERE case_id = ? AND status IN ('awaiting_approval', 'pending', 'in_doubt')",
            [reason, to_text(now), case_id],
        )
        return cursor.rowcount

    def approvals(self) -> list[Action]:
        return self.actions(statuses=[ActionStatus.AWAITING_APPROVAL.value])

    def notices(self, role: str | None = None) -> list[Action]:
        """Notices to staff that went out (or failed to: they are on the worklist all the same), oldest first."""
        sql = (f"SELECT {_ACTION_COLUMNS} FROM actions WHERE kind = ? AND status IN (?, ?)"
               + (" AND target = ?" if role is not None else "") + " ORDER BY id")
        params: list[Any] = [ActionKind.NOTICE.value, ActionStatus.SENT.value, ActionStatus.FAILED.value]
        return [_action(r) for r in self.conn.execute(sql, params + ([role] if role is not None else []))]

    def notices_handled(self) -> dict[int, tuple[str, dt.datetime]]:
        """Who marked each notice handled, and when: action id -> (by, at)."""
        handled: dict[int, tuple[str, dt.datetime]] = {}
        for action_id, at, data in self.conn.execute(
                "SELECT action_id, at, data FROM events WHERE kind = 'notice_handled' ORDER BY seq"):
            handled.setdefault(action_id, (json.loads(data).get("by", ""), from_text(at)))
        return handled

    def approval_reasons(self, actions: Sequence[Action]) -> dict[int, Mapping[str, Any]]:
        """The latest ``approval_requested`` event's data for each action (matched by id, key, or case and step)."""
        if not actions:
            return {}
        case_ids = sorted({a.case_id for a in actions})
        found: dict[int, Mapping[str, Any]] = {}
        by_id = {a.id: a for a in actions}
        by_key = {a.key: a for a in actions}
        by_step = {(a.case_id, a.step): a for a in actions}
        for chunk in range(0, len(case_ids), 500):
            ids = case_ids[chunk:chunk + 500]
            for case_id, step, action_id, data in self.conn.execute(
                    "SELECT case_id, step, action_id, data FROM events WHERE kind = 'approval_requested' "
                    f"AND case_id IN ({', '.join('?' * len(ids))}) ORDER BY seq", ids):
                facts = json.loads(data)
                # Planning writes its events before the action has an id; they carry the key, or the step.
                action = by_id.get(action_id) or by_key.get(facts.get("key")) or by_step.get((case_id, step))
                if action is not None and action.id is not None:
                    found[action.id] = facts
        return found

    # --- case changes ----------------------------------------------------------------

    def update_case(self, case_id: int, **fields: Any) -> None:
        """Set columns of a case (inside the caller's transaction)."""
        allowed = {"stage", "status", "previous_stage", "stage_entered_on", "resolved_on", "account_locked",
                   "broken_promises", "next_action_on", "last_acknowledged_on"}
        unknown = set(fields) - allowed
        if unknown:
            raise ValueError(f"cannot set {', '.join(sorted(unknown))} on a case")
        values = [v.isoformat() if isinstance(v, dt.date) else (v.value if isinstance(v, Stage | Status) else v)
                  for v in fields.values()]
        self.conn.execute(
            f"UPDATE cases SET {', '.join(f'{k} = ?' for k in fields)} WHERE id = ?", [*values, case_id]
        )

    def wake(self, case_id: int, day: dt.date) -> None:
        """Make the next run look at this case no later than ``day``."""
        self.conn.execute(
            "UPDATE cases SET next_action_on = min(coalesce(next_action_on, ?), ?) WHERE id = ? AND status = 'open'",
            [day.isoformat(), day.isoformat(), case_id],
        )

    def add_payment(self, case_id: int, amount: int, at: dt.datetime, reference: str | None, now: dt.datetime,
                    wake_on: dt.date) -> tuple[int, list[tuple[str, int]]]:
        """Store a payment and apply it to the oldest open obligations first.

        Returns the new balance and the (reference, amount) allocation.
        """
        self.conn.execute(
            "INSERT INTO payments (case_id, amount, at, reference, created_at) VALUES (?, ?, ?, ?, ?)",
            [case_id, amount, to_text(at), reference, to_text(now)],
        )
        self.conn.execute(
            "UPDATE cases SET last_payment_on = max(coalesce(last_payment_on, ''), ?) WHERE id = ?",
            [to_text(at)[:10], case_id],
        )
        left = amount
        allocation: list[tuple[str, int]] = []
        for obligation_id, reference_, open_amount in self.conn.execute(
            "SELECT id, reference, amount - paid FROM obligations WHERE case_id = ? AND amount > paid ORDER BY due_on, id",
            [case_id],
        ).fetchall():
            if left <= 0:
                break
            applied = min(left, open_amount)
            self.conn.execute("UPDATE obligations SET paid = paid + ? WHERE id = ?", [applied, obligation_id])
            allocation.append((reference_, applied))
            left -= applied
        # Pending promises are covered in the order they fall due, so the
        # instalments of a plan are kept one after the other.
        covering = amount
        for promise_id, missing in self.conn.execute(
            "SELECT id, amount - paid_since FROM promises WHERE case_id = ? AND status = 'pending' "
            "AND paid_since < amount ORDER BY due_at, id", [case_id]
        ).fetchall():
            if covering <= 0:
                break
            applied = min(covering, missing)
            self.conn.execute("UPDATE promises SET paid_since = paid_since + ? WHERE id = ?", [applied, promise_id])
            covering -= applied
        balance, _ = self._refresh_balance(case_id, wake_on=wake_on)
        return balance, allocation

    def payment_reference_exists(self, case_id: int, reference: str) -> bool:
        return self.conn.execute(
            "SELECT 1 FROM payments WHERE case_id = ? AND reference = ?", [case_id, reference]
        ).fetchone() is not None

    def add_promise(self, case_id: int, amount: int, due_at: dt.datetime, now: dt.datetime, *,
                    approved_by: str | None = None, plan_id: int | None = None) -> int:
        return self.conn.execute(
            "INSERT INTO promises (case_id, amount, due_at, status, created_at, approved_by, plan_id) "
            "VALUES (?, ?, ?, 'pending', ?, ?, ?)",
            [case_id, amount, to_text(due_at), to_text(now), approved_by, plan_id],
        ).lastrowid

    def promise_status(self, promise_id: int) -> PromiseStatus:
        row = self.conn.execute("SELECT status FROM promises WHERE id = ?", [promise_id]).fetchone()
        if row is None:
            raise NotFound(f"no promise with id {promise_id}")
        return PromiseStatus(row[0])

    def add_action(self, *, key: str, case_id: int, kind: ActionKind, step: str, planned_for: dt.date,
                   not_before: dt.datetime, now: dt.datetime, channel: str | None = None, template: str | None = None,
                   target: str | None = None, dpd: int | None = None, required: bool = False,
                   requires_approval: bool = False, options: Mapping[str, Any] | None = None) -> bool:
        """Queue one action outside the policy's plan (a promise reminder, a triggered escalation); False if the key exists.

        One that requires approval waits in the approval queue.
        """
        status = ActionStatus.AWAITING_APPROVAL if requires_approval else ActionStatus.PENDING
        cursor = self.conn.execute(
            _INSERT_ACTION,
            [key, case_id, kind.value, step, channel, template, target, dpd, planned_for.isoformat(),
             to_text(not_before), status.value, int(required), int(requires_approval),
             json.dumps(dict(options or {}), sort_keys=True), to_text(now), to_text(now)],
        )
        return cursor.rowcount == 1

    def promises_to_settle(self, now: dt.datetime, grace: dt.timedelta = dt.timedelta(0)
                           ) -> list[tuple[int, int, int, int, dt.datetime]]:
        """Pending promises now covered, or past due by ``grace``: (id, case_id, amount, paid_since, due_at)."""
        return [
            (r[0], r[1], r[2], r[3], from_text(r[4]))
            for r in self.conn.execute(
                "SELECT id, case_id, amount, paid_since, due_at FROM promises "
                "WHERE status = 'pending' AND (paid_since >= amount OR due_at <= ?)",
                [to_text(now - grace)],
            )
        ]

    def settle_promise(self, promise_id: int, status: PromiseStatus, now: dt.datetime) -> bool:
        cursor = self.conn.execute(
            "UPDATE promises SET status = ?, settled_at = ? WHERE id = ? AND status = 'pending'",
            [status.value, to_text(now), promise_id],
        )
        return cursor.rowcount == 1

    def has_pending_promise(self, case_id: int, now: dt.datetime) -> bool:
        """A promise made by ``now`` that is neither kept nor broken yet."""
        return self.conn.execute(
            "SELECT 1 FROM promises WHERE case_id = ? AND status = 'pending' AND created_at <= ? LIMIT 1",
            [case_id, to_text(now)],
        ).fetchone() is not None

    def add_hold(self, case_id: int, reason: str, since: dt.datetime, until: dt.date | None, note: str | None) -> int:
        return self.conn.execute(
            "INSERT INTO holds (case_id, reason, since, until, note) VALUES (?, ?, ?, ?, ?)",
            [case_id, reason, to_text(since), _iso(until), note],
        ).lastrowid

    def release_holds(self, case_id: int, now: dt.datetime, by: str) -> list[int]:
        ids = [r[0] for r in self.conn.execute(
            "SELECT id FROM holds WHERE case_id = ? AND released_at IS NULL", [case_id])]
        if ids:
            self.conn.execute(
                f"UPDATE holds SET released_at = ?, released_by = ? WHERE id IN ({', '.join('?' * len(ids))})",
                [to_text(now), by, *ids],
            )
        return ids

    def expired_holds(self, today: dt.date) -> list[tuple[int, int, str, dt.date]]:
        """Unreleased holds whose end date has come: (id, case_id, reason, until)."""
        return [
            (r[0], r[1], r[2], dt.date.fromisoformat(r[3]))
            for r in self.conn.execute(
                "SELECT id, case_id, reason, until FROM holds WHERE released_at IS NULL AND until IS NOT NULL AND until <= ?",
                [today.isoformat()],
            )
        ]

    def expire_hold(self, hold_id: int, now: dt.datetime) -> bool:
        cursor = self.conn.execute(
            "UPDATE holds SET released_at = ?, released_by = 'expiry' WHERE id = ? AND released_at IS NULL",
            [to_text(now), hold_id],
        )
        return cursor.rowcount == 1

    def add_fallback_action(self, action: Action, channel: str, key: str, now: dt.datetime) -> bool:
        """Queue ``action`` again on ``channel`` under ``key``, due at once; False if that key exists."""
        cursor = self.conn.execute(
            _INSERT_ACTION,
            [key, action.case_id, action.kind.value, action.step, channel, action.template, action.target,
             action.dpd, action.planned_for.isoformat(), to_text(now), ActionStatus.PENDING.value,
             int(action.required), int(action.requires_approval),
             json.dumps({**action.options, "fallback_from": action.key}, sort_keys=True),
             to_text(now), to_text(now)],
        )
        return cursor.rowcount == 1

    # --- opt-outs, signals, contacts ---------------------------------------------------

    def add_opt_out(self, debtor_id: str, channel: str, contact: str | None, at: dt.datetime, source: str,
                    note: str | None) -> int:
        return self.conn.execute(
            "INSERT INTO opt_outs (debtor_id, channel, contact, at, source, note) VALUES (?, ?, ?, ?, ?, ?)",
            [debtor_id, channel, contact, to_text(at), source, note],
        ).lastrowid

    def withdraw_opt_outs(self, debtor_id: str, channel: str, contact: str | None, at: dt.datetime) -> int:
        cursor = self.conn.execute(
            "UPDATE opt_outs SET withdrawn_at = ? WHERE debtor_id = ? AND channel = ? AND contact IS ? "
            "AND withdrawn_at IS NULL",
            [to_text(at), debtor_id, channel, contact],
        )
        return cursor.rowcount

    def opt_outs(self, debtor_id: str, channel: str | None = None) -> list[tuple[str, str | None]]:
        """The debtor's standing opt-outs as (channel, contact or None for the whole channel)."""
        sql = "SELECT channel, contact FROM opt_outs WHERE debtor_id = ? AND withdrawn_at IS NULL"
        params: list[Any] = [debtor_id]
        if channel is not None:
            sql += " AND channel = ?"
            params.append(channel)
        return [(r[0], r[1]) for r in self.conn.execute(sql + " ORDER BY id", params)]

    def add_signal(self, case_id: int, kind: str, at: dt.datetime, source: str, note: str | None) -> int:
        signal_id = self.conn.execute(
            "INSERT INTO signals (case_id, kind, at, source, note) VALUES (?, ?, ?, ?, ?)",
            [case_id, kind, to_text(at), source, note],
        ).lastrowid
        # The case keeps the set of kinds seen, for the risk class and policy conditions.
        self.conn.execute(
            "UPDATE cases SET signals = CASE WHEN signals = '' THEN ?1 "
            "WHEN instr(',' || signals || ',', ',' || ?1 || ',') > 0 THEN signals ELSE signals || ',' || ?1 END "
            "WHERE id = ?2",
            [kind, case_id],
        )
        return signal_id

    # --- contact attempts (what the frequency caps count) ---------------------------

    def record_attempt(self, *, debtor_id: str, case_id: int | None, channel: str, at: dt.datetime, source: str,
                       key: str | None = None, contact: str | None = None, role: str = "debtor",
                       connected: bool | None = None, outcome: str | None = None) -> bool:
        """Count one attempt; with a key, only once (a re-send after a crash is the same attempt)."""
        cursor = self.conn.execute(
            "INSERT OR IGNORE INTO contact_attempts (key, debtor_id, case_id, channel, contact, role, at, connected, "
            "outcome, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [key, debtor_id, case_id, channel, contact, role, to_text(at),
             None if connected is None else int(connected), outcome, source],
        )
        if connected and case_id is not None and role == "debtor":
            self._touch_contact(case_id, at)
        return cursor.rowcount == 1

    def update_attempt(self, key: str, *, contact: str | None = None, role: str | None = None,
                       connected: bool | None = None, outcome: str | None = None) -> bool:
        """Fill in what an attempt reached once it is known (the number dialled, the call's outcome)."""
        row = self.conn.execute("SELECT case_id, at, role FROM contact_attempts WHERE key = ?", [key]).fetchone()
        if row is None:
            return False
        self.conn.execute(
            "UPDATE contact_attempts SET contact = coalesce(?, contact), role = coalesce(?, role), "
            "connected = coalesce(?, connected), outcome = coalesce(?, outcome) WHERE key = ?",
            [contact, role, None if connected is None else int(connected), outcome, key],
        )
        if connected and row[0] is not None and (role or row[2]) == "debtor":
            self._touch_contact(row[0], from_text(row[1]))
        return True

    def forget_attempt(self, key: str) -> None:
        """An attempt that never left (the provider asked to wait) does not count."""
        self.conn.execute("DELETE FROM contact_attempts WHERE key = ?", [key])

    def attempts(self, debtor_id: str, since: dt.datetime, *, excluding_key: str | None = None
                 ) -> list[tuple[dt.datetime, str, str | None, str, bool | None]]:
        """The debtor's attempts since ``since``: (at, channel, contact, role, connected).

        ``excluding_key`` leaves out the attempt of the action being judged
        (a retry of a failed send is the same attempt, not one more).
        """
        return [
            (from_text(r[0]), r[1], r[2], r[3], None if r[4] is None else bool(r[4]))
            for r in self.conn.execute(
                "SELECT at, channel, contact, role, connected FROM contact_attempts WHERE debtor_id = ? AND at >= ? "
                "AND key IS NOT ? ORDER BY at, id", [debtor_id, to_text(since), excluding_key])
        ]

    def contacted_values(self, debtor_id: str, role_not: str = "debtor") -> set[str]:
        """Every contact value (of a role other than ``role_not``) attempted, but those who asked to be called again.

        A third party whose latest call ended with ``call_back`` asked for
        another call; the one-call limit does not hold them.
        """
        return {r[0] for r in self.conn.execute(
            "SELECT a.contact FROM contact_attempts a WHERE a.debtor_id = ? AND a.role != ? AND a.contact IS NOT NULL "
            "AND a.id = (SELECT max(b.id) FROM contact_attempts b WHERE b.debtor_id = a.debtor_id "
            "AND b.contact = a.contact) AND coalesce(a.outcome, '') != 'call_back'",
            [debtor_id, role_not])}

    def _touch_contact(self, case_id: int, at: dt.datetime) -> None:
        self.conn.execute(
            "UPDATE cases SET last_contact_on = max(coalesce(last_contact_on, ''), ?) WHERE id = ?",
            [at.date().isoformat(), case_id],
        )

    def signals(self, case_id: int) -> list[tuple[str, dt.datetime, str, str | None]]:
        """The case's signals, oldest first: (kind, at, source, note)."""
        return [
            (r[0], from_text(r[1]), r[2], r[3])
            for r in self.conn.execute(
                "SELECT kind, at, source, note FROM signals WHERE case_id = ? ORDER BY at, id", [case_id])
        ]

    def priority_facts(self, case: Case, today: dt.date, zone: dt.tzinfo = dt.UTC) -> CaseFacts:
        """The facts a work queue weighs for ``case`` on ``today`` in ``zone`` (see ``dunning.priority``)."""
        paid_any = self.conn.execute("SELECT 1 FROM payments WHERE case_id = ? LIMIT 1", [case.id]).fetchone()
        first = self.conn.execute(
            "SELECT paid, due_on FROM obligations WHERE case_id = ? ORDER BY due_on, id LIMIT 1", [case.id]).fetchone()
        start = dt.datetime.combine(today, dt.time(), zone)
        end = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(), zone)
        promise_today = self.conn.execute(
            "SELECT 1 FROM promises WHERE case_id = ? AND status = 'pending' AND due_at >= ? AND due_at < ? LIMIT 1",
            [case.id, to_text(start), to_text(end)]).fetchone()
        phones = self.conn.execute(
            "SELECT count(*), sum(bad) FROM contacts WHERE debtor_id = ? AND role = 'debtor' "
            "AND kind IN ('mobile', 'work', 'home')", [case.debtor_id]).fetchone()
        return CaseFacts(
            first_instalment_default=bool(first and first[0] == 0 and not paid_any and case.balance > 0
                                          and dt.date.fromisoformat(first[1]) < today),
            promise_due_today=promise_today is not None,
            partial_payer=bool(paid_any) and case.balance > 0,
            lost_contact=phones[0] == 0 or phones[0] == (phones[1] or 0),
        )

    def contact(self, contact_id: int) -> Contact:
        row = self.conn.execute(
            "SELECT debtor_id, kind, value, role, name, bad, id FROM contacts WHERE id = ?", [contact_id]).fetchone()
        if row is None:
            raise NotFound(f"no contact with id {contact_id}")
        return Contact(debtor_id=row[0], kind=row[1], value=row[2], role=row[3], name=row[4], bad=bool(row[5]), id=row[6])

    def mark_contact_bad(self, contact_id: int, reason: str) -> bool:
        cursor = self.conn.execute(
            "UPDATE contacts SET bad = 1, bad_reason = ? WHERE id = ? AND bad = 0", [reason, contact_id])
        return cursor.rowcount == 1

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


__all__ = [
    "ActionKind",
    "CasePlanWrite",
    "Conflict",
    "ImportResult",
    "ImportedObligation",
    "NotFound",
    "SavedPlans",
    "Store",
    "action_row_tail",
    "write_transaction",
]
