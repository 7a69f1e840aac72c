"""A daily run of a steady-state portfolio: ``dunning run`` on day X and on day X+1.

    python bench/steady.py --cases 1000000 [--db PATH] [--keep] [--json]

In one process:

1. generates N open cases (one debtor with an email address and a mobile
   number, one obligation each) whose due dates are spread evenly over the
   200 days before day X, each with the cursor of a case the runner has
   planned every day up to day X - 1 (stage as the policy would have it by
   then); every channel the ``trade-receivables`` preset uses (email, phone,
   letter, visit) is a null channel that accepts every action;
2. times ``dispatch.run`` on day X and on day X + 1, each as a whole
   (housekeeping, plan, deliver), and inside it the time spent planning and
   the time spent delivering, with the peak RSS after each;
3. the yardstick, in the same run: as many rows as day X planned, inserted
   with plain ``sqlite3.executemany`` into a fresh table shaped like
   ``actions`` (bench/dispatch.py's yardstick).

See bench/README.md, "Steady state".
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
# bench/dispatch.py (it sets DUNNING_LOAD_PLUGINS= so installed channel plugins stay out)
import dispatch as dispatch_bench

from dunning import dispatch
from dunning.dispatch import runner
from dunning.policy import load_policy
from dunning.store import Store

UTC = dt.UTC
DAY_X = dt.datetime(2026, 3, 3, 10, 0, tzinfo=UTC)  # a Tuesday, 10:00 UTC: inside every zone's calling hours
DAY_AFTER = DAY_X + dt.timedelta(days=1)
SPREAD = 200  # due dates over the 200 days before day X
POLICY = "trade-receivables"
CHANNELS = ("email", "phone", "letter", "visit")  # every channel the preset's steps use
ZONES = dispatch_bench.ZONES
CHUNK = dispatch_bench.CHUNK


def _stage_on(dpd: int, balance: int) -> tuple[str, str | None]:
    """(stage, previous stage) of a case planned every day up to ``dpd`` days past due, by the preset's stages."""
    if dpd >= 181:  # the agency placement ended (recall at 181); litigation waits for an approval
        return "onsite", None
    if dpd >= 91 and balance >= 50_000:  # agency from 91 for balances of 500.00 or more
        return "agency", "onsite"
    if dpd >= 31:
        return "onsite", None
    return "internal", None


