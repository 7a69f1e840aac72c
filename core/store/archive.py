"""Moving resolved cases, their rows and their events to an archive file; the stubs they leave in the chain.

The archive is a SQLite file with the main database's tables (created from
its schema, owner-only). It is written first, in a transaction of its own;
only once it holds every row does the main file, in one transaction,
replace each moved event by its stub (kind ``archived``: seq, hash and
prev_hash as they were, nothing else), delete the moved rows and note
where each case went. A crash between the two leaves the rows in both
files; the next run copies nothing twice (``INSERT OR IGNORE``) and
finishes the move.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import attrs

from dunning import event_codec
from dunning.calendar import to_text
from dunning.models import Event
from dunning.store.errors import StoreError
from dunning.store.events import EventLog

STUB_KIND = event_codec.ARCHIVED
RUN_KIND = "cases_archived"
# Rows that are the debtor's rather than the case's stay: a debtor's credit is the sum of all its
# credit rows, and a bank line's reference is what stops a statement from being applied twice.
_STAYS = frozenset({"cases", "events", "archived_cases", "credits", "bank_credits", "debtors", "contacts"})


@attrs.frozen
class Moved:
    cases: int
    events: int
    rows: dict[str, int]  # table -> rows moved (cases and events included)
    run_seq: int | None = None  # the cases_archived event's seq (None on a dry run)


def _columns(conn: sqlite3.Connection, schema: str, table: str) -> list[tuple[str, str]]:
    return [(name, kind) for _, name, kind, *_ in conn.execute(f"PRAGMA {schema}.table_info({table})")]


class CaseArchive(EventLog):
    """The store's part that moves resolved cases to an archive file."""

    def resolved_before(self, day: dt.date) -> list[int]:
        """Cases resolved (paid, settled, written off) before ``day``, by id, but the newest case.

        The case with the highest id stays until a newer one exists: SQLite
        gives a new row the highest id plus one, so were it gone, the next
        case would get its id (and its payment reference) again.
        """
        return [r[0] for r in self.conn.execute(
            "SELECT id FROM cases WHERE status != 'open' AND resolved_on IS NOT NULL AND resolved_on < ? "
            "AND id < (SELECT max(id) FROM cases) ORDER BY id", [day.isoformat()])]

    def where_archived(self, case_id: int) -> tuple[str, str] | None:
        """(archive file, when) for a case moved to an archive, else None."""
        row = self.conn.execute("SELECT archive, archived_at FROM archived_cases WHERE case_id = ?",
                                [case_id]).fetchone()
        return (row[0], row[1]) if row else None

    def _tables_to_move(self) -> list[tuple[str, str, str]]:
        """(table, the condition naming the rows of the cases in temp.archiving, the SQL giving a row's case),
        rows found through another table first (they go before that table's rows do), the cases last."""
        through, direct = [], []
        tables = [name for (name,) in self.conn.execute(
            "SELECT name FROM main.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%' "
            "AND name NOT LIKE '\\_%' ESCAPE '\\' ORDER BY name")]
        for table in tables:
            names = {name for name, _ in _columns(self.conn, "main", table)}
            if table in _STAYS:
                continue
            if "case_id" in names:
                direct.append((table, "case_id IN (SELECT id FROM temp.archiving)", "case_id"))
            else:
                for column, parent in (("obligation_id", "obligations"), ("payment_id", "payments")):
                    if column in names:
                        owner = f"(SELECT p.case_id FROM main.{parent} p WHERE p.id = main.{table}.{column})"
                        through.append((table, f"{owner} IN (SELECT id FROM temp.archiving)", owner))
                        break
        return [*through, *direct, ("cases", "id IN (SELECT id FROM temp.archiving)", "id")]

    def archive_cases(self, case_ids: Sequence[int], target: Path, now: dt.datetime, *, before: dt.date,
                      by: str | None = None, dry_run: bool = False) -> Moved:
        """Move ``case_ids`` with their rows and events to ``target``; with ``dry_run``, only count."""
        self.conn.execute("CREATE TEMP TABLE IF NOT EXISTS archiving (id INTEGER PRIMARY KEY)")
        with self.transaction():  # (writing a temp table would otherwise open a transaction left open)
            self.conn.execute("DELETE FROM temp.archiving")
            self.conn.executemany("INSERT INTO temp.archiving (id) VALUES (?)", [(i,) for i in case_ids])
        moving = self._tables_to_move()
        rows = {table: self.conn.execute(f"SELECT count(*) FROM main.{table} WHERE {where}").fetchall()[0][0]
                for table, where, _ in moving}
        (events,) = self.conn.execute(
            "SELECT count(*) FROM main.events WHERE case_id IN (SELECT id FROM temp.archiving) AND kind != ?",
            [STUB_KIND]).fetchall()[0]
        rows["events"] = events
        if dry_run or not case_ids:
            return Moved(len(case_ids), events, rows)
        self._prepare_archive(target)
        self.conn.execute("ATTACH DATABASE ? AS archive", [str(target)])
        try:
            # 1. The archive first, in a transaction of its own: every row, every event in full.
            with self.transaction():
                for table, where, owner in moving:
                    self._copy(table, where, owner)
                self.conn.execute(
                    "INSERT OR IGNORE INTO archive.events (seq, at, recorded_at, case_id, kind, stage, dpd, channel, "
                    "step, action_id, data, prev_hash, hash) SELECT e.seq, e.at, e.recorded_at, e.case_id, e.kind, "
                    "e.stage, e.dpd, e.channel, e.step, e.action_id, e.data, "
                    f"{event_codec.PREV_HASH_SQL.format(t='e')}, {event_codec.HASH_SQL.format(t='e')} "
                    "FROM main.events e WHERE e.case_id IN (SELECT id FROM temp.archiving) AND e.kind != ?",
                    [STUB_KIND])
            (held,) = self.conn.execute(
                "SELECT count(*) FROM main.events m JOIN archive.events a ON a.seq = m.seq "
                "WHERE m.case_id IN (SELECT id FROM temp.archiving) AND m.kind != ?", [STUB_KIND]).fetchall()[0]
            if held != events:
                raise RuntimeError(f"{target}: holds {held} of the {events} events to archive; nothing was removed")
            # 2. The main file: the run's event, the stubs, the rows gone, where each case went.
            with self.transaction():
                (run,) = self.append_events([Event(kind=RUN_KIND, at=now, data={
                    "archive": str(target), "before": before.isoformat(), "by": by, "cases": list(case_ids),
                    "events": events})])
                self.conn.execute(
                    "UPDATE main.events SET kind = ?, data = '', stage = NULL, dpd = NULL, channel = NULL, "
                    "step = NULL, action_id = NULL WHERE case_id IN (SELECT id FROM temp.archiving) AND kind != ?",
                    [STUB_KIND, STUB_KIND])
                for table, where, _ in moving:
                    self.conn.execute(f"DELETE FROM main.{table} WHERE {where}")
                self.conn.executemany(
                    "INSERT OR REPLACE INTO archived_cases (case_id, archive, archived_at, run_seq) "
                    "VALUES (?, ?, ?, ?)",
                    [(i, str(target), to_text(now), run.seq) for i in case_ids])
        finally:
            self.conn.execute("DETACH DATABASE archive")
        return Moved(len(case_ids), events, rows, run.seq)

    def _copy(self, table: str, where: str, owner: str) -> None:
        """``table``'s rows matching ``where`` into the archive, each with its case in ``archived_case_id``.

        The archive's tables have the main file's columns but none of its keys:
        an id SQLite gives again once its row has left (the highest one) must
        not stop a later row from being kept. What a crashed run left of
        these cases is taken out first, so a rerun copies nothing twice.
        """
        mine = _columns(self.conn, "main", table)
        theirs = {name for name, _ in _columns(self.conn, "archive", table)}
        if not theirs:
            columns = ", ".join(f'"{name}" {kind}' for name, kind in mine)
            self.conn.execute(f"CREATE TABLE archive.{table} ({columns}, archived_case_id INTEGER NOT NULL)")
            self.conn.execute(f"CREATE INDEX archive.{table}_archived_case ON {table} (archived_case_id)")
        else:
            for name, kind in mine:
                if name not in theirs:
                    self.conn.execute(f'ALTER TABLE archive.{table} ADD COLUMN "{name}" {kind}')
        self.conn.execute(f"DELETE FROM archive.{table} WHERE archived_case_id IN (SELECT id FROM temp.archiving)")
        names = ", ".join(f'"{name}"' for name, _ in mine)
        self.conn.execute(f"INSERT INTO archive.{table} ({names}, archived_case_id) SELECT {names}, {owner} "
                          f"FROM main.{table} WHERE {where}")

    def _prepare_archive(self, target: Path) -> None:
        """An archive file, owner-only, with the main file's events table (made once; later runs append)."""
        fd = os.open(target, os.O_WRONLY | os.O_CREAT, 0o600)
        os.close(fd)
        os.chmod(target, 0o600)
        archive = sqlite3.connect(target, isolation_level=None)
        try:
            if archive.execute("SELECT count(*) FROM sqlite_master WHERE name = 'events'").fetchall()[0][0]:
                return
            archive.execute("BEGIN IMMEDIATE")
            # The events as the chain has them (seq is never given twice), append-only there too. The trigger
            # that keeps the reports' counts (m026, report_*) stays with the main file, where the counts are.
            for (sql,) in self.conn.execute(
                    "SELECT sql FROM main.sqlite_master WHERE tbl_name = 'events' AND sql IS NOT NULL "
                    "AND substr(name, 1, 7) != 'report_' ORDER BY type = 'table' DESC").fetchall():
                archive.execute(sql)
            archive.execute("COMMIT")
        finally:
            archive.close()


