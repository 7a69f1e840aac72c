"""Time and peak memory of the read-side commands on a large portfolio, beside a plain-SELECT yardstick.

    python bench/listings.py [--cases 1000000] [--db PATH] [--keep] [--json] [--before FOLDER]

1. generates N open cases with bench/dispatch.py's generator (one debtor, one
   email contact, one obligation each, due 2026-03-01), then adds, in bulk:
   a ``sent`` email event per case (through the store, so the chain is real),
   one case in 100 with an action awaiting approval (and its
   ``approval_requested`` event), and one in 20 with an open phone call due
   on the day (the phone plugin's ``phone_calls`` table);
2. runs each command in a fresh ``dunning`` process, as an operator would, at
   2026-03-02 09:00 UTC, output to /dev/null (``events --kind sent | head``:
   the time until the first 10 lines arrive, then the pipe is closed):
   ``cases list --json``, ``cases list``, ``events --kind sent | head``,
   ``approvals``, ``calls``;
3. beside each, its yardstick: a child Python process that SELECTs the same
   rows with the plain ``sqlite3`` module and writes their ``repr`` to
   /dev/null (the floor for reading the rows at all).

With ``--before FOLDER`` (a folder holding another version's ``dunning`` package, e.g. a commit's ``core``
copied to FOLDER/dunning and its ``plugins`` to FOLDER/dunning/plugins), each command is also run with that
code first on ``PYTHONPATH``, right before the current code: old and new in the same run, on the same file.

Peak RSS of each child is measured by GNU time (``/usr/bin/time -f %M``): a child forked
straight from this process would report this process's own peak as its own. See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import dispatch  # the generator of bench/dispatch.py, beside this file

from dunning.models import Event
from dunning.store import Store

NOW = "2026-03-02T09:00"
DAY = "2026-03-02"
APPROVAL_EVERY = 100  # one case in 100 waits for a supervisor's approval
CALL_EVERY = 20  # one case in 20 has a call on the day's list
HEAD_LINES = 10
DUNNING = [sys.executable, "-c", "from dunning.cli import cli; cli(prog_name='dunning')"]
# Only the phone plugin: `calls` needs it; the other plugins would only add their start-up.
ENV = {**{k: v for k, v in os.environ.items() if k != "DUNNING_CONFIG"}, "DUNNING_LOAD_PLUGINS": "phone"}


def generate(folder: Path, n: int) -> Path:
    """The database and its dunning.toml (phone enabled) in ``folder``."""
    db = folder / "dunning.db"
    dispatch.generate(db, n)
    subprocess.run([*DUNNING, "init"], cwd=folder, env=ENV, check=True, capture_output=True)
    config = folder / "dunning.toml"
    config.write_text(config.read_text().replace("enabled = []", 'enabled = ["phone"]', 1))
    # Open once with the phone plugin, so its table exists.
    subprocess.run([*DUNNING, "--db", str(db), "cases", "show", "1"], cwd=folder, env=ENV, check=True,
                   capture_output=True)
    at = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
    store = Store(db)
    for start in range(1, n + 1, dispatch.CHUNK):
        ids = range(start, min(start + dispatch.CHUNK, n + 1))
        with store.transaction():
            store.append_events(
                Event(kind="sent", at=at, case_id=i, stage="internal", dpd=0, channel="email",
                      step="reminder", data={"key": f"{i}:reminder:email:2026-03-01",
                                             "to": f"accounts{i}@example.com", "template": "reminder"})
                for i in ids)
            waiting = [i for i in ids if i % APPROVAL_EVERY == 0]
            store.conn.executemany(
                "INSERT INTO actions (key, case_id, kind, step, channel, template, dpd, planned_for, not_before, "
                "status, requires_approval, created_at, updated_at) VALUES (?, ?, 'outreach', 'final-demand', "
                "'letter', 'final-demand', 1, ?, ?, 'awaiting_approval', 1, ?, ?)",
                [(f"{i}:final-demand:letter:{DAY}", i, DAY, f"{DAY}T00:00:00Z", f"{DAY}T00:00:00Z",
                  f"{DAY}T00:00:00Z") for i in waiting])
            store.append_events(
                Event(kind="approval_requested", at=at, case_id=i, stage="internal", dpd=1, channel="letter",
                      step="final-demand", data={"key": f"{i}:final-demand:letter:{DAY}",
                                                 "reason": "a formal demand needs a supervisor"})
                for i in waiting)
            store.conn.executemany(
                "INSERT INTO phone_calls (key, case_id, debtor_id, number, number_kind, slot, due_on, step, "
                "created_at) VALUES (?, ?, ?, ?, 'mobile', 'morning', ?, 'reminder-call', ?)",
                [(f"{i}:reminder-call:phone:{DAY}", i, f"D{i:07d}", f"+4477009{i % 100000:05d}", DAY,
                  f"{DAY}T00:00:00Z") for i in ids if i % CALL_EVERY == 0])
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return db


# What each command reads, as one plain SELECT (the yardstick's query).
YARDSTICKS = {
    "cases": "SELECT c.*, d.name, o.* FROM cases c JOIN debtors d ON d.id = c.debtor_id "
             "JOIN obligations o ON o.case_id = c.id ORDER BY c.id",
    "events": f"SELECT * FROM events WHERE kind = 'sent' ORDER BY seq LIMIT {HEAD_LINES}",
    "approvals": "SELECT a.*, c.*, d.name FROM actions a JOIN cases c ON c.id = a.case_id "
                 "JOIN debtors d ON d.id = c.debtor_id WHERE a.status = 'awaiting_approval' ORDER BY a.id",
    "calls": f"SELECT p.*, c.*, d.name FROM phone_calls p JOIN cases c ON c.id = p.case_id "
             f"JOIN debtors d ON d.id = c.debtor_id WHERE p.due_on = '{DAY}' AND p.status = 'open' ORDER BY p.id",
}
COMMANDS: list[tuple[str, list[str], str, bool]] = [
    # (name, arguments, yardstick, time to the first lines only)
    ("cases list --json", ["cases", "list", "--json"], "cases", False),
    ("cases list", ["cases", "list"], "cases", False),
    (f"events --kind sent | head -{HEAD_LINES}", ["events", "--kind", "sent"], "events", True),
    ("approvals", ["approvals"], "approvals", False),
    ("calls", ["calls"], "calls", False),
]
YARDSTICK_CODE = ("import sqlite3, sys\n"
                  "conn = sqlite3.connect(sys.argv[1])\n"
                  "out = open('/dev/null', 'w')\n"
                  "for row in conn.execute(sys.argv[2]):\n"
                  "    out.write(repr(row) + '\\n')\n")


def run(args: list[str], cwd: Path, head: bool, code: Path | None = None) -> tuple[float, float, int, float]:
    """Seconds (to the first lines with ``head``), peak RSS in MB, the lines seen and the child's CPU seconds
    (user + system: on a shared machine the steadier figure); ``code``: the folder whose ``dunning`` package
    the child imports instead of the installed one."""
    env = ENV if code is None else {**ENV, "PYTHONPATH": str(code)}
    start = time.perf_counter()
    sink: IO[Any] = subprocess.PIPE if head else open(os.devnull, "w")  # noqa: SIM115
    measured = cwd / "peak-rss.txt"
    child = subprocess.Popen(["/usr/bin/time", "-f", "%M %U %S", "-o", str(measured), *args], cwd=cwd, env=env,
                             stdout=sink, stderr=subprocess.PIPE)
    lines = 0
    if head:
        assert child.stdout is not None
        for _ in child.stdout:
            lines += 1
            if lines >= HEAD_LINES:
                break
        seconds = time.perf_counter() - start
        child.stdout.close()
    assert child.stderr is not None
    problem = child.stderr.read()
    child.wait()
    if not head:
        seconds = time.perf_counter() - start
        sink.close()
    # Behind `| head` a command may die of the closed pipe (as the listings did before they streamed): its
    # first lines came all the same.
    if child.returncode != 0 and not (head and lines >= HEAD_LINES):
        raise SystemExit(f"{' '.join(args[3:])} failed ({child.returncode}): {problem.decode()[-500:]}")
    peak, user, system = measured.read_text().split()[-3:]
    return seconds, int(peak) / 1024, lines, float(user) + float(system)


def bench(folder: Path, db: Path, only: str | None = None, before: Path | None = None) -> Iterator[dict[str, Any]]:
    for name, args, yardstick, head in COMMANDS:
        if only is not None and not name.startswith(only):
            continue
        if before is not None:
            old_seconds, old_rss, _, old_cpu = run([*DUNNING, "--db", str(db), "--now", NOW, *args], folder, head,
                                                   before)
            print(f"  .. {name} (before): {old_seconds:.2f} s, {old_rss:.0f} MB", file=sys.stderr, flush=True)
            yield {"command": f"{name} (before)", "seconds": round(old_seconds, 3), "cpu_seconds": round(old_cpu, 2),
                   "peak_rss_mb": round(old_rss, 1), "yardstick_seconds": "", "yardstick_rss_mb": "", "ratio": ""}
        seconds, rss, _, cpu = run([*DUNNING, "--db", str(db), "--now", NOW, *args], folder, head)
        floor, floor_rss, _, _ = run([sys.executable, "-c", YARDSTICK_CODE, str(db), YARDSTICKS[yardstick]], folder,
                                     False)
        row = {"command": name, "seconds": round(seconds, 3), "cpu_seconds": round(cpu, 2),
               "peak_rss_mb": round(rss, 1),
               "yardstick_seconds": round(floor, 3), "yardstick_rss_mb": round(floor_rss, 1),
               "ratio": round(seconds / floor, 1) if floor > 0 else None}
        print(f"  .. {name}: {seconds:.2f} s, {rss:.0f} MB", file=sys.stderr, flush=True)
        yield row


def rows_of(db: Path) -> dict[str, int]:
    conn = sqlite3.connect(db)
    counts = {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
              for table in ("cases", "events", "actions", "phone_calls")}
    conn.close()
    return counts


def print_table(rows: list[dict[str, Any]]) -> None:
    cols = [("command", "command", "<"), ("seconds", "seconds", ">"), ("CPU s", "cpu_seconds", ">"),
            ("peak RSS MB", "peak_rss_mb", ">"),
            ("yardstick s", "yardstick_seconds", ">"), ("yardstick MB", "yardstick_rss_mb", ">"),
            ("x yardstick", "ratio", ">")]
    cells = [[str(r[key]) for _, key, _ in cols] for r in rows]
    widths = [max([len(title), *(len(c[i]) for c in cells)]) for i, (title, _, _) in enumerate(cols)]
    line = "  ".join(f"{title:{align}{w}}" for (title, _, align), w in zip(cols, widths, strict=False))
    print(line)
    print("-" * len(line))
    for c in cells:
        print("  ".join(f"{v:{align}{w}}" for v, (_, _, align), w in zip(c, cols, widths, strict=False)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--cases", type=int, default=100_000, metavar="N",
                        help="cases to generate (default 100,000; the issue's figures are at 1,000,000)")
    parser.add_argument("--db", type=Path, metavar="PATH",
                        help="use this generated database (and the dunning.toml beside it) instead of a new one")
    parser.add_argument("--keep", action="store_true", help="keep the generated folder afterwards")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON instead of a table")
    parser.add_argument("--only", metavar="COMMAND", help="only the commands that start with this ('events', 'cases')")
    parser.add_argument("--before", type=Path, metavar="FOLDER",
                        help="also time each command with the dunning package in FOLDER (another version's code)")
    options = parser.parse_args(argv)
    folder = options.db.parent if options.db else Path(tempfile.mkdtemp(prefix="dunning-listings-"))
    try:
        started = time.perf_counter()
        db = options.db or generate(folder, options.cases)
        generated = time.perf_counter() - started
        print(f"  .. generated in {generated:.1f} s: {rows_of(db)}", file=sys.stderr, flush=True)
        load = os.getloadavg()
        rows = list(bench(folder, db, options.only, options.before))
        report = {"cases": rows_of(db)["cases"], "load_average": [round(x, 2) for x in load],
                  "load_average_after": [round(x, 2) for x in os.getloadavg()], "rows": rows}
        if options.json:
            print(json.dumps(report, indent=2))
        else:
            print(f"{report['cases']:,} cases; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} before, "
                  f"{report['load_average_after'][0]:.2f} after")
            print_table(rows)
    finally:
        if not options.db and not options.keep:
            shutil.rmtree(folder, ignore_errors=True)
        elif options.keep:
            print(f"kept {folder}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