def generate(path: Path, n: int) -> None:
    """N debtors (email and mobile each), N open cases and obligations, due dates spread over SPREAD days."""
    policy = load_policy(POLICY)
    store = Store(path)  # the schema, through the migrations
    conn = store.conn
    today = DAY_X.date()
    yesterday = (today - dt.timedelta(days=1)).isoformat()
    created = "2025-08-01T08:00:00Z"

    def amount(i: int) -> int:
        return 20_000 + (i * 7_919) % 2_000_000  # 200.00 .. 20,199.99 in minor units

    def due(i: int) -> dt.date:
        return today - dt.timedelta(days=1 + i % SPREAD)  # 1 .. SPREAD days past due on day X

    def next_action_on(anchor: dt.date) -> str | None:
        # The first day of the policy after the cursor (day X - 1): what planning left there.
        dpd_planned = (today - dt.timedelta(days=1) - anchor).days
        later = [p for p in policy.points if p > dpd_planned]
        return (anchor + dt.timedelta(days=later[0])).isoformat() if later else None

    nexts = {anchor: next_action_on(anchor) for anchor in {due(i) for i in range(SPREAD)}}

    def case_row(i: int) -> tuple[Any, ...]:
        anchor = due(i)
        stage, previous = _stage_on((today - dt.timedelta(days=1) - anchor).days, amount(i))
        return (i, f"D{i:07d}", amount(i), anchor.isoformat(), (anchor - dt.timedelta(days=40)).isoformat(),
                yesterday, nexts[anchor], stage, previous, anchor.isoformat())

    dispatch_bench._bulk(
        conn, "INSERT INTO debtors (id, name, kind, country, timezone, locale, created_at, updated_at) "
              "VALUES (?, ?, 'company', 'GB', ?, NULL, ?, ?)",
        ((f"D{i:07d}", f"Customer {i} Ltd", ZONES[i % len(ZONES)], created, created) for i in range(1, n + 1)))
    dispatch_bench._bulk(
        conn, "INSERT INTO contacts (debtor_id, kind, value, role, name, bad) VALUES (?, ?, ?, 'debtor', NULL, 0)",
        (row for i in range(1, n + 1)
         for row in ((f"D{i:07d}", "email", f"accounts{i}@example.com"),
                     (f"D{i:07d}", "mobile", f"+4477009{i % 100_000:05d}"))))
    dispatch_bench._bulk(
        conn, "INSERT INTO cases (id, debtor_id, currency, stage, status, balance, anchor_due_on, opened_on, "
              "planned_through, next_action_on, broken_promises, account_locked, previous_stage, stage_entered_on, "
              "resolved_on) VALUES (?, ?, 'EUR', ?, 'open', ?, ?, ?, ?, ?, 0, 0, ?, ?, NULL)",
        ((i, debtor, stage, balance, anchor, opened, cursor, next_on, previous, entered)
         for i, debtor, balance, anchor, opened, cursor, next_on, stage, previous, entered
         in (case_row(i) for i in range(1, n + 1))))
    dispatch_bench._bulk(
        conn, "INSERT INTO obligations (id, case_id, debtor_id, reference, amount, currency, issued_on, due_on, "
              "paid) VALUES (?, ?, ?, ?, ?, 'EUR', ?, ?, 0)",
        ((i, i, f"D{i:07d}", f"INV-{i:07d}", amount(i), (due(i) - dt.timedelta(days=30)).isoformat(),
          due(i).isoformat()) for i in range(1, n + 1)))
    # The debtor's zone as import works it out and keeps it (``compliance.zones.stored_zone``, migration m021):
    # their own zone, else their mobile number's. Every number is a UK mobile (+447700 9xxxxx), so the zones of
    # one stand for all; parsing a million numbers here would cost more than the day being measured.
    from dunning.compliance.zones import stored_zone
    from dunning.phones import zones_of

    uk_mobile = stored_zone(None, [zones_of("+447700900001", "GB")])
    conn.execute("UPDATE debtors SET zone = coalesce(timezone, ?)", [uk_mobile])
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()


class _Split:
    """Times ``plan`` and ``deliver_ready`` as ``dispatch.run`` calls them (wrapped in the runner's namespace).

    Wall seconds, and the process's CPU seconds: what a shared machine's load moves much less. And delivery's
    commits (each a wait for the disk under ``synchronous = "full"``), counted as the store makes them (a nested
    ``transaction()`` joins the outer one, and a transaction carried into the next one commits with it).
    """

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {"plan": 0.0, "deliver": 0.0}
        self.cpu: dict[str, float] = {"plan": 0.0, "deliver": 0.0}
        self.commits = 0
        self._delivering = False
        self._saved: list[tuple[Any, str, Any]] = []

    def __enter__(self) -> _Split:
        for name, phase in (("plan", "plan"), ("deliver_ready", "deliver")):
            real = getattr(runner, name)
            self._saved.append((runner, name, real))
            setattr(runner, name, self._timed(real, phase))
        real_commit = Store._commit
        self._saved.append((Store, "_commit", real_commit))
        split = self

        def commit(store: Store) -> None:
            if split._delivering:
                split.commits += 1
            real_commit(store)

        Store._commit = commit  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        for owner, name, real in reversed(self._saved):
            setattr(owner, name, real)

    def _timed(self, real: Callable[..., Any], phase: str) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start, cpu = time.perf_counter(), time.process_time()
            self._delivering = phase == "deliver"
            try:
                return real(*args, **kwargs)
            finally:
                self._delivering = False
                self.seconds[phase] += time.perf_counter() - start
                self.cpu[phase] += time.process_time() - cpu
        return timed


