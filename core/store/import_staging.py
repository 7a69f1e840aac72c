"""The import's scratch file: what the checking pass found, for the writing pass, on disk rather than in memory.

A file of a million rows is checked row by row (the first pass) and
written in one transaction (the second). Between the two, each checked
row waits here, in a temporary SQLite file the import deletes when done:
the writing pass reads them back in file order without checking them
again, and memory stays the same whatever the file's size. The
``references`` table is how a reference given twice for one debtor is found
without holding every reference in memory: its primary key does the work.
"""

from __future__ import annotations

import marshal
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

# Rows are handed to SQLite this many at a time.
_BATCH = 5000


class ImportStaging:
    """A temporary database of checked rows; a context manager that removes it."""

    def __init__(self) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="dunning-import-")
        self.conn = sqlite3.connect(Path(self._folder.name) / "staging.db", isolation_level=None)
        # Scratch data: nothing to recover after a crash, so no journal and no syncing; a small page cache.
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-16000", "temp_store=FILE"):
            self.conn.execute(f"PRAGMA {pragma}")
        self.conn.execute("CREATE TABLE rows (line INTEGER PRIMARY KEY, payload BLOB NOT NULL)")
        self.conn.execute("CREATE TABLE refs (debtor_id TEXT NOT NULL, reference TEXT NOT NULL, "
                          "line INTEGER NOT NULL, PRIMARY KEY (debtor_id, reference)) WITHOUT ROWID")
        self.conn.execute("BEGIN")
        self._rows: list[tuple[int, bytes]] = []
        self.count = 0

    def __enter__(self) -> ImportStaging:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self.conn.close()
        self._folder.cleanup()

    def first_line_of(self, debtor_id: str, reference: str, line: int) -> int | None:
        """The line that gave this debtor's reference first, or None (and ``line`` is now that line)."""
        cursor = self.conn.execute("INSERT OR IGNORE INTO refs (debtor_id, reference, line) VALUES (?, ?, ?)",
                                   [debtor_id, reference, line])
        if cursor.rowcount:
            return None
        return int(self.conn.execute("SELECT line FROM refs WHERE debtor_id = ? AND reference = ?",
                                     [debtor_id, reference]).fetchone()[0])

    def keep_references(self, references: list[tuple[str, str, int]]) -> None:
        """Record (debtor_id, reference, line) of references known not to be here yet (``first_line_of`` without
        its answer, a batch at a time)."""
        self.conn.executemany("INSERT OR IGNORE INTO refs (debtor_id, reference, line) VALUES (?, ?, ?)", references)

    def add(self, line: int, payload: bytes) -> None:
        """Keep one checked row (its encoded form) for the writing pass."""
        self._rows.append((line, payload))
        self.count += 1
        if len(self._rows) >= _BATCH:
            self._flush()

    def add_row(self, line: int, row: Any) -> None:
        """Keep one checked row (plain values, as the writing pass takes them), encoded with ``marshal``."""
        self.add(line, marshal.dumps(row))

    def _flush(self) -> None:
        self.conn.executemany("INSERT INTO rows (line, payload) VALUES (?, ?)", self._rows)
        self._rows.clear()

    def payloads(self) -> Iterator[bytes]:
        """The kept rows in file order, streamed."""
        self._flush()
        for (payload,) in self.conn.execute("SELECT payload FROM rows ORDER BY line"):
            yield payload
