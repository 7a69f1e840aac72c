"""The plugin's own table, ``phone_calls``: the call list and what each call came to.

The core hands the plugin its ``sqlite_utils.Database``; all of the
plugin's SQL lives here. Callers write inside a store transaction (see
``writing``), so a task and the evidence that goes with it commit together.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any


from dunning.calendar import from_text, to_text
from dunning.plugins.phone.calls import DONE, OPEN, CallTask

if TYPE_CHECKING:
    import sqlite_utils  # for annotations: imported at run time only by the core, when needed


def m001_phone_calls(db: sqlite_utils.Database) -> None:
    db.execute(
        """
        CREATE TABLE phone_calls (
            id INTEGER PRIMARY KEY,
            key TEXT NOT NULL UNIQUE,
            case_id INTEGER NOT NULL,
            debtor_id TEXT NOT NULL,
            contact_id INTEGER,
            number TEXT NOT NULL,
            number_kind TEXT,
            contact_name TEXT,
            contact_role TEXT,
            slot TEXT NOT NULL,
            due_on TEXT NOT NULL,
            template TEXT,
            step TEXT,
            audience TEXT NOT NULL DEFAULT 'debtor',
            disclosure TEXT NOT NULL DEFAULT 'none',
            collector TEXT,
            status TEXT NOT NULL DEFAULT 'open',
            outcome TEXT,
            logged_at TEXT,
            note TEXT,
            created_at TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX phone_calls_due ON phone_calls (due_on, status)")
    db.execute("CREATE INDEX phone_calls_case ON phone_calls (case_id, due_on)")


MIGRATIONS: Sequence[tuple[str, Any]] = (("m001_phone_calls", m001_phone_calls),)

_COLUMNS = ("key, case_id, debtor_id, due_on, number, slot, contact_id, number_kind, contact_name, contact_role, "
            "template, step, audience, disclosure, collector, status, outcome, logged_at, note, created_at, id")


def _task(row: Sequence[Any]) -> CallTask:
    (key, case_id, debtor_id, due_on, number, slot, contact_id, number_kind, contact_name, contact_role, template,
     step, audience, disclosure, collector, status, outcome, logged_at, note, created_at, id_) = row
    return CallTask(
        key=key, case_id=case_id, debtor_id=debtor_id, due_on=dt.date.fromisoformat(due_on), number=number,
        slot=slot, contact_id=contact_id, number_kind=number_kind, contact_name=contact_name,
        contact_role=contact_role, template=template, step=step, audience=audience, disclosure=disclosure,
        collector=collector, status=status, outcome=outcome, logged_at=from_text(logged_at) if logged_at else None,
        note=note, created_at=from_text(created_at) if created_at else None, id=id_,
    )


class CallStore:
    """Reads and writes ``phone_calls``."""

    def __init__(self, db: sqlite_utils.Database):
        self.conn = db.conn

    def exists(self) -> bool:
        # Each database's catalog: a PostgreSQL connection says which it is, sqlite3's has no such attribute.
        if getattr(self.conn, "dialect", "sqlite") == "postgresql":
            sql = "SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?"
        else:
            sql = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
        return self.conn.execute(sql, ["phone_calls"]).fetchone() is not None

    def add_task(self, task: CallTask, now: dt.datetime) -> CallTask:
        """Insert the task unless its key is already there; return the stored row either way.

        A re-send after a crash carries the same key, so it finds the task
        the first attempt wrote instead of making a second one.
        """
        self.conn.execute(
            "INSERT OR IGNORE INTO phone_calls (key, case_id, debtor_id, due_on, number, slot, contact_id, "
            "number_kind, contact_name, contact_role, template, step, audience, disclosure, collector, status, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [task.key, task.case_id, task.debtor_id, task.due_on.isoformat(), task.number, task.slot,
             task.contact_id, task.number_kind, task.contact_name, task.contact_role, task.template, task.step,
             task.audience, task.disclosure, task.collector, OPEN, to_text(now)],
        )
        stored = self.by_key(task.key)
        assert stored is not None
        return stored

    def add_logged_call(self, task: CallTask, now: dt.datetime) -> CallTask:
        """A call nobody planned (the debtor rang back, a collector tried on their own): recorded as done."""
        self.conn.execute(
            "INSERT INTO phone_calls (key, case_id, debtor_id, due_on, number, slot, contact_id, number_kind, "
            "contact_name, contact_role, template, step, audience, disclosure, collector, status, outcome, "
            "logged_at, note, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [task.key, task.case_id, task.debtor_id, task.due_on.isoformat(), task.number, task.slot,
             task.contact_id, task.number_kind, task.contact_name, task.contact_role, task.template, task.step,
             task.audience, task.disclosure, task.collector, DONE, task.outcome,
             to_text(task.logged_at or now), task.note, to_text(now)],
        )
        stored = self.by_key(task.key)
        assert stored is not None
        return stored

    def record_outcome(self, call_id: int, outcome: str, at: dt.datetime, note: str | None,
                       collector: str | None, number: str | None = None) -> bool:
        """Close an open task with what came of the call; False if it was no longer open."""
        cursor = self.conn.execute(
            "UPDATE phone_calls SET status = ?, outcome = ?, logged_at = ?, note = ?, "
            "collector = coalesce(?, collector), number = coalesce(?, number) WHERE id = ? AND status = ?",
            [DONE, outcome, to_text(at), note, collector, number, call_id, OPEN],
        )
        return cursor.rowcount == 1

    def by_key(self, key: str) -> CallTask | None:
        row = self.conn.execute(f"SELECT {_COLUMNS} FROM phone_calls WHERE key = ?", [key]).fetchone()
        return _task(row) if row else None

    def get(self, call_id: int) -> CallTask | None:
        row = self.conn.execute(f"SELECT {_COLUMNS} FROM phone_calls WHERE id = ?", [call_id]).fetchone()
        return _task(row) if row else None

    def open_on(self, day: dt.date, collector: str | None = None) -> list[CallTask]:
        """Open tasks due on ``day`` (for one collector if named)."""
        sql = f"SELECT {_COLUMNS} FROM phone_calls WHERE due_on = ? AND status = ?"
        params: list[Any] = [day.isoformat(), OPEN]
        if collector is not None:
            sql += " AND collector = ?"
            params.append(collector)
        return [_task(r) for r in self.conn.execute(sql + " ORDER BY id", params)]

    def open_for_case(self, case_id: int, day: dt.date) -> list[CallTask]:
        return [_task(r) for r in self.conn.execute(
            f"SELECT {_COLUMNS} FROM phone_calls WHERE case_id = ? AND due_on = ? AND status = ? ORDER BY id",
            [case_id, day.isoformat(), OPEN])]

    def latest_for_case(self, case_id: int) -> CallTask | None:
        row = self.conn.execute(
            f"SELECT {_COLUMNS} FROM phone_calls WHERE case_id = ? ORDER BY due_on DESC, id DESC LIMIT 1",
            [case_id]).fetchone()
        return _task(row) if row else None

    def for_case(self, case_id: int) -> list[CallTask]:
        return [_task(r) for r in self.conn.execute(
            f"SELECT {_COLUMNS} FROM phone_calls WHERE case_id = ? ORDER BY due_on, id", [case_id])]
