"""Import and verify at scale, each figure beside a yardstick measured in the same run.

Import: a generated CSV (default 100,000 rows) imported with `dunning import`
in a process of its own (wall clock and peak RSS; a file this large is checked
in a second process while the first writes, and the CPU time counts both),
then the same import checked and written in one process, beside a yardstick process
that reads the same file with csv.reader and inserts its raw tuples into an
empty table with executemany, in one transaction.

Verify: a generated evidence log (default 300,000 events) in a project with
an evidence key, its head signed, then a tail of events appended after the
checkpoint; `dunning verify --full` and `dunning verify` (from the
checkpoint) timed as processes, beside a yardstick that reads every row's
stored text with a plain cursor and hashes it with hashlib.sha256; then the
chain walk alone in this process, beside the walk verify did before
(each event's data decoded and encoded again).

    .venv/bin/python bench/import.py                      # 100,000 rows, 300,000 events
    .venv/bin/python bench/import.py --rows 1000000       # the target size: a few minutes
    .venv/bin/python bench/import.py --rows 20000 --events 50000 --json
    .venv/bin/python bench/import.py --before /tmp/old   # also import with the dunning package in /tmp/old

With ``--before FOLDER`` (a folder holding another version's ``dunning`` package), the same CSV is also
imported, right before, into a fresh project by that code (first on ``PYTHONPATH``): old and new in one run.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

DUNNING = Path(sys.executable).with_name("dunning")
COLUMNS = ["debtor_id", "name", "kind", "email", "mobile", "address", "country", "timezone", "reference", "amount",
           "currency", "issued_on", "due_on"]

YARDSTICK_IMPORT = """
import csv, sqlite3, sys
conn = sqlite3.connect(sys.argv[2], isolation_level=None)
conn.execute("PRAGMA journal_mode=WAL")
conn.execute("CREATE TABLE rows (" + ", ".join(f"c{i}" for i in range(13)) + ")")
with open(sys.argv[1], newline="", encoding="utf-8") as f:
    reader = csv.reader(f)
    next(reader)
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO rows VALUES (" + ", ".join("?" * 13) + ")", (tuple(r) for r in reader))
    conn.execute("COMMIT")
"""


# The same import as `dunning import FILE`, checked and written in one process (``two_processes=False``): what
# the second process adds, measured beside it.
ONE_PROCESS_IMPORT = """
import datetime as dt, sys
from pathlib import Path
from dunning.importer import import_file
from dunning.store import Store
now = dt.datetime.now(dt.UTC).replace(microsecond=0)
import_file(Store(Path(sys.argv[2])), Path(sys.argv[1]), now=now, today=now.date(), two_processes=False)
"""


def write_csv(path: Path, rows: int) -> None:
    """Two invoices per debtor (rows of a debtor together, as ERP exports list them), each with the debtor's
    email, mobile (German numbers in use) and a two-line postal address."""
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        for i in range(rows):
            d = i // 2
            writer.writerow([
                f"D{d:07d}", f"Debtor {d} GmbH", "company" if d % 3 == 0 else "person", f"ap{d}@example.com",
                f"+49151{d % 10_000_000:08d}", f"Hauptstrasse {d % 200 + 1}\n10115 Berlin", "DE", "Europe/Berlin",
                f"INV-{i:08d}", f"{100 + i % 900}.{i % 100:02d}", "EUR", "2026-01-15", "2026-02-15"])


def timed(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, int, float]:
    """Wall clock (s), peak RSS (MB) and CPU time (user + system, s) of one child process. On a shared machine
    the CPU time is the steadier figure: the wall clock also counts the time spent waiting for a core."""
    start = time.perf_counter()
    child = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {child.stderr.read().decode() if child.stderr else ''}")
    return elapsed, usage.ru_maxrss // 1024, usage.ru_utime + usage.ru_stime


def generate_events(db: Path, count: int, start_case: int = 0) -> None:
    """``count`` `sent` events through the store, 50,000 per transaction, as a run's delivery writes them."""
    from dunning.models import Event
    from dunning.store import Store

    store = Store(db, synchronous="normal")
    at = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
    for first in range(start_case, start_case + count, 50_000):
        with store.transaction():
            store.append_events([
                Event(kind="sent", at=at, case_id=i, stage="internal", dpd=1, channel="email", step="overdue-notice",
                      action_id=i, data={"key": f"{i}:overdue-notice:email:1", "template": "overdue-notice",
                                         "to": "a***@example.com"})
                for i in range(first, min(first + 50_000, start_case + count))])
    store.close()


