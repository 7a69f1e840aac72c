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
from typing import TYPE_CHECKING, Any

import attrs

from dunning.calendar import to_text, utc_now
from dunning.models import ActionKind, Case, Event
from dunning.store import bulk
from dunning.store.bulk import _execute_rows
from dunning.store.events import EventLog
from dunning.store.rows import _ACTION_INSERT_COLUMNS, _CASE_COLUMNS, _case, _iso

if TYPE_CHECKING:
    # The planned events' templates and chaining: a planning run's, imported when a batch is written.
    from dunning.store.planned_events import EventTemplate


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


@attrs.frozen(eq=False)  # shared by every case alike: compared (and hashed) as the one object it is
class PlanRows:
    """What planning writes for each case alike in everything its plan depends on, but for the case's id."""

    expected_planned_through: str | None  # the cursor the cases were read with: the compare-and-set
    planned_through: str
    next_action_on: str | None
    # Per action, in the plan's order: its key but for the case id (":" and the key's tail) and the rest of
    # its row but for the key and the case (``action_row_tail``).
    actions: tuple[tuple[str, tuple[Any, ...]], ...]
    events: tuple[EventTemplate, ...] = ()  # each case's events, in order


@attrs.frozen
class PlanBatch:
    """Planning's result for a batch of cases: each case's id and the number of its ``PlanRows``.

    The same rows, cursors and events as one ``CasePlanWrite`` per case,
    without building one: the writer binds each case as (id, plan number)
    beside a small table of what the batch's plans write (``save_plans``).
    """

    case_ids: list[int]
    plan_numbers: list[int]  # per case, its plan's number in ``plans``
    plans: dict[int, PlanRows]
    # The run's moment: the planning events' ``at``, and when an older occurrence is superseded.
    planned_at: dt.datetime

    def __len__(self) -> int:
        return len(self.case_ids)

    @property
    def cursors(self) -> list[tuple[str, str | None, int, str | None]]:
        """Each case's compare-and-set: (planned_through, next_action_on, case id, the planned_through read)."""
        plans = self.plans
        return [(plans[n].planned_through, plans[n].next_action_on, case_id, plans[n].expected_planned_through)
                for case_id, n in zip(self.case_ids, self.plan_numbers, strict=True)]


# A PlanBatch's cursors in one statement: each case's row is (id, plan number), ``p`` the batch's plans
# as (number, planned_through, next_action_on, the planned_through read).
_ADVANCE_PLANNED_CURSORS = (
    "WITH p(n, planned_through, next_action_on, expected) AS (VALUES {table}) "
    "UPDATE cases SET planned_through = p.planned_through, next_action_on = p.next_action_on "
    "FROM (VALUES {rows}) AS r CROSS JOIN p "
    "WHERE p.n = r.column2 AND cases.id = r.column1 AND cases.status = 'open' AND cases.planned_through IS p.expected"
)
# A PlanBatch's actions: ``t`` holds each plan's actions (plan number, place in the plan, ":" and key
# tail, row tail); a case's row (id, plan number) gives its key (id and tail) and case. CROSS JOIN keeps
# the cases' VALUES list the outer loop, so rows are inserted (and get their ids) case after case, as
# ``CasePlanWrite``'s are; within a case, ``t`` is read in (n, i) order whether SQLite scans it (as bound)
# or searches the automatic index it builds on ``t`` for a bigger table (keyed on n, then the other
# columns in their order: i comes first). Rows whose key is already there are ignored.
_PLANNED_TAIL_COLUMNS = "n, i, suffix, " + bulk._TAIL_COLUMNS.split(",", 1)[1].strip()
_INSERT_PLANNED_ACTIONS = (
    f"WITH t({_PLANNED_TAIL_COLUMNS}) AS (VALUES {{table}}) "
    f"INSERT OR IGNORE INTO actions ({_ACTION_INSERT_COLUMNS}) "
    "SELECT r.column1 || t.suffix, r.column1, "
    + ", ".join(f"t.{c.strip()}" for c in bulk._TAIL_COLUMNS.split(",")[1:])
    + " FROM (VALUES {rows}) AS r CROSS JOIN t WHERE t.n = r.column2 AND t.i >= 0 AND r.column1 IS NOT NULL"
)
# PostgreSQL keeps no join order: the cases are numbered as bound, and inserted in that order and the plan's.
_INSERT_PLANNED_ACTIONS_POSTGRES = (
    f"WITH t({_PLANNED_TAIL_COLUMNS}) AS (VALUES {{table}}) "
    f"INSERT OR IGNORE INTO actions ({_ACTION_INSERT_COLUMNS}) "
    "SELECT r.column1 || t.suffix, r.column1, "
    + ", ".join(f"t.{c.strip()}" for c in bulk._TAIL_COLUMNS.split(",")[1:])
    + " FROM (SELECT v.*, row_number() OVER () AS position FROM (VALUES {rows}) AS v) AS r CROSS JOIN t "
    "WHERE t.n = r.column2 AND t.i >= 0 AND r.column1 IS NOT NULL ORDER BY r.position, t.i"
)
_PLAN_TABLE_SHAPES = (4, 16, 64, 256, 1024)  # rows of ``p`` or ``t``; a batch with more is written row by row


