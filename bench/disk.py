"""What a daily run adds to the database file, per action, table by table and index by index.

    python bench/disk.py [--cases N] [--db PATH] [--keep] [--json]

In one process:

1. generates N open cases (one debtor, one email contact, one obligation
   each) with due dates spread over 200 days, straight into a fresh SQLite
   file whose schema ``Store`` creates;
2. runs day X with every channel of the ``trade-receivables`` preset as a
   null channel (accepts every action at once), so the portfolio is in a
   steady state: what was past due has been planned, what was due sent;
3. measures the file (after a WAL checkpoint) and ``dbstat`` per table and
   per index, runs day X+1 the same way, and measures again;
4. the yardstick: the rows day X+1 added (new primary keys, table by table;
   events in their canonical form, as ``dunning verify`` reads them) written
   as plain CSV, header once per table.

Bytes per action = bytes added / actions day X+1 wrote to the outbox.
See bench/README.md.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

# Installed channel plugins must not take part; the bench measures the core alone.
os.environ["DUNNING_LOAD_PLUGINS"] = ""

from dunning import dispatch, hookimpl
from dunning.channels import Delivery
from dunning.config import Config
from dunning.runtime import Runtime
from dunning.store import Store

UTC = dt.UTC
DAY_X = dt.datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
DAY_AFTER = DAY_X + dt.timedelta(days=1)
SPREAD_DAYS = 200  # due dates from DAY_X - 200 days to DAY_X + 7 (the courtesy reminder's window)
POLICY = "trade-receivables"
CHANNELS = ("email", "phone", "letter", "visit", "sms", "agency", "legal")
CHUNK = 50_000


# --- generating ------------------------------------------------------------------------------


def _chunks(rows: Iterable[tuple[Any, ...]], size: int = CHUNK) -> Iterator[list[tuple[Any, ...]]]:
    chunk: list[tuple[Any, ...]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _bulk(conn: sqlite3.Connection, sql: str, rows: Iterable[tuple[Any, ...]]) -> None:
    for chunk in _chunks(rows):
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(sql, chunk)
        conn.execute("COMMIT")


def generate(path: Path, n: int) -> None:
    """N debtors with an email contact, one obligation and one open case each, due dates over 200 days.

    Each case's cursor says it was planned up to the day before day X, as
    the runner leaves it when it ran every day.
    """
    store = Store(path)
    conn = store.conn
    run_day = DAY_X.date()
    created = "2026-01-01T08:00:00Z"

    def due(i: int) -> dt.date:
        return run_day - dt.timedelta(days=i % (SPREAD_DAYS + 7) - 7)

    def amount(i: int) -> int:
        return 20_000 + (i * 7_919) % 2_000_000

    _bulk(conn, "INSERT INTO debtors (id, name, kind, country, timezone, locale, created_at, updated_at) "
                "VALUES (?, ?, 'company', 'GB', 'Europe/London', NULL, ?, ?)",
          ((f"D{i:07d}", f"Customer {i} Ltd", created, created) for i in range(1, n + 1)))
    _bulk(conn, "INSERT INTO contacts (debtor_id, kind, value, role, name, bad) "
                "VALUES (?, 'email', ?, 'debtor', NULL, 0)",
          ((f"D{i:07d}", f"accounts{i}@example.com") for i in range(1, n + 1)))
    _bulk(conn, "INSERT INTO cases (id, debtor_id, currency, stage, status, balance, anchor_due_on, opened_on, "
                "planned_through, next_action_on, broken_promises, account_locked, stage_entered_on) "
                "VALUES (?, ?, 'EUR', 'internal', 'open', ?, ?, ?, ?, ?, 0, 0, ?)",
          ((i, f"D{i:07d}", amount(i), due(i).isoformat(), "2026-01-01",
            (run_day - dt.timedelta(days=1)).isoformat(), run_day.isoformat(), "2026-01-01") for i in range(1, n + 1)))
    _bulk(conn, "INSERT INTO obligations (id, case_id, debtor_id, reference, amount, currency, issued_on, due_on, "
                "paid) VALUES (?, ?, ?, ?, ?, 'EUR', ?, ?, 0)",
          ((i, i, f"D{i:07d}", f"INV-{i:07d}", amount(i), (due(i) - dt.timedelta(days=30)).isoformat(),
            due(i).isoformat()) for i in range(1, n + 1)))
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()


# --- null channels ----------------------------------------------------------------------------


class NullChannel:
    """Accepts every action at once; the bytes measured are the core's."""

    needs = ()

    def __init__(self, name: str):
        self.name = name

    def send(self, action: Any, case: Any, ctx: Any) -> Delivery:
        return Delivery.sent(ctx.key)