def archived_event_rows(path: Path) -> Iterator[dict[str, Any]]:
    """The events an archive file holds, as ``dunning verify`` reads them (data decoded, hashes as hex)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        try:
            cursor = conn.execute(
                "SELECT seq, at, recorded_at, case_id, kind, stage, dpd, channel, step, action_id, data, prev_hash, "
                "hash FROM events ORDER BY seq")
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{path}: not an archive written by `dunning archive` ({exc})") from None
        names = [d[0] for d in cursor.description]
        for row in cursor:
            record = dict(zip(names, row, strict=False))
            record["data"] = json.loads(
                event_codec.decode_data(record["data"], record["case_id"], record["step"], record["channel"]))
            record["prev_hash"] = event_codec.decode_hash(record["prev_hash"])
            record["hash"] = event_codec.decode_hash(record["hash"])
            yield record
    finally:
        conn.close()


class ArchivedStubs(EventLog):
    """What the main file keeps of archived events, for ``dunning verify``."""

    def stubs(self) -> dict[int, tuple[int | None, str, str]]:
        """seq -> (case id, prev_hash, hash) of every stub in the chain."""
        if self.dialect == "postgresql":
            # Hashes are BYTEA there (never hex text): the stored ones read as they are, decoded here.
            rows = self.conn.execute(
                "SELECT seq, case_id, prev_hash, hash, (SELECT p.hash FROM events p WHERE p.seq = events.seq - 1) "
                "FROM events WHERE kind = ? AND data = '' ORDER BY seq", [STUB_KIND]).fetchall()
            return {seq: (case_id, event_codec.decode_prev_hash(prev, event_codec.decode_hash(before)),
                          event_codec.decode_hash(digest) or "")
                    for seq, case_id, prev, digest, before in rows}
        return {r[0]: (r[1], r[2], r[3]) for r in self.conn.execute(
            f"SELECT seq, case_id, {event_codec.PREV_HASH_SQL.format(t='events')}, "
            f"{event_codec.HASH_SQL.format(t='events')} FROM events WHERE kind = ? AND data = '' ORDER BY seq",
            [STUB_KIND])}

    def archived_case_ids(self) -> set[int]:
        return {r[0] for r in self.conn.execute("SELECT case_id FROM archived_cases")}