def _execute_beside(conn: sqlite3.Connection, template: str, flat: list[Any], width: int,
                    table: list[tuple[Any, ...]], table_width: int) -> int | None:
    """Run ``template`` over rows of ``width`` values (``flat``: one list, row after row) beside ``table``
    (rows of ``table_width`` values, bound once per statement); how many rows changed. None if ``table`` is
    too big for one statement (nothing was run)."""
    if len(table) > _PLAN_TABLE_SHAPES[-1]:
        return None
    table_size = bulk._shape(len(table), _PLAN_TABLE_SHAPES, _PLAN_TABLE_SHAPES[-1])
    table_params = bulk._padded(table, table_size, table_width)
    most = (conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) - len(table_params)) // width
    count = len(flat) // width
    before = conn.total_changes
    start = 0
    while start < count:
        size = bulk._shape(count - start, bulk._SHAPES, most)
        chunk = flat[width * start : width * (start + size)]
        chunk.extend([None] * (width * size - len(chunk)))
        conn.execute(bulk._shaped_sql(template, table=(table_size, table_width), rows=(size, width)),
                     table_params + chunk)
        start += size
    return conn.total_changes - before


@attrs.frozen
class PlannedActions:
    """A PlanBatch's actions, for ``_insert_actions``: its cases (id and plan number) and their plans."""

    ids: list[int]
    numbers: list[int]
    plans: dict[int, PlanRows]


def _insert_actions(conn: sqlite3.Connection, rows: Sequence[tuple[Any, ...]] | PlannedActions) -> int:
    """Insert action rows, in order, ignoring keys already there; returns rows inserted.

    ``rows`` are whole rows (``bulk._insert_actions``) or a PlanBatch's ``PlannedActions``: bound as
    (case id, plan number) beside a table of the plans' actions, case after case, each case's in its
    plan's order."""
    if not isinstance(rows, PlannedActions):
        return bulk._insert_actions(conn, rows)
    table = [(n, i, suffix, *tail) for n, plan in rows.plans.items() for i, (suffix, tail) in enumerate(plan.actions)]
    postgres = getattr(conn, "dialect", "sqlite") == "postgresql"  # sqlite3's connection has no such attribute
    template = _INSERT_PLANNED_ACTIONS_POSTGRES if postgres else _INSERT_PLANNED_ACTIONS
    inserted = _execute_beside(conn, template, _pairs(rows.ids, rows.numbers), 2, table, 17)
    if inserted is not None:
        return inserted
    return bulk._insert_actions(conn, [(f"{case_id}{suffix}", case_id, *tail)
                                       for case_id, n in zip(rows.ids, rows.numbers, strict=True)
                                       for suffix, tail in rows.plans[n].actions])