class NullPlugin:
    plugin_name = "bench-null-channels"

    def __init__(self, names: tuple[str, ...]):
        self.channels = tuple(NullChannel(n) for n in names)

    @hookimpl
    def register_channels(self, register: Callable[[Any], None]) -> None:
        for channel in self.channels:
            register(channel)


def runtime(db: Path) -> Runtime:
    config = Config(path=None, policy=POLICY, db=db, timezone="UTC", enabled_channels=CHANNELS)
    return Runtime(config, extra_plugins=[NullPlugin(CHANNELS)])


# --- measuring -----------------------------------------------------------------------------------


def space(db: Path) -> dict[str, dict[str, int]]:
    """Bytes per table and index: pages in use (pgsize) and what they hold (payload)."""
    conn = sqlite3.connect(db)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        kinds = dict(conn.execute("SELECT name, type FROM sqlite_master"))
        found = {}
        for name, pages, payload in conn.execute(
                "SELECT name, sum(pgsize), sum(payload) FROM dbstat GROUP BY name"):
            found[name] = {"type": kinds.get(name, "table"), "bytes": pages, "payload": payload}
        return found
    finally:
        conn.close()


def _primary_key(conn: sqlite3.Connection, table: str) -> list[str]:
    columns = sorted((pk, name) for _, name, _, _, _, pk in conn.execute(f"PRAGMA main.table_info({table})") if pk)
    return [name for _, name in columns] or ["rowid"]


