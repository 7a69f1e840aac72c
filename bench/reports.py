"""Every ``dunning report`` timed on a large generated portfolio with a year of history.

    python bench/reports.py [--cases 100000 | --million] [--db PATH] [--keep] [--json] [--only NAME ...]

In one process:

1. generates N debtors, contacts, cases and obligations with bench/dispatch.py's
   generator, then spreads the due dates over a year (1 June 2025 .. 27 April
   2026) and writes a year of history straight into the tables with
   ``executemany``: every case opened (event), a message every 14 days from
   a week before its due date until it ends or the report day (email, phone,
   sms, letter in turn, each a ``sent`` event and a contact attempt), the move
   to onsite at 31 days past due and, for every third case, to an agency at
   91; a logged call for every fourth case, a promise (kept or broken) for
   every tenth, a deferral for every seventh; payments: 30 % pay in full, 20 %
   pay half, 5 % are written off. Events are inserted with placeholder hashes:
   the reports never read the chain (``dunning verify`` would refuse this file);
2. times each report (``dunning.reports.run``, as ``dunning report NAME`` runs it)
   as of 31 May 2026 on a store opened as the CLI opens it: first counting from
   the rows alone (as before the kept counts of migration m026; roll-rates
   case by case rather than over arrays), then the
   roll-up ``dunning run``'s housekeeping does (the whole year at once on a new
   file), then every report again with the kept counts, checking both give
   the same answer;
3. the yardstick, in the same run: ``SELECT count(*) FROM events`` and a scan
   reading every event's ``data`` (``sum(length(data))``).

See bench/README.md ("Reports") for the figures and the query plans.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import time
import zoneinfo
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ["DUNNING_LOAD_PLUGINS"] = ""

from dispatch import generate, peak_rss_mb  # bench/dispatch.py, beside this file

from dunning.reports import REPORTS, Params, run
from dunning.reports.model import as_json
from dunning.store import Store

AS_OF = dt.date(2026, 5, 31)
FIRST_DUE = dt.date(2025, 6, 1)
CHANNELS = ("email", "phone", "sms", "letter")
COLLECTORS = ("ann", "bob", "cy")
AGENCIES = ("eastgate", "harbour")


def _text(day: dt.date, hour: int = 9) -> str:
    return f"{day.isoformat()}T{hour:02d}:00:00Z"


def history(path: Path, n: int) -> dict[str, int]:
    """Spread the due dates and write a year of events, attempts, promises and payments; return row counts."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("UPDATE obligations SET due_on = date(?, '+' || ((id * 37) % 331) || ' days'), "
                 "issued_on = date(?, '+' || ((id * 37) % 331 - 30) || ' days')",
                 [FIRST_DUE.isoformat(), FIRST_DUE.isoformat()])
    conn.execute("UPDATE cases SET opened_on = (SELECT date(o.due_on, '-20 days') FROM obligations o "
                 "WHERE o.case_id = cases.id), anchor_due_on = (SELECT due_on FROM obligations o "
                 "WHERE o.case_id = cases.id)")
    conn.execute("COMMIT")
    cases = conn.execute("SELECT c.id, c.debtor_id, c.balance, o.due_on FROM cases c JOIN obligations o "
                         "ON o.case_id = c.id ORDER BY c.id").fetchall()
    events: list[tuple[Any, ...]] = []
    attempts: list[tuple[Any, ...]] = []
    payments: list[tuple[Any, ...]] = []
    promises: list[tuple[Any, ...]] = []
    resolved: list[tuple[Any, ...]] = []
    seq = 0
    counts = {"events": 0, "attempts": 0, "payments": 0, "promises": 0}

    def event(at: str, case_id: int, kind: str, stage: str, channel: str | None = None,
              data: dict[str, Any] | None = None) -> None:
        nonlocal seq
        seq += 1
        events.append((seq, at, at, case_id, kind, stage, None, channel, None, None,
                       json.dumps(data or {}, separators=(",", ":")), "-", "-"))

    def flush(final: bool = False) -> None:
        if len(events) < 200_000 and not final:
            return
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", events)
        conn.executemany("INSERT INTO contact_attempts (debtor_id, case_id, channel, contact, role, at, connected, "
                         "outcome, source) VALUES (?, ?, ?, ?, 'debtor', ?, ?, ?, 'bench')", attempts)
        conn.executemany("INSERT INTO payments (case_id, amount, at, reference, created_at) VALUES (?, ?, ?, NULL, ?)",
                         payments)
        conn.executemany("INSERT INTO promises (id, case_id, amount, due_at, status, created_at, settled_at) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?)", promises)
        conn.executemany("UPDATE cases SET status = ?, resolved_on = ?, balance = ? WHERE id = ?", resolved)
        conn.execute("COMMIT")
        for name, rows in (("events", events), ("attempts", attempts), ("payments", payments),
                           ("promises", promises)):
            counts[name] += len(rows)
        for rows in (events, attempts, payments, promises, resolved):
            rows.clear()

    for case_id, debtor_id, balance, due_text in cases:
        due = dt.date.fromisoformat(due_text)
        opened = due - dt.timedelta(days=20)
        event(_text(opened, 8), case_id, "case_opened", "internal")
        roll = case_id % 20
        # 0-5: pay in full (30 %), 6-9: pay half (20 %), 10: written off (5 %), the rest open
        end = None
        if roll <= 5:
            end = due + dt.timedelta(days=5 + case_id % 80)
        elif roll == 10:
            end = due + dt.timedelta(days=120)
        last = min(end or AS_OF, AS_OF)
        stage = "internal"
        day = due - dt.timedelta(days=7)
        turn = 0
        while day <= last:
            channel = CHANNELS[turn % len(CHANNELS)]
            dpd = (day - due).days
            if dpd >= 31 and stage == "internal":
                stage = "onsite"
                event(_text(day), case_id, "stage_changed", "internal", data={"from": "internal", "to": "onsite"})
            if dpd >= 91 and stage == "onsite" and case_id % 3 == 0:
                stage = "agency"
                event(_text(day), case_id, "stage_changed", "onsite", data={"from": "onsite", "to": "agency"})
                event(_text(day), case_id, "agency:placed", "agency", "agency",
                      {"agency": AGENCIES[case_id % 2], "balance": balance, "currency": "EUR"})
            event(_text(day), case_id, "sent", stage, channel, {"collector": COLLECTORS[case_id % 3]})
            attempts.append((debtor_id, case_id, channel, f"accounts{case_id}@example.com", _text(day), None, None))
            day += dt.timedelta(days=14)
            turn += 1
        if case_id % 7 == 0 and due + dt.timedelta(days=3) <= last:
            event(_text(due + dt.timedelta(days=3), 6), case_id, "deferred", stage, "phone",
                  {"rule": "window:phone"})
        if case_id % 4 == 0 and due + dt.timedelta(days=10) <= last:
            at = _text(due + dt.timedelta(days=10), 11)
            reached = case_id % 8 == 0
            event(at, case_id, "phone:call_logged", stage, "phone",
                  {"collector": COLLECTORS[case_id % 3], "outcome": "right_party" if reached else "no_answer"})
            attempts.append((debtor_id, case_id, "phone", None, at, int(reached), "right_party"))
        if case_id % 10 == 0 and due + dt.timedelta(days=12) <= last:
            made, promised = due + dt.timedelta(days=10), due + dt.timedelta(days=12)
            kept = case_id % 20 == 0
            promises.append((case_id, case_id, balance // 2, _text(promised, 15), "kept" if kept else "broken",
                             _text(made, 11), _text(promised, 16)))
            event(_text(made, 11), case_id, "promise", stage, data={"promise_id": case_id, "amount": balance // 2})
        if end is not None and end <= AS_OF:
            payments.append((case_id, balance if roll <= 5 else 0, _text(end, 12), _text(end, 12)))
            if roll <= 5:
                event(_text(end, 12), case_id, "payment", stage, data={"amount": balance, "currency": "EUR"})
                resolved.append(("paid", end.isoformat(), 0, case_id))
            else:
                payments.pop()
                resolved.append(("written_off", end.isoformat(), balance, case_id))
        elif 6 <= roll <= 9 and due + dt.timedelta(days=20) <= AS_OF:
            paid_on = due + dt.timedelta(days=20)
            payments.append((case_id, balance // 2, _text(paid_on, 12), _text(paid_on, 12)))
            event(_text(paid_on, 12), case_id, "payment", stage, data={"amount": balance // 2, "currency": "EUR"})
        flush()
    flush(final=True)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return counts


CPU: list[float] = [0.0]  # the process CPU time of the last timed call (the machine may be shared)


def timed(fn: Any) -> tuple[float, Any]:
    start, cpu = time.perf_counter(), time.process_time()
    result = fn()
    CPU[0] = time.process_time() - cpu
    return time.perf_counter() - start, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100_000, metavar="N", help="cases (default 100,000)")
    parser.add_argument("--million", action="store_true", help="1,000,000 cases")
    parser.add_argument("--db", type=Path, metavar="PATH", help="the database to create or, if it exists, reuse")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--only", action="append", choices=list(REPORTS), metavar="NAME",
                        help="time only this report (repeatable; default: every one)")
    args = parser.parse_args(argv)
    n = 1_000_000 if args.million else args.cases
    folder = None
    if args.db:
        db = args.db.resolve()
    else:
        folder = Path(tempfile.mkdtemp(prefix="dunning-reports-bench-"))
        db = folder / "reports.db"
    figures: dict[str, Any] = {"cases": n, "as_of": AS_OF.isoformat(), "sqlite": sqlite3.sqlite_version,
                               "python": sys.version.split()[0], "cpus": os.cpu_count(), "rows": []}

    def add(phase: str, seconds: float, **more: Any) -> None:
        row = {"phase": phase, "seconds": round(seconds, 3), "cpu_seconds": round(CPU[0], 3),
               "peak_rss_mb": round(peak_rss_mb(), 1), **more}
        figures["rows"].append(row)
        print(f"  .. {phase}: {seconds:.2f} s, peak RSS {row['peak_rss_mb']:.0f} MB", file=sys.stderr, flush=True)

    try:
        if not db.exists():
            seconds, _ = timed(lambda: generate(db, n))
            add("generate cases and obligations (bench/dispatch.py)", seconds)
            seconds, counts = timed(lambda: history(db, n))
            add("generate a year of history", seconds, **counts)
        store = Store(db, synchronous="normal")
        try:
            seconds, total = timed(lambda: store.conn.execute("SELECT count(*) FROM events").fetchone()[0])
            add("yardstick: SELECT count(*) FROM events", seconds, events=total)
            seconds, _ = timed(lambda: store.conn.execute("SELECT sum(length(data)) FROM events").fetchone())
            add("yardstick: read every event's data", seconds, events=total)
            params = Params(as_of=AS_OF, zone=zoneinfo.ZoneInfo("UTC"))
            answers: dict[str, Any] = {}
            # First every report counting from the rows (as before the kept counts), then the roll-up that
            # `dunning run`'s housekeeping does, then every report again with the counts: the same answers.
            for counts in (False, True):
                if counts:
                    seconds, marks = timed(store.roll_up_reports)
                    add("roll-up (dunning run's housekeeping)", seconds, attempt_mark=marks[0], event_mark=marks[1])
                store.report_counts = counts
                for name in args.only or REPORTS:
                    seconds, report = timed(lambda name=name: run(name, store, params))
                    add(f"report {name}{' (kept counts)' if counts else ''}", seconds,
                        rows=sum(len(t.rows) for t in report.tables))
                    answer = as_json(report)
                    if answers.setdefault(name, answer) != answer:
                        raise SystemExit(f"report {name}: the kept counts give another answer than the rows")
            figures["query_plans"] = store.report_query_plans()
        finally:
            store.close()
    finally:
        if folder is not None and not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    print(f"\ndunning report bench: {n:,} cases as of {AS_OF}, sqlite {sqlite3.sqlite_version}, "
          f"Python {figures['python']}, {figures['cpus']} CPUs, load average {os.getloadavg()[0]:.1f}\n")
    width = max(len(r["phase"]) for r in figures["rows"])
    print(f"{'phase':<{width}}  {'seconds':>8}  {'CPU s':>8}  {'peak RSS MB':>11}  rows")
    for row in figures["rows"]:
        extra = ", ".join(f"{k} {v:,}" for k, v in row.items()
                          if k not in ("phase", "seconds", "cpu_seconds", "peak_rss_mb"))
        print(f"{row['phase']:<{width}}  {row['seconds']:>8.2f}  {row['cpu_seconds']:>8.2f}  "
              f"{row['peak_rss_mb']:>11.0f}  {extra}")
    print("\nquery plans:")
    for name, plan in figures["query_plans"].items():
        print(f"  {name}: " + "; ".join(plan))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
