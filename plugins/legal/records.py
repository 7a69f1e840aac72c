"""The legal plugin's own tables: matters, milestones, acknowledgements, tasks.

The only module of the plugin that speaks SQL. Functions take the
``sqlite_utils.Database`` the core hands the plugin and write inside the
caller's transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

import attrs

if TYPE_CHECKING:
    import sqlite_utils  # for annotations: imported at run time only by the core, when needed


def m001_matters(db: sqlite_utils.Database) -> None:
    db.execute(
        """
        CREATE TABLE legal_matters (
            id INTEGER PRIMARY KEY,
            case_id INTEGER NOT NULL,
            status TEXT NOT NULL,
            opened_at TEXT NOT NULL,
            opened_on TEXT NOT NULL,
            firm TEXT NOT NULL,
            lawyer TEXT,
            court TEXT,
            case_number TEXT,
            currency TEXT NOT NULL,
            awarded INTEGER,
            closed_on TEXT
        )
        """
    )
    db.execute("CREATE UNIQUE INDEX legal_matters_open ON legal_matters (case_id) WHERE status = 'open'")
    db.execute("CREATE INDEX legal_matters_case ON legal_matters (case_id, id)")
    db.execute(
        """
        CREATE TABLE legal_milestones (
            id INTEGER PRIMARY KEY,
            matter_id INTEGER NOT NULL REFERENCES legal_matters(id),
            case_id INTEGER NOT NULL,
            milestone TEXT NOT NULL,
            on_date TEXT NOT NULL,
            amount INTEGER,
            cost INTEGER,
            note TEXT,
            court TEXT,
            case_number TEXT,
            recorded_at TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX legal_milestones_matter ON legal_milestones (matter_id, on_date, id)")


def m002_acknowledgements_and_tasks(db: sqlite_utils.Database) -> None:
    db.execute(
        """
        CREATE TABLE legal_acknowledgements (
            id INTEGER PRIMARY KEY,
            case_id INTEGER NOT NULL,
            on_date TEXT NOT NULL,
            note TEXT,
            recorded_at TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX legal_acknowledgements_case ON legal_acknowledgements (case_id, on_date)")
    # Tasks come from evidence events (a bankruptcy signal opens "file claim");
    # the event's seq makes opening one idempotent.
    db.execute(
        """
        CREATE TABLE legal_tasks (
            id INTEGER PRIMARY KEY,
            case_id INTEGER NOT NULL,
            kind TEXT NOT NULL,
            source_seq INTEGER NOT NULL UNIQUE,
            opened_at TEXT NOT NULL,
            note TEXT,
            status TEXT NOT NULL,
            done_at TEXT,
            done_by TEXT,
            done_note TEXT
        )
        """
    )
    db.execute("CREATE INDEX legal_tasks_status ON legal_tasks (status, id)")
    db.execute("CREATE TABLE legal_cursor (name TEXT PRIMARY KEY, seq INTEGER NOT NULL)")


MIGRATIONS = (("m001_matters", m001_matters), ("m002_acknowledgements_and_tasks", m002_acknowledgements_and_tasks))


# --- matters ----------------------------------------------------------------------


@attrs.frozen
class Matter:
    id: int
    case_id: int
    status: str
    opened_at: str
    opened_on: dt.date
    firm: str
    lawyer: str | None
    court: str | None
    case_number: str | None
    currency: str
    awarded: int | None
    closed_on: dt.date | None

    @property
    def is_open(self) -> bool:
        return self.status == "open"


@attrs.frozen
class Milestone:
    id: int
    matter_id: int
    milestone: str
    on: dt.date
    amount: int | None
    cost: int | None
    note: str | None
    court: str | None
    case_number: str | None


_MATTER = "id, case_id, status, opened_at, opened_on, firm, lawyer, court, case_number, currency, awarded, closed_on"


def _matter(row: Sequence[Any]) -> Matter:
    return Matter(row[0], row[1], row[2], row[3], dt.date.fromisoformat(row[4]), row[5], row[6], row[7], row[8],
                  row[9], row[10], dt.date.fromisoformat(row[11]) if row[11] else None)


def add_matter(db: sqlite_utils.Database, *, case_id: int, opened_at: str, opened_on: dt.date, firm: str,
               lawyer: str | None, currency: str) -> int:
    cursor = db.execute(
        "INSERT INTO legal_matters (case_id, status, opened_at, opened_on, firm, lawyer, currency) "
        "VALUES (?, 'open', ?, ?, ?, ?, ?)", [case_id, opened_at, opened_on.isoformat(), firm, lawyer, currency])
    return cast(int, cursor.lastrowid)  # an INSERT always sets it


def matter_of(db: sqlite_utils.Database, case_id: int) -> Matter | None:
    """The case's open matter, else its latest one."""
    row = db.execute(f"SELECT {_MATTER} FROM legal_matters WHERE case_id = ? ORDER BY status = 'open' DESC, id DESC "
                     "LIMIT 1", [case_id]).fetchone()
    return _matter(row) if row else None


def matters(db: sqlite_utils.Database, *, open_only: bool = False) -> list[Matter]:
    where = "WHERE status = 'open'" if open_only else ""
    return [_matter(r) for r in db.execute(f"SELECT {_MATTER} FROM legal_matters {where} ORDER BY id")]


def update_matter(db: sqlite_utils.Database, matter_id: int, **fields: Any) -> None:
    allowed = {"court", "case_number", "awarded", "status", "closed_on"}
    if set(fields) - allowed:
        raise ValueError(f"cannot set {', '.join(sorted(set(fields) - allowed))} on a matter")
    values = [v.isoformat() if isinstance(v, dt.date) else v for v in fields.values()]
    db.execute(f"UPDATE legal_matters SET {', '.join(f'{k} = ?' for k in fields)} WHERE id = ?", [*values, matter_id])


def add_milestone(db: sqlite_utils.Database, *, matter_id: int, case_id: int, milestone: str, on: dt.date,
                  amount: int | None, cost: int | None, note: str | None, court: str | None,
                  case_number: str | None, recorded_at: str) -> int:
    cursor = db.execute(
        "INSERT INTO legal_milestones (matter_id, case_id, milestone, on_date, amount, cost, note, court, case_number, "
        "recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [matter_id, case_id, milestone, on.isoformat(), amount, cost, note, court, case_number, recorded_at])
    return cast(int, cursor.lastrowid)  # an INSERT always sets it


def milestones(db: sqlite_utils.Database, matter_id: int) -> list[Milestone]:
    return [Milestone(r[0], r[1], r[2], dt.date.fromisoformat(r[3]), r[4], r[5], r[6], r[7], r[8]) for r in db.execute(
        "SELECT id, matter_id, milestone, on_date, amount, cost, note, court, case_number FROM legal_milestones "
        "WHERE matter_id = ? ORDER BY on_date, id", [matter_id])]


# --- acknowledgements -----------------------------------------------------------------


def add_acknowledgement(
    db: sqlite_utils.Database, case_id: int, on: dt.date, note: str | None, recorded_at: str
) -> int:
    cursor = db.execute("INSERT INTO legal_acknowledgements (case_id, on_date, note, recorded_at) VALUES (?, ?, ?, ?)",
                        [case_id, on.isoformat(), note, recorded_at])
    return cast(int, cursor.lastrowid)  # an INSERT always sets it


def acknowledgements(db: sqlite_utils.Database, case_id: int) -> list[dt.date]:
    return [dt.date.fromisoformat(r[0]) for r in db.execute(
        "SELECT on_date FROM legal_acknowledgements WHERE case_id = ? ORDER BY on_date", [case_id])]


# --- tasks -----------------------------------------------------------------------------


@attrs.frozen
class Task:
    id: int
    case_id: int
    kind: str
    source_seq: int
    opened_at: str
    note: str | None
    status: str
    done_at: str | None
    done_by: str | None
    done_note: str | None


def cursor(db: sqlite_utils.Database, name: str) -> int:
    row = db.execute("SELECT seq FROM legal_cursor WHERE name = ?", [name]).fetchone()
    return int(row[0]) if row else 0


def move_cursor(db: sqlite_utils.Database, name: str, seq: int) -> None:
    db.execute("INSERT INTO legal_cursor (name, seq) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET seq = excluded.seq "
               "WHERE excluded.seq > legal_cursor.seq", [name, seq])


def add_task(db: sqlite_utils.Database, *, case_id: int, kind: str, source_seq: int, opened_at: str,
             note: str | None) -> bool:
    """Open a task for an event; False if that event already opened one."""
    cursor_ = db.execute(
        "INSERT OR IGNORE INTO legal_tasks (case_id, kind, source_seq, opened_at, note, status) "
        "VALUES (?, ?, ?, ?, ?, 'open')", [case_id, kind, source_seq, opened_at, note])
    return cursor_.rowcount == 1


def tasks(db: sqlite_utils.Database, *, include_done: bool = False, case_id: int | None = None) -> list[Task]:
    where, params = ["1"], []
    if not include_done:
        where.append("status = 'open'")
    if case_id is not None:
        where.append("case_id = ?")
        params.append(case_id)
    return [Task(*r) for r in db.execute(
        "SELECT id, case_id, kind, source_seq, opened_at, note, status, done_at, done_by, done_note FROM legal_tasks "
        f"WHERE {' AND '.join(where)} ORDER BY id", params)]


def task(db: sqlite_utils.Database, task_id: int) -> Task | None:
    row = db.execute("SELECT id, case_id, kind, source_seq, opened_at, note, status, done_at, done_by, done_note "
                     "FROM legal_tasks WHERE id = ?", [task_id]).fetchone()
    return Task(*row) if row else None


def finish_task(db: sqlite_utils.Database, task_id: int, *, at: str, by: str, note: str | None) -> bool:
    cursor_ = db.execute("UPDATE legal_tasks SET status = 'done', done_at = ?, done_by = ?, done_note = ? "
                         "WHERE id = ? AND status = 'open'", [at, by, note, task_id])
    return cursor_.rowcount == 1
