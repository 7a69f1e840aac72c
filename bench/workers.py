"""Dispatch workers on PostgreSQL (1, 2, 4 processes) beside the SQLite single runner, in one run.

    python bench/workers.py [--cases N] [--shape spread|same-day] [--workers 1,2,4] [--batch 200] [--json]

1. generates N open cases into a SQLite file: with ``--shape spread`` (the
   default) a steady portfolio's day exactly as bench/steady.py makes it
   (due dates spread over 200 days, each case planned up to the day before:
   a day plans about 17 % of the cases and delivers about 0.3 actions per
   case, through null email, phone, letter and visit channels, at
   2026-03-03 10:00 UTC); with ``--shape same-day`` as bench/dispatch.py
   does (every case due 2026-03-01: at 2026-03-02 09:00 UTC an email and a
   call each, 2N actions, through null email and phone channels);
2. starts a throwaway PostgreSQL cluster (``dunning.testing_postgres``: a
   temporary folder, a Unix socket, fsync off) and copies the file into a
   template database (``dunning.store.copy``, as ``dunning db copy`` does);
3. for each worker count K: a fresh database from the template, K processes
   each running ``dunning.dispatch.worker.work(once=True)`` at the shape's
   moment through the null channels, which accept every action; timed from the moment they are told to start until
   the last one exits: planning (one worker plans, the others wait their
   turn) and delivering every action;
4. the SQLite single runner: ``dispatch.run`` at the same moment, in one
   process, on a copy of the same file, through the same null channels.

Each figure row gives actions delivered per second of wall time, the CPU
seconds of the dunning processes and of the PostgreSQL server, and the
machine's load average before and after (a busy machine slows everything).
The evidence chain of every database is walked at the end. See
bench/README.md, "Workers".
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

# Installed channel plugins must not take part: the null channels stand in for them.
os.environ["DUNNING_LOAD_PLUGINS"] = ""
sys.path.insert(0, str(Path(__file__).parent))

import dispatch as same_day
import steady
from dispatch import POLICY, NullPlugin

from dunning.config import Config
from dunning.runtime import Runtime

TICK = os.sysconf("SC_CLK_TCK")


@attrs.frozen
class Shape:
    """A portfolio and the moment its day is run: how it is generated, which channels it needs."""

    generate: Callable[[Path, int], None]
    moment: dt.datetime
    channels: tuple[str, ...]
    says: str  # what the day holds, for the table's first line


SHAPES = {
    # A steady portfolio's day (bench/steady.py): due dates over 200 days, about 17 % of the cases planned.
    "spread": Shape(steady.generate, steady.DAY_X, steady.CHANNELS,
                    "due dates spread over 200 days, its day X"),
    # Every case due the same day (bench/dispatch.py): an email and a call each, 2N actions.
    "same-day": Shape(same_day.generate, same_day.PLAN_AT, ("email", "phone"),
                      "every case 1 day past due, an email and a call each"),
}


def _config(db: Path, shape: Shape) -> Config:
    return Config(path=None, policy=POLICY, db=db, timezone="UTC", enabled_channels=shape.channels)


def _cpu_self() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _wait_for(go: Path) -> None:
    """Say this process is ready (its runtime open), then wait for the start."""
    go.with_name(f"ready-{os.getpid()}").touch()
    while not go.exists():
        time.sleep(0.005)


# --- the processes the bench starts ----------------------------------------------------------


def as_worker(url: str, go: Path, batch: int, shape: Shape) -> None:
    """One worker on ``url``: once ``go`` exists, plan and deliver until the portfolio is drained."""
    from dunning.dispatch.worker import work

    with Runtime(_config(Path("unused.db"), shape), db_path=url,  # type: ignore[arg-type]
                 extra_plugins=[NullPlugin(shape.channels)]) as rt:
        _wait_for(go)
        cpu = _cpu_self()
        summary = work(rt, batch=batch, once=True, now=lambda: shape.moment)
        print(json.dumps({"sent": summary.run.sent, "planned": summary.run.planned, "claimed": summary.claimed,
                          "plan_seconds": round(summary.plan_seconds, 2), "cpu": _cpu_self() - cpu}))


def as_runner(db: str, go: Path, shape: Shape) -> None:
    """The SQLite single runner: ``dispatch.run`` (what ``dunning run`` does) once ``go`` exists."""
    from dunning import dispatch

    with Runtime(_config(Path(db), shape), extra_plugins=[NullPlugin(shape.channels)]) as rt:
        _wait_for(go)
        cpu = _cpu_self()
        summary = dispatch.run(rt, shape.moment)
        print(json.dumps({"sent": summary.sent, "planned": summary.planned, "claimed": summary.sent,
                          "plan_seconds": None, "cpu": _cpu_self() - cpu}))


# --- measuring ------------------------------------------------------------------------------


def _server_cpu(data: Path) -> float:
    """CPU seconds of the PostgreSQL server so far: the postmaster, its live children and those it has reaped."""
    postmaster = int((data / "postmaster.pid").read_text().split()[0])
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # a process that ended meanwhile: the postmaster has counted it
        pid, ppid = int(stat.parent.name), int(fields[1])
        if pid == postmaster:
            total += sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
        elif ppid == postmaster:
            total += int(fields[11]) + int(fields[12])
    return total / TICK


def _race(argv_of: list[list[str]], go: Path, server_data: Path | None) -> dict[str, Any]:
    """Start the processes, tell them to go, and time them until the last one exits."""
    go.unlink(missing_ok=True)
    env = {**os.environ, "DUNNING_LOAD_PLUGINS": ""}
    processes = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
                 for argv in argv_of]
    # Each opens its runtime (imports, migrations checked) before the start, which is not timed.
    ready = [go.with_name(f"ready-{p.pid}") for p in processes]
    while not all(r.exists() for r in ready):
        if any(p.poll() is not None for p in processes):
            break  # one failed before it was ready: its error is reported below
        time.sleep(0.01)
    load_before = os.getloadavg()[0]
    server_before = _server_cpu(server_data) if server_data else 0.0
    started = time.perf_counter()
    go.touch()
    outputs = [p.communicate() for p in processes]
    seconds = time.perf_counter() - started
    for r in ready:
        r.unlink(missing_ok=True)
    for process, (_out, err) in zip(processes, outputs, strict=True):
        if process.returncode:
            raise SystemExit(f"a bench process failed ({process.returncode}):\n{err}")
    results = [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]
    return {
        "seconds": round(seconds, 2),
        "planned": sum(r["planned"] for r in results),
        "sent": sum(r["sent"] for r in results),
        "claimed_by_each": [r["claimed"] for r in results],
        "plan_seconds": max((r["plan_seconds"] or 0) for r in results) or None,
        "cpu_dunning": round(sum(r["cpu"] for r in results), 1),
        "cpu_server": round(_server_cpu(server_data) - server_before, 1) if server_data else None,
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
    }


def _chain_ok(database: str | Path) -> bool:
    from dunning.chain_walk import walk
    from dunning.store import Store

    store = Store(database)
    try:
        return walk(store.event_links()).ok
    finally:
        store.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=5_000, metavar="N",
                        help="open cases to generate, 1 .. 1,000,000 (default 5,000; the issue's size is 1,000,000)")
    parser.add_argument("--shape", choices=sorted(SHAPES), default="spread",
                        help="spread: a steady portfolio's day, due dates over 200 days (default); "
                             "same-day: every case due at once, an email and a call each")
    parser.add_argument("--workers", default="1,2,4", metavar="K,K...", help="worker counts to time (default 1,2,4)")
    parser.add_argument("--batch", type=int, default=200, help="actions a worker claims at a time (default 200)")
    parser.add_argument("--no-sqlite", action="store_true",
                        help="leave out the SQLite single runner (to time the workers alone)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON instead of a table")
    parser.add_argument("--as-worker", nargs=3, metavar=("URL", "GO", "BATCH"), help=argparse.SUPPRESS)
    parser.add_argument("--as-runner", nargs=2, metavar=("DB", "GO"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    shape = SHAPES[args.shape]
    if args.as_worker:
        as_worker(args.as_worker[0], Path(args.as_worker[1]), int(args.as_worker[2]), shape)
        return 0
    if args.as_runner:
        as_runner(args.as_runner[0], Path(args.as_runner[1]), shape)
        return 0
    if not 1 <= args.cases <= 1_000_000:
        parser.error("--cases must be between 1 and 1,000,000")
    counts = [int(k) for k in args.workers.split(",")]

    from dunning.store import Store
    from dunning.store.copy import copy_to_postgres
    from dunning.testing_postgres import PostgresServer, server_binaries

    binaries = server_binaries()
    if binaries is None:
        parser.error("no PostgreSQL server binaries (initdb, pg_ctl): install Debian's postgresql package")
    folder = Path(tempfile.mkdtemp(prefix="dunning-bench-workers-"))
    os.chmod(folder, 0o755)  # the cluster's owner (postgres, when run as root) makes its folder inside
    server = PostgresServer(binaries, folder / "pg")
    rows: list[dict[str, Any]] = []
    extra: dict[str, Any] = {"cases": args.cases, "shape": args.shape, "batch": args.batch,
                             "cpus": os.cpu_count(), "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}
    go = folder / "go"
    me = str(Path(__file__).resolve())
    try:
        sqlite_db = folder / "portfolio.db"
        started = time.perf_counter()
        shape.generate(sqlite_db, args.cases)
        extra["generate_seconds"] = round(time.perf_counter() - started, 1)
        print(f"generated {args.cases} cases in {extra['generate_seconds']} s", file=sys.stderr)
        server.start()
        template = server.create_database()
        started = time.perf_counter()
        source, target = Store(sqlite_db), Store(server.url(template))
        try:
            copy_to_postgres(source, target)
            target.conn.execute("ANALYZE")  # the planner's statistics, copied with the template
        finally:
            source.close()
            target.close()
        extra["copy_seconds"] = round(time.perf_counter() - started, 1)
        print(f"copied to PostgreSQL in {extra['copy_seconds']} s", file=sys.stderr)

        if not args.no_sqlite:
            runner_db = folder / "runner.db"
            shutil.copyfile(sqlite_db, runner_db)
            runner_argv = [sys.executable, me, "--shape", args.shape, "--as-runner", str(runner_db), str(go)]
            row = _race([runner_argv], go, None)
            row |= {"database": "SQLite", "processes": 1, "chain_ok": _chain_ok(runner_db)}
            rows.append(row)
            # Each row as it is measured: a long run stopped part way still has what it measured.
            print(json.dumps(row), file=sys.stderr, flush=True)
        for k in counts:
            name = server.create_database(template=template)
            url = server.url(name)
            worker_argv = [sys.executable, me, "--shape", args.shape, "--as-worker", url, str(go), str(args.batch)]
            row = _race([worker_argv] * k, go, server.data)
            row |= {"database": "PostgreSQL", "processes": k, "chain_ok": _chain_ok(url)}
            rows.append(row)
            server.drop_database(name)
            print(json.dumps(row), file=sys.stderr, flush=True)
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
    for row in rows:
        row["actions_per_s"] = round(row["sent"] / row["seconds"]) if row["seconds"] else None
    extra["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    if args.json:
        print(json.dumps({"rows": rows, **extra}, indent=2))
        return 0
    print(f"{args.cases:,} cases ({shape.says}), claimed {args.batch} at a time; "
          f"{extra['cpus']} CPUs, load average {extra['load_average_at_start'][0]} at the start, "
          f"{extra['load_average_at_end'][0]} at the end")
    print(f"{'database':<11} {'processes':>9} {'planned':>9} {'sent':>9} {'wall s':>8} {'actions/s':>10} "
          f"{'planning s':>10} {'CPU s dunning':>13} {'CPU s server':>12} {'load':>11}  chain")
    for row in rows:
        plan = f"{row['plan_seconds']:.1f}" if row["plan_seconds"] else "-"
        server_cpu = f"{row['cpu_server']:.1f}" if row["cpu_server"] is not None else "-"
        print(f"{row['database']:<11} {row['processes']:>9} {row['planned']:>9,} {row['sent']:>9,} "
              f"{row['seconds']:>8.1f} {row['actions_per_s']:>10,} {plan:>10} {row['cpu_dunning']:>13.1f} "
              f"{server_cpu:>12} "
              f"{row['load_before']:>5.2f}/{row['load_after']:<5.2f}  {'ok' if row['chain_ok'] else 'BROKEN'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