def csv_bytes_added(db: Path, before: Path) -> dict[str, tuple[int, int]]:
    """Per table: (rows added, bytes of those rows as plain CSV with one header line)."""
    store = Store(db)
    conn = store.conn
    conn.execute("ATTACH DATABASE ? AS before", [str(before)])
    sizes: dict[str, tuple[int, int]] = {}

    class Counter:
        written = 0

        def write(self, text: str) -> int:
            self.written += len(text.encode())
            return len(text)

    tables = [name for (name,) in conn.execute(
        "SELECT name FROM main.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "AND name NOT LIKE '\\_%' ESCAPE '\\'")]
    for table in tables:
        sink = Counter()
        out = csv.writer(sink)
        if table == "events":
            (last,) = conn.execute("SELECT coalesce(max(seq), 0) FROM before.events").fetchone()
            rows: Iterable[Iterable[Any]] = (
                [r[k] if k != "data" else json.dumps(r[k], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
                 for k in r]
                for r in store.event_rows_for_verify() if r["seq"] > last)
            header = ["seq", "at", "recorded_at", "case_id", "kind", "stage", "dpd", "channel", "step", "action_id",
                      "data", "prev_hash", "hash"]
        else:
            key = _primary_key(conn, table)
            match = " AND ".join(f"b.{k} IS m.{k}" for k in key)
            cursor = conn.execute(f"SELECT m.* FROM main.{table} m WHERE NOT EXISTS "
                                  f"(SELECT 1 FROM before.{table} b WHERE {match})")
            header = [d[0] for d in cursor.description]
            rows = ([v.hex() if isinstance(v, bytes) else v for v in row] for row in cursor)
        count = 0
        out.writerow(header)
        for row in rows:
            out.writerow(row)
            count += 1
        if count:
            sizes[table] = (count, sink.written)
    store.close()
    return sizes


def run_day(db: Path, at: dt.datetime) -> tuple[float, dispatch.RunSummary, int]:
    with runtime(db) as rt:
        before = rt.store.conn.execute("SELECT count(*) FROM actions").fetchone()[0]
        start = time.perf_counter()
        summary = dispatch.run(rt, at)
        seconds = time.perf_counter() - start
        written = rt.store.conn.execute("SELECT count(*) FROM actions").fetchone()[0] - before
    return seconds, summary, written


def measure(n: int, db: Path) -> dict[str, Any]:
    print(f"  .. generating {n:,} cases", file=sys.stderr, flush=True)
    generate(db, n)
    seconds, summary, _ = run_day(db, DAY_X)
    print(f"  .. day X: {seconds:.1f} s, {summary.sent:,} sent", file=sys.stderr, flush=True)
    before_db = db.with_name(db.stem + "-before.db")
    space_before = space(db)
    shutil.copyfile(db, before_db)
    size_before = db.stat().st_size
    seconds, summary, actions = run_day(db, DAY_AFTER)
    print(f"  .. day X+1: {seconds:.1f} s, {actions:,} actions, {summary.sent:,} sent", file=sys.stderr, flush=True)
    space_after = space(db)
    size_after = db.stat().st_size
    added_csv = csv_bytes_added(db, before_db)
    before_db.unlink()
    objects = []
    for name in sorted(set(space_before) | set(space_after)):
        old = space_before.get(name, {"bytes": 0, "payload": 0})
        new = space_after.get(name, {"bytes": 0, "payload": 0, "type": old.get("type")})
        grown = new["bytes"] - old["bytes"]
        if grown:
            objects.append({"name": name, "type": new.get("type") or old.get("type"), "bytes": grown,
                            "payload": new["payload"] - old["payload"],
                            "per_action": round(grown / actions, 1) if actions else None})
    csv_total = sum(size for _, size in added_csv.values())
    grown = size_after - size_before
    return {
        "cases": n, "actions": actions, "sent": summary.sent, "events": added_csv.get("events", (0, 0))[0],
        "file_bytes_added": grown,
        "bytes_per_action": round(grown / actions, 1) if actions else None,
        "csv_bytes": csv_total,
        "csv_bytes_per_action": round(csv_total / actions, 1) if actions else None,
        "file_vs_csv": round(grown / csv_total, 2) if csv_total else None,
        "objects": sorted(objects, key=lambda o: -o["bytes"]),
        "csv_tables": {t: {"rows": r, "bytes": b} for t, (r, b) in sorted(added_csv.items())},
        "file_bytes": size_after,
        "sqlite": sqlite3.sqlite_version,
    }


def print_report(f: dict[str, Any]) -> None:
    print(f"\ndunning disk bench: {f['cases']:,} cases, day X+1 wrote {f['actions']:,} actions "
          f"({f['sent']:,} sent) and {f['events']:,} events; sqlite {f['sqlite']}\n")
    print(f"file grew       {f['file_bytes_added']:>14,} bytes  {f['bytes_per_action']:>8,.1f} per action")
    print(f"yardstick (CSV) {f['csv_bytes']:>14,} bytes  {f['csv_bytes_per_action']:>8,.1f} per action")
    print(f"file / CSV      {f['file_vs_csv']:>14}\n")
    print(f"{'table or index':<34} {'type':<6} {'bytes added':>12} {'per action':>10} {'payload':>12}")
    for o in f["objects"]:
        print(f"{o['name']:<34} {o['type']:<6} {o['bytes']:>12,} {o['per_action']:>10,.1f} {o['payload']:>12,}")
    print(f"\n{'CSV of the rows added':<34} {'rows':>10} {'bytes':>12}")
    for table, t in f["csv_tables"].items():
        print(f"{table:<34} {t['rows']:>10,} {t['bytes']:>12,}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="Figures are explained in bench/README.md.")
    parser.add_argument("--cases", type=int, default=100_000, metavar="N",
                        help="open cases to generate, 1 .. 1,000,000 (default 100,000)")
    parser.add_argument("--db", type=Path, metavar="PATH", help="database file to create (must not exist)")
    parser.add_argument("--keep", action="store_true", help="keep the database file afterwards")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    if not 1 <= args.cases <= 1_000_000:
        parser.error("--cases must be between 1 and 1,000,000")
    folder = None
    if args.db:
        db = args.db.resolve()
        if db.exists():
            parser.error(f"{db} exists; the bench needs a fresh file")
        db.parent.mkdir(parents=True, exist_ok=True)
    else:
        folder = Path(tempfile.mkdtemp(prefix="dunning-disk-"))
        db = folder / "disk.db"
    try:
        figures = measure(args.cases, db)
    finally:
        if not args.keep:
            for suffix in ("", "-wal", "-shm"):
                Path(str(db) + suffix).unlink(missing_ok=True)
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print_report(figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
