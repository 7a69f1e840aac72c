"""Writing planning's results: each case's actions with its cursor, and the older occurrences they replace.

``save_plans_pipelined`` writes the batches on a thread of their own (``_PlanWriterThread``).
A batch comes either as one ``CasePlanWrite`` per case or, from planning's
fast path, as one ``PlanBatch``: the same rows in the columns the writer
binds, with no object per case.
"""

from __future__ import annotations

import datetime as dt
import itertools
import queue
import sqlite3
import threading
from collections.abc import Generator, Iterable, Iterator, Sequence
from typing import Any

import attrs

from dunning.calendar import to_text, utc_now
from dunning.models import ActionKind, Case, Event
from dunning.store import bulk
from dunning.store.bulk import _execute_rows
from dunning.store.events import EventLog
from dunning.store.rows import _CASE_COLUMNS, _case, _iso


# Pending outreach that an action inserted after ``?`` (an id) replaces: the
# same case, step and channel, planned for an earlier day, not required.
# The new rows are a range of ids, the outer loop (CROSS JOIN keeps it so:
# the planner would otherwise scan every pending action per batch); the
# older ones are found through the actions_case index, among the ids up to
# ``?`` only (the index ends in the rowid, so the new rows, which the
# same lookup would otherwise read and reject, are not even visited: no
# batch holds two occurrences of a step that is not required). The case's
# stage is read for the matches alone. (old id, old key, case, step,
# channel, new id, new key, new dpd, the case's stage)
_OLDER_OCCURRENCES = (
    "SELECT o.id, o.key, n.case_id, n.step, n.channel, n.id, n.key, n.dpd, c.stage "
    "FROM actions AS n CROSS JOIN actions AS o ON o.case_id = n.case_id AND o.status = 'pending' AND o.id <= ?1 "
    "CROSS JOIN cases AS c ON c.id = n.case_id "
    "WHERE n.id > ?1 AND +n.status = 'pending' AND n.kind = 'outreach' AND o.kind = 'outreach' "
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
class SavedPlans:
    """What one batch of ``save_plans`` wrote, once committed."""

    submitted: int  # writes in the batch
    cases: int  # cases whose cursor still matched, and were written
    inserted: int  # actions inserted (rows whose key already existed are not counted)
    superseded: int = 0  # older pending occurrences the inserted ones replaced


@attrs.frozen
class PlanBatch:
    """Planning's result for a batch of cases, as the rows the writer binds (``save_plans``).

    The same rows and events as one ``CasePlanWrite`` per case, without
    building one: planning's fast path appends to these lists as it goes.
    """

    # (planned_through, next_action_on, case id, the planned_through read), as text: the compare-and-set.
    cursors: list[tuple[str, str | None, int, str | None]]
    # Action rows as (key, case id, tail number), in the order planned; ``tails`` maps each number
    # used to its row tail (``action_row_tail``), shared by every case planning that item.
    actions: list[tuple[str, int, int]]
    tails: dict[int, tuple[Any, ...]]
    events: list[Event]
    # The run's moment: when an older occurrence is superseded (its event's ``at``).
    planned_at: dt.datetime | None = None

    def __len__(self) -> int:
        return len(self.cursors)


@attrs.frozen
class PlannedActions:
    """A batch's action rows as ``PlanBatch`` holds them, for ``_insert_actions``."""

    actions: Sequence[tuple[str, int, int]]
    tails: dict[int, tuple[Any, ...]]


def _insert_actions(conn: sqlite3.Connection, rows: Sequence[tuple[Any, ...]] | PlannedActions) -> int:
    """Insert a batch's action rows, in order, ignoring keys already there; returns rows inserted.

    ``rows`` are whole rows (``bulk._insert_actions`` finds their shared
    tails) or planning's ``PlannedActions``, whose tails are already shared.
    """
    if not isinstance(rows, PlannedActions):
        return bulk._insert_actions(conn, rows)
    if len(rows.tails) > bulk._TAIL_SHAPES[-1] or len(rows.actions) < bulk._SHAPES[0]:
        tails = rows.tails
        return bulk._execute_rows(conn, bulk._INSERT_WHOLE_ACTIONS,
                                  [(key, case_id, *tails[n]) for key, case_id, n in rows.actions], 16)
    tail_size = bulk._shape(len(rows.tails), bulk._TAIL_SHAPES, bulk._TAIL_SHAPES[-1])
    tail_params = bulk._padded([(n, *tail) for n, tail in rows.tails.items()], tail_size, 15)
    most = (conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) - len(tail_params)) // 3
    before = conn.total_changes
    actions, start = rows.actions, 0
    while start < len(actions):
        size = bulk._shape(len(actions) - start, bulk._SHAPES, most)
        conn.execute(bulk._shaped_sql(bulk._INSERT_ACTIONS, tails=(tail_size, 15), rows=(size, 3)),
                     tail_params + bulk._padded(actions[start : start + size], size, 3))
        start += size
    return conn.total_changes - before


