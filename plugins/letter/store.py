"""The letter plugin's own tables: the print queue and the batches made from it.

``send`` puts each letter it writes in ``letter_print_queue``; a run's
``finish_run`` gathers every queued letter (its own, and any a run that died
before its batch left behind) into a row of ``letter_batches`` and writes
the batch files. Nothing here touches dunning's own tables. The writes
run inside the caller's ``ctx.transaction()``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    import sqlite_utils  # for annotations: imported at run time only by the core, when needed


QUEUE = "letter_print_queue"
BATCHES = "letter_batches"

# Queue states: waiting for a batch, in a batch, or taken out (its action was never recorded as sent).
QUEUED, BATCHED, WITHDRAWN = "queued", "batched", "withdrawn"
# Batch states: files being written (or left half-written by a crash), or written.
ASSEMBLING, WRITTEN = "assembling", "written"


def m001_print_queue(db: sqlite_utils.Database) -> None:
    # Plain SQL rather than sqlite-utils' table helpers, so the step runs on PostgreSQL too
    # (docs/postgresql.md); the tables and index names are the ones those helpers made.
    db.execute(
        f"""
        CREATE TABLE IF NOT EXISTS "{QUEUE}" (
           "key" TEXT PRIMARY KEY,
           "case_id" INTEGER NOT NULL,
           "run_id" TEXT,
           "path" TEXT NOT NULL,
           "sha256" TEXT NOT NULL,
           "pages" INTEGER NOT NULL,
           "debtor_name" TEXT,
           "address" TEXT,
           "written_at" TEXT,
           "status" TEXT NOT NULL,
           "batch" TEXT
        )
        """
    )
    db.execute(f'CREATE INDEX IF NOT EXISTS "idx_{QUEUE}_status" ON "{QUEUE}" ("status")')
    db.execute(f'CREATE INDEX IF NOT EXISTS "idx_{QUEUE}_batch" ON "{QUEUE}" ("batch")')
    db.execute(
        f"""
        CREATE TABLE IF NOT EXISTS "{BATCHES}" (
           "id" TEXT PRIMARY KEY,
           "run_id" TEXT,
           "created_at" TEXT NOT NULL,
           "status" TEXT NOT NULL,
           "letters" INTEGER,
           "pages" INTEGER,
           "pdf" TEXT,
           "csv" TEXT,
           "pdf_sha256" TEXT,
           "csv_sha256" TEXT
        )
        """
    )


MIGRATIONS = (("m001_print_queue", m001_print_queue),)


@attrs.frozen
class QueuedLetter:
    key: str
    case_id: int
    path: str  # relative to the letters folder
    sha256: str
    pages: int
    debtor_name: str
    address: tuple[str, ...]
    status: str = QUEUED
    batch: str | None = None
    run_id: str | None = None
    written_at: str | None = None

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> QueuedLetter:
        key, case_id, path, sha256, pages, name, address, status, batch, run_id, written_at = row
        return cls(key=key, case_id=case_id, path=path, sha256=sha256, pages=pages, debtor_name=name or "",
                   address=tuple(json.loads(address or "[]")), status=status, batch=batch, run_id=run_id,
                   written_at=written_at)


_COLUMNS = "key, case_id, path, sha256, pages, debtor_name, address, status, batch, run_id, written_at"


@attrs.frozen
class Batch:
    id: str
    run_id: str
    created_at: str
    status: str
    letters: int
    pages: int
    pdf: str | None
    csv: str | None
    pdf_sha256: str | None
    csv_sha256: str | None


def queued(db: sqlite_utils.Database, key: str) -> QueuedLetter | None:
    row = db.execute(f"SELECT {_COLUMNS} FROM {QUEUE} WHERE key = ?", [key]).fetchone()
    return QueuedLetter.from_row(row) if row else None


def put(db: sqlite_utils.Database, letter: QueuedLetter, run_id: str, now: dt.datetime) -> None:
    """Queue a letter, replacing an earlier unbatched write of the same key (a re-send after a crash)."""
    db.execute(
        f"INSERT INTO {QUEUE} ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?) "
        "ON CONFLICT(key) DO UPDATE SET case_id = excluded.case_id, path = excluded.path, "
        "sha256 = excluded.sha256, pages = excluded.pages, debtor_name = excluded.debtor_name, "
        "address = excluded.address, status = excluded.status, batch = NULL, run_id = excluded.run_id, "
        f"written_at = excluded.written_at WHERE {QUEUE}.status != '{BATCHED}'",
        [letter.key, letter.case_id, letter.path, letter.sha256, letter.pages, letter.debtor_name,
         json.dumps(list(letter.address), ensure_ascii=False), QUEUED, run_id, now.isoformat()],
    )


def waiting(db: sqlite_utils.Database) -> list[QueuedLetter]:
    """Letters not yet in a batch, in the order they were written."""
    return letters(db)


def letters(db: sqlite_utils.Database, *, every_state: bool = False) -> list[QueuedLetter]:
    """The queue: waiting letters only, or every letter ever queued."""
    where, params = ("", []) if every_state else ("WHERE status = ?", [QUEUED])
    rows = db.execute(f"SELECT {_COLUMNS} FROM {QUEUE} {where} ORDER BY written_at, key", params)
    return [QueuedLetter.from_row(r) for r in rows]


def in_batch(db: sqlite_utils.Database, batch_id: str) -> list[QueuedLetter]:
    rows = db.execute(f"SELECT {_COLUMNS} FROM {QUEUE} WHERE batch = ? ORDER BY written_at, key", [batch_id])
    return [QueuedLetter.from_row(r) for r in rows]


def withdraw(db: sqlite_utils.Database, keys: Sequence[str]) -> None:
    db.conn.executemany(f"UPDATE {QUEUE} SET status = ? WHERE key = ? AND status = ?",
                        [(WITHDRAWN, key, QUEUED) for key in keys])


def open_batch(db: sqlite_utils.Database, batch_id: str, run_id: str, keys: Sequence[str], now: dt.datetime) -> None:
    """Claim these queued letters for a new batch, before any batch file is written."""
    db.execute(f"INSERT INTO {BATCHES} (id, run_id, created_at, status, letters, pages) VALUES (?, ?, ?, ?, 0, 0)",
               [batch_id, run_id, now.isoformat(), ASSEMBLING])
    db.conn.executemany(f"UPDATE {QUEUE} SET status = ?, batch = ? WHERE key = ? AND status = ?",
                        [(BATCHED, batch_id, key, QUEUED) for key in keys])


def drop_batch(db: sqlite_utils.Database, batch_id: str) -> None:
    """Forget a batch that ended up with no letter."""
    db.execute(f"DELETE FROM {BATCHES} WHERE id = ? AND status = ?", [batch_id, ASSEMBLING])


def close_batch(db: sqlite_utils.Database, batch: Batch) -> None:
    db.execute(
        f"UPDATE {BATCHES} SET status = ?, letters = ?, pages = ?, pdf = ?, csv = ?, pdf_sha256 = ?, "
        "csv_sha256 = ? WHERE id = ?",
        [WRITTEN, batch.letters, batch.pages, batch.pdf, batch.csv, batch.pdf_sha256, batch.csv_sha256, batch.id],
    )


def batches(db: sqlite_utils.Database, *, status: str | None = None) -> list[Batch]:
    where, params = ("WHERE status = ?", [status]) if status else ("", [])
    rows = db.execute(
        f"SELECT id, run_id, created_at, status, letters, pages, pdf, csv, pdf_sha256, csv_sha256 FROM {BATCHES} "
        f"{where} ORDER BY created_at, id", params)
    return [Batch(*r) for r in rows]
