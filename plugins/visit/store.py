"""The visit plugin's own table, ``visit_tasks``: one row per visit a field collector is asked to make.

A row is created by the channel when a visit step is delivered (``key`` is
the action's idempotency key, so a re-send after a crash finds the row it
made the first time), or by ``dunning visits log`` for a visit nobody
planned (an ad-hoc record, ``key`` NULL). The core's store is never
written here: evidence, signals, promises and payments go through
``dunning.operations``.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

import attrs

from dunning.calendar import to_text

if TYPE_CHECKING:
    import sqlite_utils  # for annotations: imported at run time only by the core, when needed

TABLE = "visit_tasks"
OPEN, DONE = "open", "done"
OUTCOMES: tuple[str, ...] = ("met", "not_found", "moved", "refused", "promise", "paid")


def m001_visit_tasks(db: sqlite_utils.Database) -> None:
    db.execute(
        f"""
        CREATE TABLE {TABLE} (
            id INTEGER PRIMARY KEY,
            key TEXT UNIQUE,
            case_id INTEGER NOT NULL,
            debtor_id TEXT NOT NULL,
            action_id INTEGER,
            address TEXT,
            area TEXT NOT NULL,
            due_on TEXT NOT NULL,
            template TEXT,
            step TEXT,
            status TEXT NOT NULL DEFAULT '{OPEN}' CHECK (status IN ('{OPEN}', '{DONE}')),
            outcome TEXT,
            note TEXT,
            visited_at TEXT,
            collector TEXT,
            created_at TEXT NOT NULL
        )
        """
    )
    db.execute(f"CREATE INDEX {TABLE}_open ON {TABLE} (status, due_on, area)")
    db.execute(f"CREATE INDEX {TABLE}_case ON {TABLE} (case_id, status)")


MIGRATIONS = (("m001_visit_tasks", m001_visit_tasks),)


@attrs.frozen
class VisitTask:
    id: int
    key: str | None
    case_id: int
    debtor_id: str
    action_id: int | None
    address: str | None
    area: str
    due_on: dt.date
    template: str | None
    step: str | None
    status: str
    outcome: str | None
    note: str | None
    visited_at: str | None
    collector: str | None
    created_at: str

    @classmethod
    def from_row(cls, row: sqlite3.Row | Sequence[Any]) -> VisitTask:
        values = list(row)
        values[7] = dt.date.fromisoformat(values[7])
        return cls(*values)


_COLUMNS = ("id, key, case_id, debtor_id, action_id, address, area, due_on, template, step, status, outcome, note, "
            "visited_at, collector, created_at")


def create_task(db: sqlite_utils.Database, *, key: str, case_id: int, debtor_id: str, action_id: int | None,
                address: str, area: str, due_on: dt.date, template: str | None, step: str | None,
                collector: str | None, now: dt.datetime) -> tuple[VisitTask, bool]:
    """The task for ``key``, made now unless it exists; True when it was made by this call. Call inside a
    transaction."""
    conn = db.conn
    cursor = conn.execute(
        f"INSERT INTO {TABLE} (key, case_id, debtor_id, action_id, address, area, due_on, template, step, "
        "status, collector, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(key) DO NOTHING",
        [key, case_id, debtor_id, action_id, address, area, due_on.isoformat(), template, step, OPEN, collector,
         to_text(now)],
    )
    created = cursor.rowcount == 1
    row = conn.execute(f"SELECT {_COLUMNS} FROM {TABLE} WHERE key = ?", [key]).fetchone()
    return VisitTask.from_row(row), created


def add_record(db: sqlite_utils.Database, *, case_id: int, debtor_id: str, address: str | None, area: str,
               day: dt.date, outcome: str, note: str | None, collector: str | None, now: dt.datetime) -> VisitTask:
    """An ad-hoc visit, made without a task; recorded as done. Call inside a transaction."""
    conn = db.conn
    task_id = cast(int, conn.execute(
        f"INSERT INTO {TABLE} (key, case_id, debtor_id, address, area, due_on, step, status, outcome, note, "
        "visited_at, collector, created_at) VALUES (NULL, ?, ?, ?, ?, ?, 'ad-hoc', ?, ?, ?, ?, ?, ?)",
        [case_id, debtor_id, address, area, day.isoformat(), DONE, outcome, note, to_text(now), collector,
         to_text(now)],
    ).lastrowid)  # an INSERT always sets it
    return task(db, task_id)


def task(db: sqlite_utils.Database, task_id: int) -> VisitTask:
    row = db.conn.execute(f"SELECT {_COLUMNS} FROM {TABLE} WHERE id = ?", [task_id]).fetchone()
    if row is None:
        raise LookupError(f"no visit task with id {task_id}")
    return VisitTask.from_row(row)


def open_tasks(db: sqlite_utils.Database, *, due_by: dt.date | None = None, area: str | None = None,
               case_id: int | None = None) -> list[VisitTask]:
    """Open tasks, oldest due first; only those due by ``due_by`` when given."""
    where: list[str] = ["status = ?"]
    params: list[Any] = [OPEN]
    if due_by is not None:
        where.append("due_on <= ?")
        params.append(due_by.isoformat())
    if area is not None:
        where.append("area = ?")
        params.append(area)
    if case_id is not None:
        where.append("case_id = ?")
        params.append(case_id)
    sql = f"SELECT {_COLUMNS} FROM {TABLE} WHERE {' AND '.join(where)} ORDER BY due_on, id"
    return [VisitTask.from_row(row) for row in db.conn.execute(sql, params)]


def case_tasks(db: sqlite_utils.Database, case_id: int) -> list[VisitTask]:
    """Every task and record of a case, oldest first."""
    sql = f"SELECT {_COLUMNS} FROM {TABLE} WHERE case_id = ? ORDER BY id"
    return [VisitTask.from_row(row) for row in db.conn.execute(sql, [case_id])]


def close_tasks(db: sqlite_utils.Database, task_ids: Sequence[int], *, outcome: str, note: str | None,
                collector: str | None, now: dt.datetime) -> int:
    """Mark open tasks done with the visit's outcome. Call inside a transaction; returns how many changed."""
    changed = 0
    for task_id in task_ids:
        cursor = db.conn.execute(
            f"UPDATE {TABLE} SET status = ?, outcome = ?, note = ?, visited_at = ?, "
            "collector = coalesce(?, collector) WHERE id = ? AND status = ?",
            [DONE, outcome, note, to_text(now), collector, task_id, OPEN],
        )
        changed += cursor.rowcount
    return changed