def yardstick_hashing(db: Path) -> tuple[float, int]:
    """A plain cursor over each event's stored hash and data, and sha256 of the previous hash and the data."""
    import hashlib
    import sqlite3

    conn = sqlite3.connect(db)
    start = time.perf_counter()
    n = 0
    prev = "0" * 64
    for digest, data in conn.execute("SELECT hash, data FROM events ORDER BY seq"):
        hashlib.sha256((prev + data).encode()).digest()
        prev = digest.hex() if type(digest) is bytes else digest
        n += 1
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed, n


def in_process_walks(db: Path) -> dict[str, float]:
    """CPU seconds of the chain check alone, in this process: the walk `verify --full` does, and the one it did
    before (each event's data decoded and encoded again to hash it)."""
    from dunning import evidence
    from dunning.chain_walk import walk
    from dunning.store import Store

    store = Store(db)
    before = time.process_time()
    report = walk(store.event_links(0))
    now_cpu = time.process_time() - before
    before = time.process_time()
    old = evidence.verify_chain(store.event_rows_for_verify())
    old_cpu = time.process_time() - before
    store.close()
    assert report.ok and old.ok and report.checked == old.checked
    return {"walk_cpu_seconds": round(now_cpu, 2), "walk_events_per_cpu_s": round(report.checked / now_cpu),
            "before_cpu_seconds": round(old_cpu, 2), "before_events_per_cpu_s": round(old.checked / old_cpu)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="CSV rows to import (default 100,000)")
    parser.add_argument("--events", type=int, default=300_000, help="events in the verified log (default 300,000)")
    parser.add_argument("--tail", type=int, default=10_000,
                        help="events appended after the signed checkpoint (default 10,000)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--import-only", action="store_true", help="time the import alone (no verify)")
    parser.add_argument("--skip-one-process", action="store_true",
                        help="do not also time the import checked and written in one process")
    parser.add_argument("--before", type=Path, metavar="FOLDER",
                        help="also import with the dunning package in FOLDER (another version's code)")
    args = parser.parse_args(argv)
    env_note = os.getloadavg()
    figures: dict[str, Any] = {"load_average_before": [round(x, 2) for x in env_note]}
    with tempfile.TemporaryDirectory(prefix="dunning-bench-import-") as folder:
        cwd = Path(folder)
        subprocess.run([str(DUNNING), "init"], cwd=cwd, capture_output=True, check=True)
        path = cwd / "portfolio.csv"
        print(f"generating {args.rows:,} rows", file=sys.stderr)
        write_csv(path, args.rows)
        if args.before is not None:
            print("importing with the code in --before", file=sys.stderr)
            old = cwd / "before"
            old.mkdir()
            env = {**os.environ, "PYTHONPATH": str(args.before)}
            subprocess.run([str(DUNNING), "init"], cwd=old, capture_output=True, check=True, env=env)
            seconds, rss, cpu = timed([str(DUNNING), "import", str(path)], old, env)
            figures["import_before"] = {"rows": args.rows, "seconds": round(seconds, 2),
                                        "cpu_seconds": round(cpu, 2), "rows_per_cpu_s": round(args.rows / cpu),
                                        "peak_rss_mb": rss}
            shutil.rmtree(old)
        print("importing", file=sys.stderr)
        seconds, rss, cpu = timed([str(DUNNING), "import", str(path)], cwd)
        figures["import"] = {"rows": args.rows, "seconds": round(seconds, 2), "rows_per_s": round(args.rows / seconds),
                             "cpu_seconds": round(cpu, 2), "rows_per_cpu_s": round(args.rows / cpu),
                             "peak_rss_mb": rss, "csv_mb": round(path.stat().st_size / 2**20, 1)}
        if not args.skip_one_process:
            print("importing in one process", file=sys.stderr)
            one = cwd / "one-process"
            one.mkdir()
            subprocess.run([str(DUNNING), "init"], cwd=one, capture_output=True, check=True)
            seconds, rss, cpu = timed([sys.executable, "-c", ONE_PROCESS_IMPORT, str(path), str(one / "dunning.db")],
                                      one)
            figures["import_one_process"] = {"rows": args.rows, "seconds": round(seconds, 2),
                                             "rows_per_s": round(args.rows / seconds), "cpu_seconds": round(cpu, 2),
                                             "rows_per_cpu_s": round(args.rows / cpu), "peak_rss_mb": rss}
            shutil.rmtree(one)
        print("yardstick: csv.reader + executemany", file=sys.stderr)
        seconds, rss, cpu = timed([sys.executable, "-c", YARDSTICK_IMPORT, str(path), str(cwd / "yardstick.db")], cwd)
        figures["import_yardstick"] = {"seconds": round(seconds, 2), "rows_per_s": round(args.rows / seconds),
                                       "cpu_seconds": round(cpu, 2), "rows_per_cpu_s": round(args.rows / cpu),
                                       "peak_rss_mb": rss}

        if args.import_only:
            return _report(figures, args.json)
        chain = cwd / "chain"
        chain.mkdir()
        subprocess.run([str(DUNNING), "init"], cwd=chain, capture_output=True, check=True)
        print(f"generating {args.events:,} events, signing, then {args.tail:,} more", file=sys.stderr)
        generate_events(chain / "dunning.db", args.events - args.tail)
        subprocess.run([str(DUNNING), "evidence", "checkpoint"], cwd=chain, capture_output=True, check=True)
        generate_events(chain / "dunning.db", args.tail, start_case=args.events)
        print("verifying", file=sys.stderr)
        # A command that finds nothing to do: its start-up (Python, the runtime, the database) is not
        # the verifier's, and is taken off the verify figures.
        _, _, startup = timed([str(DUNNING), "evidence", "public-key"], chain)
        seconds, rss, cpu = timed([str(DUNNING), "verify", "--full"], chain)
        figures["verify_full"] = {"events": args.events, "seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2),
                                  "startup_cpu_seconds": round(startup, 2),
                                  "events_per_cpu_s": round(args.events / max(cpu - startup, 1e-6)),
                                  "peak_rss_mb": rss}
        seconds, rss, cpu = timed([str(DUNNING), "verify"], chain)
        figures["verify_from_checkpoint"] = {"events_checked": args.tail + 1, "seconds": round(seconds, 2),
                                             "cpu_seconds": round(cpu, 2), "peak_rss_mb": rss}
        before = time.process_time()
        seconds, n = yardstick_hashing(chain / "dunning.db")
        cpu = time.process_time() - before
        figures["verify_yardstick"] = {"events": n, "seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2),
                                       "events_per_cpu_s": round(n / cpu)}
        figures["verify_in_process"] = in_process_walks(chain / "dunning.db")
    return _report(figures, args.json)