def _pairs(ids: list[int], numbers: list[int]) -> list[Any]:
    """[id, number, id, number, ...]: the cases' rows as one flat parameter list."""
    pairs: list[Any] = [None] * (2 * len(ids))
    pairs[0::2], pairs[1::2] = ids, numbers
    return pairs


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
        pending occurrences they replace: how many were inserted, and the ``superseded`` events.

        ``rows`` are whole action rows or a PlanBatch's ``PlannedActions``."""
        last_id = self.conn.execute("SELECT coalesce(max(id), 0) FROM actions").fetchone()[0]
        inserted = _insert_actions(self.conn, rows)
        return inserted, (self._supersede(last_id, planned_at or utc_now()) if inserted else [])

    def _save_batch(self, batch: PlanBatch) -> tuple[int, int, int]:
        """``save_plans`` for a ``PlanBatch``: the cases bound as (id, plan number) beside their plans."""
        ids, numbers, plans = batch.case_ids, batch.plan_numbers, batch.plans
        with self.transaction():
            self.conn.execute("SAVEPOINT save_plans")
            moved = self._advance_planned_cursors(ids, numbers, plans)
            if moved != len(ids):
                # Some cursor moved meanwhile: learn which, and write only the others' rows.
                self.conn.execute("ROLLBACK TO save_plans")
                kept = [(case_id, n) for case_id, n in zip(ids, numbers, strict=True)
                        if self.conn.execute(_ADVANCE_CURSOR, (plans[n].planned_through, plans[n].next_action_on,
                                                               case_id, plans[n].expected_planned_through)
                                             ).rowcount == 1]
                ids, numbers = [case_id for case_id, _ in kept], [n for _, n in kept]
            self.conn.execute("RELEASE save_plans")
            used = {n: plans[n] for n in set(numbers)}
            inserted, ended = (self._insert_planned(PlannedActions(ids, numbers, used), batch.planned_at)
                               if any(plan.actions for plan in used.values()) else (0, []))
            if any(plan.events for plan in used.values()):
                self._append_planned_events(ids, numbers, used, batch.planned_at)
            if ended:
                self._append_events(ended)
        return len(ids), inserted, len(ended)

    def _advance_planned_cursors(self, ids: list[int], numbers: list[int], plans: dict[int, PlanRows]) -> int:
        """Compare-and-set a PlanBatch's cursors; how many matched."""
        if _HAS_UPDATE_FROM:
            table = [(n, plan.planned_through, plan.next_action_on, plan.expected_planned_through)
                     for n, plan in plans.items()]
            moved = _execute_beside(self.conn, _ADVANCE_PLANNED_CURSORS, _pairs(ids, numbers), 2, table, 4)
            if moved is not None:
                return moved
        return self._advance_cursors([
            (plans[n].planned_through, plans[n].next_action_on, case_id, plans[n].expected_planned_through)
            for case_id, n in zip(ids, numbers, strict=True)])

    def _append_planned_events(self, ids: list[int], numbers: list[int], plans: dict[int, PlanRows],
                               at: dt.datetime) -> None:
        """Append the events of a PlanBatch's cases (their plans' templates), in the cases' order."""
        with_events = {n: plan.events for n, plan in plans.items() if plan.events}
        planned = [(case_id, with_events[n]) for case_id, n in zip(ids, numbers, strict=True) if n in with_events]
        if not planned:
            return
        from dunning.store import planned_events

        recorded_at = utc_now().replace(microsecond=0)
        at_text, recorded_text = to_text(at), to_text(recorded_at)
        compiled = planned_events.Compiled((t for events in with_events.values() for t in events), at_text,
                                           recorded_text)
        table = planned_events.template_params(compiled, at_text, recorded_text)
        if compiled.plain or len(table) > _PLAN_TABLE_SHAPES[-1]:
            # A template the markers could not cut (or too many at once): the plain way, Event by Event.
            self._append_events([template.event(case_id, at) for case_id, events in planned for template in events])
            return
        link = self._last_link
        if link is None:  # read inside the write transaction, as _append_events does
            link = self._last_link = self.chain_head()
        seq, prev, params, links = planned_events.chain_rows(*link, planned, compiled)
        _execute_beside(self.conn, planned_events.insert_sql(), params, planned_events.ROW_WIDTH, table,
                        planned_events.TEMPLATE_WIDTH)
        self._last_link = (seq, prev)
        self._pending_events.add_built_later(links, recorded_at, lambda link: link[1].event(link[2], at))

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