def run_day(db: Path, label: str, now: dt.datetime, figures: dispatch_bench.Figures) -> dict[str, Any]:
    with dispatch_bench.runtime(db, CHANNELS) as rt, _Split() as split:
        start, cpu = time.perf_counter(), time.process_time()
        summary = dispatch.run(rt, now)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    row = figures.add(f"{label}: whole run", seconds, cases=summary.cases_planned,
                      actions=summary.planned + summary.sent, planned=summary.planned, sent=summary.sent,
                      skipped=summary.skipped, blocked=summary.blocked, failed=summary.failed,
                      deferred=getattr(summary, "deferred", None), superseded=summary.superseded,
                      awaiting_approval=summary.awaiting_approval, cpu_seconds=round(cpu, 2))
    figures.add(f"{label}: plan", split.seconds["plan"], cases=summary.cases_planned, actions=summary.planned)
    figures.add(f"{label}: deliver", split.seconds["deliver"], actions=summary.sent,
                cpu_seconds=round(split.cpu["deliver"], 2), commits=split.commits,
                cpu_us_per_action=dispatch_bench._cpu_per_action(split.cpu["deliver"], summary.sent))
    # Below the table: what delivery decided and how many times it committed.
    figures.extra.setdefault("delivery", {})[label] = {
        "cpu_seconds": round(split.cpu["deliver"], 2), "commits": split.commits, "sent": summary.sent,
        "deferred": summary.deferred, "escalated": summary.escalated, "internal": summary.internal}
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="Figures and targets are explained in bench/README.md.")
    parser.add_argument("--cases", type=int, default=100_000, metavar="N",
                        help="open cases to generate, 1 .. 1,000,000 (default 100,000; the target is for 1,000,000)")
    parser.add_argument("--db", type=Path, metavar="PATH",
                        help="database file to create (must not exist); default: a temporary folder")
    parser.add_argument("--keep", action="store_true", help="keep the database files afterwards")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON instead of a table")
    args = parser.parse_args(argv)
    n = args.cases
    if not 1 <= n <= 1_000_000:
        parser.error("--cases must be between 1 and 1,000,000")
    if args.db:
        db = args.db.resolve()
        if db.exists():
            parser.error(f"{db} exists; the bench needs a fresh file (remove it or pick another path)")
        db.parent.mkdir(parents=True, exist_ok=True)
        folder = None
    else:
        folder = Path(tempfile.mkdtemp(prefix="dunning-steady-"))
        db = folder / "steady.db"
    db_yardstick = db.with_name(db.stem + "-yardstick.db")
    if db_yardstick.exists():
        parser.error(f"{db_yardstick} exists; remove it first")

    figures = dispatch_bench.Figures()
    figures.extra.update(cases=n, policy=POLICY, day_x=DAY_X.isoformat(), channels=list(CHANNELS),
                         sqlite=sqlite3.sqlite_version, python=sys.version.split()[0], cpus=os.cpu_count(), db=str(db))
    try:
        seconds, _ = dispatch_bench.timed(lambda: generate(db, n))
        figures.add("generate (debtors, contacts, cases, obligations)", seconds, cases=n)
        first = run_day(db, "day X", DAY_X, figures)
        second = run_day(db, "day X+1", DAY_AFTER, figures)
        yard = dispatch_bench.yardstick(db_yardstick, db, max(first["planned"], 1), figures)

        total = first["seconds"] + second["seconds"]
        peak = dispatch_bench.peak_rss_mb()
        figures.extra["two_days_seconds"] = round(total, 2)
        # The two runs' CPU time: near what they take on a quiet machine, where they wait for little else.
        figures.extra["two_days_cpu_seconds"] = round(first["cpu_seconds"] + second["cpu_seconds"], 2)
        figures.extra["plan_day_x_vs_yardstick"] = round(figures.rows[2]["seconds"] / yard, 2) if yard > 0 else None
        figures.extra["peak_rss_mb"] = round(peak, 1)
        figures.extra["load_average"] = [round(x, 2) for x in os.getloadavg()]
        # The targets are for 1,000,000 cases on a quiet 2-core machine; a smaller run scales its seconds.
        figures.extra["targets"] = {
            f"two days under {60 * n / 1_000_000:.1f} s (60 s at 1,000,000)": total < 60 * n / 1_000_000,
            "peak RSS under 256 MB": peak < 256,
        }
    finally:
        if not args.keep:
            for path in (db, db_yardstick):
                for suffix in ("", "-wal", "-shm"):
                    Path(str(path) + suffix).unlink(missing_ok=True)
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)
        else:
            figures.extra["kept"] = [str(db), str(db_yardstick)]

    if args.json:
        print(json.dumps({"rows": figures.rows, **figures.extra}, indent=2))
    else:
        print(f"\ndunning steady state: {n:,} cases, policy {POLICY}, sqlite {sqlite3.sqlite_version}, "
              f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs\n")
        dispatch_bench.print_table(figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