def _report(figures: dict[str, Any], as_json: bool) -> int:
    figures["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    if as_json:
        print(json.dumps(figures, indent=2))
        return 0
    imp, yard = figures["import"], figures["import_yardstick"]
    print(f"load average before {figures['load_average_before']}, after {figures['load_average_after']}")
    print(f"{'phase':<36}{'wall s':>8}{'CPU s':>8}{'per CPU s':>11}{'peak RSS MB':>13}{'per wall s':>12}")

    def line(label: str, f: dict[str, Any]) -> None:
        print(f"{label:<36}{f['seconds']:>8}{f['cpu_seconds']:>8}{f['rows_per_cpu_s']:>11,}{f['peak_rss_mb']:>13}"
              f"{round(f['rows'] / f['seconds']):>12,}")

    line("import " + format(imp["rows"], ",") + " rows", imp)
    if "import_one_process" in figures:
        line("  checked and written in one process", figures["import_one_process"])
    if "import_before" in figures:
        line("  before (--before code)", figures["import_before"])
    line("  yardstick csv.reader+executemany", {**yard, "rows": imp["rows"]})
    if "verify_full" not in figures:
        return 0
    full, inc, hy = figures["verify_full"], figures["verify_from_checkpoint"], figures["verify_yardstick"]
    print(f"{'verify --full ' + format(full['events'], ',') + ' events':<36}{full['seconds']:>8}"
          f"{full['cpu_seconds']:>8}{full['events_per_cpu_s']:>11,}{full['peak_rss_mb']:>13}")
    print(f"{'  (start-up CPU s, taken off)':<36}{'':>8}{full['startup_cpu_seconds']:>8}")
    print(f"{'verify from checkpoint (' + format(inc['events_checked'], ',') + ')':<36}{inc['seconds']:>8}"
          f"{inc['cpu_seconds']:>8}{'':>11}{inc['peak_rss_mb']:>13}")
    print(f"{'  yardstick sha256 over the rows':<36}{hy['seconds']:>8}{hy['cpu_seconds']:>8}"
          f"{hy['events_per_cpu_s']:>11,}")
    walks = figures["verify_in_process"]
    print(f"{'chain walk alone (in process)':<36}{'':>8}{walks['walk_cpu_seconds']:>8}"
          f"{walks['walk_events_per_cpu_s']:>11,}")
    print(f"{'  before: decode + encode each event':<36}{'':>8}{walks['before_cpu_seconds']:>8}"
          f"{walks['before_events_per_cpu_s']:>11,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