# Where each field is in a row of ``Store.due_case_rows``: the case's columns, then the debtor's time zone.
DUE_ROW_FIELDS: dict[str, int] = {
    name: i for i, name in enumerate([*(c.strip() for c in _CASE_COLUMNS.split(",")), "timezone"])
}


def due_row_case(row: Sequence[Any]) -> Case:
    """The Case of a row of ``Store.due_case_rows``."""
    return _case(row)


class PlanWriter(EventLog):
    """The store's part that writes what planning worked out."""

    def save_plans(self, writes: Sequence[CasePlanWrite] | PlanBatch) -> tuple[int, int, int]:
        """Write planned actions and advance each case's cursor, all in one transaction.

        A case whose cursor moved since it was read (another dispatcher got
        there first) is left alone. An inserted outreach supersedes the
        case's older occurrences of its step and channel still pending
        (see ``_supersede``). Returns (cases written, actions inserted,
        occurrences superseded).
        """
        if not writes:
            return 0, 0, 0
        if isinstance(writes, PlanBatch):
            return self._save_batch(writes)
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
            moved = self._advance_cursors(cursors)
            if moved == len(writes):
                kept = list(writes)
            else:
                self.conn.execute("ROLLBACK TO save_plans")
                kept = [w for w, params in zip(writes, cursors, strict=False)
                        if self.conn.execute(_ADVANCE_CURSOR, params).rowcount == 1]
            self.conn.execute("RELEASE save_plans")
            rows = [row for w in kept for row in w.actions]
            events = [event for w in kept for event in w.events]
            inserted, ended = self._insert_planned(rows, writes[0].planned_at) if rows else (0, [])
            if events or ended:
                self._append_events([*events, *ended])
        return len(kept), inserted, len(ended)

    def _advance_cursors(self, cursors: Sequence[Sequence[Any]]) -> int:
        """Compare-and-set the planning cursors in one statement; how many matched."""
        if _HAS_UPDATE_FROM:
            return _execute_rows(self.conn, _ADVANCE_CURSORS, cursors, 4)
        return self.conn.executemany(_ADVANCE_CURSOR, cursors).rowcount

    def _insert_planned(self, rows: Any, planned_at: dt.datetime | None) -> tuple[int, list[Event]]:
        """Insert the planned actions (a key already there is ignored, and not counted) and end the older
        pending occurrences they replace: how many were inserted, and the ``superseded`` events."""
        last_id = self.conn.execute("SELECT coalesce(max(id), 0) FROM actions").fetchone()[0]
        inserted = _insert_actions(self.conn, rows)
        return inserted, (self._supersede(last_id, planned_at or utc_now()) if inserted else [])

    def _save_batch(self, batch: PlanBatch) -> tuple[int, int, int]:
        """``save_plans`` for a ``PlanBatch``: the same statements, from rows planning already shaped."""
        cursors = batch.cursors
        with self.transaction():
            self.conn.execute("SAVEPOINT save_plans")
            moved = self._advance_cursors(cursors)
            actions, events = batch.actions, batch.events
            kept = len(cursors)
            if moved != len(cursors):
                # Some cursor moved meanwhile: learn which, and write only the others' rows.
                self.conn.execute("ROLLBACK TO save_plans")
                written = {params[2] for params in cursors if self.conn.execute(_ADVANCE_CURSOR, params).rowcount == 1}
                kept = len(written)
                actions = [row for row in actions if row[1] in written]
                events = [event for event in events if event.case_id in written]
            self.conn.execute("RELEASE save_plans")
            inserted, ended = (self._insert_planned(PlannedActions(actions, batch.tails), batch.planned_at)
                               if actions else (0, []))
            if events or ended:
                self._append_events([*events, *ended])
        return kept, inserted, len(ended)

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

    def save_plans_pipelined(self, batches: Iterable[Sequence[CasePlanWrite] | PlanBatch], *,
                             depth: int = 2) -> Generator[SavedPlans, None, None]:
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
        self._todo: queue.Queue[Sequence[CasePlanWrite] | PlanBatch | None] = queue.Queue(maxsize=max(depth, 1))
        self._done: queue.SimpleQueue[tuple[SavedPlans, list[Sequence[Event]]] | BaseException] = queue.SimpleQueue()
        self._stopping = threading.Event()
        self._outstanding = 0  # batches put and not yet collected
        self._thread = threading.Thread(target=self._run, name="dunning-plan-writer", daemon=True)
        self._thread.start()

    def put(self, writes: Sequence[CasePlanWrite] | PlanBatch) -> None:
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
        writer: PlanWriter | None = None
        failed = False
        try:
            # Only the part of a Store that writes plans, on a connection of this thread's own.
            writer = PlanWriter._another_connection(self._file, self._synchronous)
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
