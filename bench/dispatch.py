"""Planning and delivery throughput of ``dunning run`` on a large portfolio.

    python bench/dispatch.py --cases 1000000 [--db PATH] [--keep] [--json]

In one process:

1. generates N open cases (one debtor, one email contact, one obligation
   each, all due 2026-03-01) straight into a fresh SQLite file, with the
   schema created by ``Store`` and the rows bulk-inserted with
   ``executemany``; then copies that file, so both variants below start from
   the same data;
2. variant "no channels" (as after ``dunning init``): times ``dispatch.plan``
   at 2026-03-02 09:00 UTC (days past due 1 of ``trade-receivables``: an
   email and a phone call per case, both written as ``skipped`` with an
   evidence event because no channel is enabled), then a full ``run`` at the
   same moment (plans nothing new) and a ``run`` the next day, when nothing
   is due (days past due 2 has no step);
3. variant "null channels": the same planning with a do-nothing channel
   plugin enabled for email and phone, so the actions are ``pending`` with
   no events, then ``dispatch.deliver_ready`` on the first
   min(N, 50,000) of them;
4. the yardstick: as many rows as planning wrote, inserted with plain
   ``sqlite3.executemany`` into a fresh table shaped like ``actions``.

Peak RSS (``ru_maxrss``) is read after every phase. See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gc
import json
import os
import resource
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

# Installed channel plugins must not take part (an installed "email" channel
# would clash with the null one); the bench measures the core alone.
os.environ["DUNNING_LOAD_PLUGINS"] = ""

from dunning import dispatch, hookimpl
from dunning.channels import Delivery
from dunning.config import Config
from dunning.runtime import Runtime
from dunning.store import Store

UTC = dt.UTC
DUE_ON = dt.date(2026, 3, 1)
OPENED_ON = dt.date(2026, 2, 20)
PLAN_AT = dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # days past due 1: overdue notice, email + phone
IDLE_AT = dt.datetime(2026, 3, 3, 9, 0, tzinfo=UTC)  # days past due 2: no step, nothing due
# Days past due 3: the next overdue notice, which supersedes day 1's actions still pending.
NEXT_AT = dt.datetime(2026, 3, 4, 9, 0, tzinfo=UTC)
POLICY = "trade-receivables"
ZONES = ("Europe/London", "Europe/Berlin", "America/New_York", None)  # None: the configured zone
CHUNK = 50_000  # rows per executemany / transaction while generating (small enough not to set the peak RSS)
DELIVER_MAX = 50_000
DELIVER_ONE_BY_ONE_MAX = 10_000  # after DELIVER_MAX: the same null channel, without deduplicates_by_key
# Planning's targets: cases/s at 1,000,000 cases on the quiet 2-core reference machine, where the
# yardstick wrote about YARDSTICK_QUIET rows/s (77,194 and 87,821 in bench/README.md's reference
# figures). The bench checks them as ratios to the yardstick measured beside them.
PLAN_TARGET_CHANNELS, PLAN_TARGET_NO_CHANNELS, YARDSTICK_QUIET = 50_000, 30_000, 80_000


# --- measuring -------------------------------------------------------------------------


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (ru_maxrss is in KB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_now_mb() -> float:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return float("nan")


class Figures:
    """Rows of the report, in the order measured."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.extra: dict[str, Any] = {}

    def add(self, phase: str, seconds: float, *, cases: int | None = None, actions: int | None = None,
            **more: Any) -> dict[str, Any]:
        gc.collect()
        row: dict[str, Any] = {
            "phase": phase,
            "seconds": round(seconds, 4),
            "cases": cases,
            "actions": actions,
            "cases_per_s": round(cases / seconds) if cases and seconds > 0 else None,
            "actions_per_s": round(actions / seconds) if actions and seconds > 0 else None,
            "peak_rss_mb": round(peak_rss_mb(), 1),
            "rss_mb": round(rss_now_mb(), 1),
            **more,
        }
        self.rows.append(row)
        print(f"  .. {phase}: {seconds:.2f} s, peak RSS {row['peak_rss_mb']:.0f} MB", file=sys.stderr, flush=True)
        return row


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


# --- generating ------------------------------------------------------------------------------


def _chunks(rows: Iterable[tuple[Any, ...]], size: int) -> Iterator[list[tuple[Any, ...]]]:
    chunk: list[tuple[Any, ...]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _bulk(conn: sqlite3.Connection, sql: str, rows: Iterable[tuple[Any, ...]]) -> None:
    """Insert in big transactions of CHUNK rows each (memory stays flat at any N)."""
    for chunk in _chunks(rows, CHUNK):
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(sql, chunk)
        conn.execute("COMMIT")


def generate(path: Path, n: int) -> None:
    """N debtors, each with an email contact, one obligation and an open case due on PLAN_AT's day.

    The cases' columns are what ``Store.import_obligations`` would have
    written on OPENED_ON, plus a cursor as if the runner had planned every
    day up to the due date: planned_through = the day before the run,
    next_action_on = the run's day.
    """
    store = Store(path)  # creates the schema through the migrations
    conn = store.conn
    created = dt.datetime.combine(OPENED_ON, dt.time(8), tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    opened, due, issued = OPENED_ON.isoformat(), DUE_ON.isoformat(), (DUE_ON - dt.timedelta(days=30)).isoformat()
    run_day, day_before = PLAN_AT.date().isoformat(), (PLAN_AT.date() - dt.timedelta(days=1)).isoformat()

    def amount(i: int) -> int:
        return 20_000 + (i * 7_919) % 2_000_000  # 200.00 .. 20,199.99 in minor units

    _bulk(conn, "INSERT INTO debtors (id, name, kind, country, timezone, locale, created_at, updated_at) "
                "VALUES (?, ?, 'company', ?, ?, NULL, ?, ?)",
          ((f"D{i:07d}", f"Customer {i} Ltd", "GB", ZONES[i % len(ZONES)], created, created) for i in range(1, n + 1)))
    _bulk(
        conn,
        "INSERT INTO contacts (debtor_id, kind, value, role, name, bad) VALUES (?, 'email', ?, 'debtor', NULL, 0)",
        ((f"D{i:07d}", f"accounts{i}@example.com") for i in range(1, n + 1)),
    )
    _bulk(conn, "INSERT INTO cases (id, debtor_id, currency, stage, status, balance, anchor_due_on, opened_on, "
                "planned_through, next_action_on, broken_promises, account_locked, previous_stage, stage_entered_on, "
                "resolved_on) VALUES (?, ?, 'EUR', 'internal', 'open', ?, ?, ?, ?, ?, 0, 0, NULL, ?, NULL)",
          ((i, f"D{i:07d}", amount(i), due, opened, day_before, run_day, opened) for i in range(1, n + 1)))
    _bulk(
        conn,
        "INSERT INTO obligations (id, case_id, debtor_id, reference, amount, currency, issued_on, due_on, paid) "
        "VALUES (?, ?, ?, ?, ?, 'EUR', ?, ?, 0)",
        ((i, i, f"D{i:07d}", f"INV-{i:07d}", amount(i), issued, due) for i in range(1, n + 1)),
    )
    # The debtor's zone as import works it out and keeps it (``compliance.zones.stored_zone``, migration m021):
    # their own zone, else "" (an email address only: the business's zone).
    conn.execute("UPDATE debtors SET zone = coalesce(timezone, '')")
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()


# --- a channel that does nothing ------------------------------------------------------------


class NullChannel:
    """Accepts every action at once; the cost measured is the core's, not a provider's.

    Like the SMS gateway or the call list, it takes a re-send under the same
    key as the same message (``deduplicates_by_key``), so its outcomes are
    recorded a round at a time; the bench switches that off for the
    one-by-one phase (the way an SMTP channel is delivered).
    """

    needs = ()
    deduplicates_by_key = True

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


class _Enough(Exception):
    """Raised from the progress callback to stop delivery after a set number of actions."""


# --- the phases -----------------------------------------------------------------------------


# [store] synchronous for every phase and the yardstick ("--synchronous"); the product's default is "full".
SYNCHRONOUS = "full"


def runtime(db: Path, channels: tuple[str, ...] = (), plugin: NullPlugin | None = None) -> Runtime:
    config = Config(path=None, policy=POLICY, db=db, timezone="UTC", enabled_channels=channels,
                    synchronous=SYNCHRONOUS)
    extra = [plugin or NullPlugin(channels)] if channels else []
    return Runtime(config, extra_plugins=extra)


def bench_without_channels(db: Path, n: int, figures: Figures) -> int:
    with runtime(db) as rt:
        summary = dispatch.RunSummary()
        seconds, _ = timed(lambda: dispatch.plan(rt, PLAN_AT, summary))
        figures.add("plan (no channels: skipped + event each)", seconds, cases=summary.cases_planned,
                    actions=summary.planned, skipped=summary.skipped)
        planned = summary.planned
        if summary.cases_planned != n:
            figures.extra.setdefault("warnings", []).append(f"planned {summary.cases_planned} cases, expected {n}")

        seconds, again = timed(lambda: dispatch.run(rt, PLAN_AT))
        figures.add("run again, same moment (idempotent)", seconds, cases=again.cases_planned or None,
                    actions=again.planned or None, new_actions=again.planned, sent=again.sent)
        if again.planned:
            figures.extra.setdefault("warnings", []).append(f"rerun planned {again.planned} new actions")

        seconds, idle = timed(lambda: dispatch.run(rt, IDLE_AT))
        figures.add("run next day, nothing due", seconds, new_actions=idle.planned, sent=idle.sent)
        figures.extra["counts_no_channels"] = rt.store.counts()
    return planned


def deliver_some(rt: Runtime, limit: int) -> tuple[float, dispatch.RunSummary, float]:
    """``dispatch.deliver_ready`` stopped after ``limit`` actions: its time, its counts and its CPU seconds."""
    delivered = dispatch.RunSummary()
    done = 0

    def progress(phase: str, count: int) -> None:
        # deliver_ready calls this after each claimed batch is fully
        # recorded, so stopping here leaves no claim in flight.
        nonlocal done
        done += count
        if phase == "deliver" and done >= limit:
            raise _Enough

    def deliver() -> None:
        with contextlib.suppress(_Enough):
            dispatch.deliver_ready(rt, PLAN_AT, delivered, progress)

    # The process's CPU time (delivery runs on this one thread): what the machine's load moves much less.
    cpu = time.process_time()
    seconds, _ = timed(deliver)
    return seconds, delivered, time.process_time() - cpu


def _cpu_per_action(cpu: float, sent: int) -> float | None:
    return round(cpu / sent * 1e6, 1) if sent else None


def bench_with_null_channels(db: Path, n: int, figures: Figures) -> None:
    plugin = NullPlugin(("email", "phone"))
    with runtime(db, ("email", "phone"), plugin) as rt:
        summary = dispatch.RunSummary()
        seconds, _ = timed(lambda: dispatch.plan(rt, PLAN_AT, summary))
        figures.add("plan (null channels: pending, no events)", seconds, cases=summary.cases_planned,
                    actions=summary.planned)

        seconds, delivered, cpu = deliver_some(rt, min(n, DELIVER_MAX))
        figures.add(f"deliver first {delivered.sent:,} actions (null channel)", seconds, actions=delivered.sent,
                    failed=delivered.failed, blocked=delivered.blocked, skipped=delivered.skipped,
                    cpu_us_per_action=_cpu_per_action(cpu, delivered.sent))

        # The same channels, declaring no de-duplication: one action at a time, each outcome committed alone.
        for channel in plugin.channels:
            channel.deduplicates_by_key = False
        left = min(2 * n - delivered.sent, DELIVER_ONE_BY_ONE_MAX)
        if left > 0:
            seconds, alone, cpu = deliver_some(rt, left)
            figures.add(f"deliver next {alone.sent:,} one by one (no deduplicates_by_key)", seconds,
                        actions=alone.sent, failed=alone.failed, blocked=alone.blocked, skipped=alone.skipped,
                        cpu_us_per_action=_cpu_per_action(cpu, alone.sent))

        # Day 1's actions left undelivered are still pending on day 3: the new
        # occurrence supersedes each of them (a status change and an event).
        following = dispatch.RunSummary()
        seconds, _ = timed(lambda: dispatch.plan(rt, NEXT_AT, following))
        figures.add("plan day 3 (null channels: supersedes the rest)", seconds, cases=following.cases_planned,
                    actions=following.planned, superseded=getattr(following, "superseded", None))


def yardstick(db: Path, template_db: Path, rows: int, figures: Figures) -> float:
    """``rows`` outbox-shaped rows through plain executemany: the floor for writing the plan."""
    source = sqlite3.connect(template_db)
    ddl = [sql for (sql,) in source.execute(
        "SELECT sql FROM sqlite_master WHERE tbl_name = 'actions' AND sql IS NOT NULL ORDER BY type DESC")]
    source.close()
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")  # as the store opens it
    conn.execute(f"PRAGMA synchronous={SYNCHRONOUS.upper()}")
    for sql in ddl:
        conn.execute(sql)
    now = "2026-03-02T09:00:00Z"
    channels = ("email", "phone")

    def generated() -> Iterator[tuple[Any, ...]]:
        for i in range(rows):
            case_id, channel = i // 2 + 1, channels[i % 2]
            yield (f"{case_id}:overdue-notice:{channel}:2026-03-01", case_id, "outreach", "overdue-notice", channel,
                   "overdue-notice", None, 1, "2026-03-02", "2026-03-02T00:00:00Z", "skipped", 0, 0, "{}", now, now)

    def insert() -> None:
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            "INSERT INTO actions (key, case_id, kind, step, channel, template, target, dpd, planned_for, not_before, "
            "status, required, requires_approval, options, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            generated(),
        )
        conn.execute("COMMIT")

    seconds, _ = timed(insert)
    conn.close()
    figures.add("yardstick: plain executemany of the same rows", seconds, actions=rows)
    return seconds


# --- report ----------------------------------------------------------------------------------


def _fmt(value: Any, key: str = "") -> str:
    if value is None:
        return ""
    if key == "seconds":
        return f"{value:,.3f}" if value < 10 else f"{value:,.2f}"
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def print_table(figures: Figures) -> None:
    cols = [("phase", "phase", "<"), ("seconds", "seconds", ">"), ("cases", "cases", ">"),
            ("cases/s", "cases_per_s", ">"), ("actions", "actions", ">"), ("actions/s", "actions_per_s", ">"),
            ("CPU µs/action", "cpu_us_per_action", ">"), ("peak RSS MB", "peak_rss_mb", ">"), ("RSS MB", "rss_mb", ">")]
    cells = [[_fmt(r.get(key), key) for _, key, _ in cols] for r in figures.rows]
    widths = [max(len(title), *(len(c[i]) for c in cells)) for i, (title, _, _) in enumerate(cols)]
    line = "  ".join(f"{title:{align}{w}}" for (title, _, align), w in zip(cols, widths, strict=False))
    print(line)
    print("-" * len(line))
    for c in cells:
        print("  ".join(f"{v:{align}{w}}" for v, (_, _, align), w in zip(c, cols, widths, strict=False)))
    print()
    for key, value in figures.extra.items():
        if key.startswith("counts"):
            continue
        print(f"{key}: {value}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="Figures and targets are explained in bench/README.md.")
    parser.add_argument("--cases", type=int, default=100_000, metavar="N",
                        help="open cases to generate, 1 .. 1,000,000 (default 100,000)")
    parser.add_argument("--db", type=Path, metavar="PATH",
                        help="database file to create (must not exist); default: a temporary folder")
    parser.add_argument("--keep", action="store_true", help="keep the database files afterwards")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON instead of a table")
    parser.add_argument("--synchronous", choices=("full", "normal"), default="full",
                        help="[store] synchronous for the engine and the yardstick (default: full, as shipped)")
    args = parser.parse_args(argv)
    n = args.cases
    global SYNCHRONOUS
    SYNCHRONOUS = args.synchronous
    if not 1 <= n <= 1_000_000:
        parser.error("--cases must be between 1 and 1,000,000")

    if args.db:
        db = args.db.resolve()
        if db.exists():
            parser.error(f"{db} exists; the bench needs a fresh file (remove it or pick another path)")
        db.parent.mkdir(parents=True, exist_ok=True)
        folder = None
    else:
        folder = Path(tempfile.mkdtemp(prefix="dunning-bench-"))
        db = folder / "bench.db"
    db_channels = db.with_name(db.stem + "-channels.db")
    db_yardstick = db.with_name(db.stem + "-yardstick.db")
    made = [db, db_channels, db_yardstick]
    for path in made[1:]:
        if path.exists():
            parser.error(f"{path} exists; remove it first")

    figures = Figures()
    figures.extra.update(cases=n, policy=POLICY, plan_at=PLAN_AT.isoformat(), idle_at=IDLE_AT.isoformat(),
                         sqlite=sqlite3.sqlite_version, python=sys.version.split()[0], cpus=os.cpu_count(), db=str(db))
    try:
        seconds, _ = timed(lambda: generate(db, n))
        figures.add("generate (debtors, contacts, cases, obligations)", seconds, cases=n)
        shutil.copyfile(db, db_channels)  # the same starting point for the second variant

        planned = bench_without_channels(db, n, figures)
        bench_with_null_channels(db_channels, n, figures)
        yard = yardstick(db_yardstick, db, planned, figures)

        plan_row = figures.rows[1]
        figures.extra["planning_vs_yardstick"] = round(plan_row["seconds"] / yard, 2) if yard > 0 else None
        null_row = next(r for r in figures.rows if r["phase"].startswith("plan (null"))
        figures.extra["planning_null_channels_vs_yardstick"] = (
            round(null_row["seconds"] / yard, 2) if yard > 0 else None
        )
        deliver_row = next(r for r in figures.rows if r["phase"].startswith("deliver first"))
        yard_row = next(r for r in figures.rows if r["phase"].startswith("yardstick"))
        # Delivery beside the yardstick measured in the same run: actions delivered per yardstick row written.
        figures.extra["delivery_vs_yardstick"] = (
            round(deliver_row["actions_per_s"] / yard_row["actions_per_s"], 4)
            if deliver_row["actions_per_s"] and yard_row["actions_per_s"] else None
        )
        figures.extra["delivery_cpu_us_per_action"] = deliver_row.get("cpu_us_per_action")
        figures.extra["load_average"] = [round(x, 2) for x in os.getloadavg()]
        # Planning's cases/s per yardstick row/s: the planning targets as ratios, so a busy machine,
        # which slows both alike, does not move them (see bench/README.md, "Planning targets").
        yard_rate = planned / yard if yard > 0 else 0
        no_channels = round((plan_row["cases_per_s"] or 0) / yard_rate, 3) if yard_rate else 0
        null_channels = round((null_row["cases_per_s"] or 0) / yard_rate, 3) if yard_rate else 0
        figures.extra["planning_cases_per_yardstick_row"] = {"no channels": no_channels,
                                                             "null channels": null_channels}
        idle_row = next(r for r in figures.rows if r["phase"].startswith("run next day"))
        peak = peak_rss_mb()
        figures.extra["targets"] = {
            f"planning >= {PLAN_TARGET_NO_CHANNELS / YARDSTICK_QUIET:.3f} cases/s per yardstick row/s "
            f"(30,000 cases/s beside a {YARDSTICK_QUIET:,} rows/s yardstick; no channels)":
                no_channels >= PLAN_TARGET_NO_CHANNELS / YARDSTICK_QUIET,
            f"planning >= {PLAN_TARGET_CHANNELS / YARDSTICK_QUIET:.3f} cases/s per yardstick row/s "
            f"(50,000 cases/s; null channels)": null_channels >= PLAN_TARGET_CHANNELS / YARDSTICK_QUIET,
            "nothing-due run < 1 s": idle_row["seconds"] < 1.0,
            "peak RSS < 400 MB": peak < 400,
        }
        figures.extra["peak_rss_mb"] = round(peak, 1)
    finally:
        if not args.keep:
            for path in made:
                for suffix in ("", "-wal", "-shm"):
                    Path(str(path) + suffix).unlink(missing_ok=True)
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)
        else:
            figures.extra["kept"] = [str(p) for p in made]

    if args.json:
        print(json.dumps({"rows": figures.rows, **figures.extra}, indent=2))
    else:
        print(f"\ndunning bench: {n:,} cases, policy {POLICY}, sqlite {sqlite3.sqlite_version}, "
              f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs\n")
        print_table(figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
