"""How the evidence chain's appends are serialised on PostgreSQL, measured: K processes appending at once.

    python bench/chain_append.py [--processes 1,2,4] [--transactions 300] [--events 1,20] [--json]

Each process opens a ``Store`` on one PostgreSQL database (a throwaway
cluster, as bench/workers.py starts) and appends ``--transactions`` times
``--events`` events, each batch in a transaction of its own
(``Store.append_events``), as delivery does: one event with an action's
outcome, or a round's twenty. Three ways of keeping the chain one total
order are timed (``--lock``):

- ``advisory``: what dunning does, ``pg_advisory_xact_lock`` taken before
  the chain's head is read, held until the commit (``dunning.store.pg_locks``);
- ``table``: ``LOCK TABLE events IN SHARE ROW EXCLUSIVE MODE`` in its place
  (readers still read; every other writer of events waits);
- ``none``: no lock; two transactions that read the same head collide on
  the events' primary key (seq) and one fails: counted as ``collisions``,
  and that transaction is lost (a real writer would have to redo it all).

The chain is walked at the end of each run. See bench/README.md, "Workers".
"""

from __future__ import annotations

import argparse
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

os.environ["DUNNING_LOAD_PLUGINS"] = ""

LOCKS = ("advisory", "table", "none")
AT = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)


def as_appender(url: str, go: Path, lock: str, transactions: int, events: int) -> None:
    import psycopg

    from dunning.models import Event
    from dunning.store import Store, events as event_log

    if lock == "table":
        def table_lock(conn: Any) -> None:
            if conn.in_transaction:
                conn.execute("LOCK TABLE events IN SHARE ROW EXCLUSIVE MODE")
        event_log.lock_evidence_chain = table_lock  # type: ignore[assignment]
    elif lock == "none":
        event_log.lock_evidence_chain = lambda conn: None  # type: ignore[assignment]
    store = Store(url)
    go.with_name(f"ready-{os.getpid()}").touch()
    while not go.exists():
        time.sleep(0.005)
    collisions = 0
    for t in range(transactions):
        batch = [Event(kind="note", at=AT, data={"process": os.getpid(), "transaction": t, "i": i})
                 for i in range(events)]
        try:
            with store.transaction():
                store.append_events(batch)
        except psycopg.errors.UniqueViolation:
            collisions += 1
    store.close()
    print(json.dumps({"collisions": collisions}))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--processes", default="1,2,4", metavar="K,K...")
    parser.add_argument("--transactions", type=int, default=300, help="transactions per process (default 300)")
    parser.add_argument("--events", default="1,20", metavar="E,E...", help="events per transaction (default 1,20)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--as-appender", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.as_appender:
        url, go, lock, transactions, events = args.as_appender
        as_appender(url, Path(go), lock, int(transactions), int(events))
        return 0

    from dunning.chain_walk import walk
    from dunning.store import Store
    from dunning.testing_postgres import PostgresServer, server_binaries

    binaries = server_binaries()
    if binaries is None:
        parser.error("no PostgreSQL server binaries (initdb, pg_ctl): install Debian's postgresql package")
    folder = Path(tempfile.mkdtemp(prefix="dunning-bench-chain-"))
    os.chmod(folder, 0o755)
    server = PostgresServer(binaries, folder / "pg")
    go = folder / "go"
    rows: list[dict[str, Any]] = []
    load_start = os.getloadavg()[0]
    try:
        server.start()
        template = server.create_database()
        Store(server.url(template)).close()  # the schema, once
        for events in (int(e) for e in args.events.split(",")):
            for k in (int(k) for k in args.processes.split(",")):
                for lock in LOCKS:
                    if lock == "none" and k == 1:
                        continue  # one process never collides
                    url = server.url(server.create_database(template=template))
                    go.unlink(missing_ok=True)
                    argv = [sys.executable, str(Path(__file__).resolve()), "--as-appender", url, str(go), lock,
                            str(args.transactions), str(events)]
                    processes = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                                 for _ in range(k)]
                    ready = [go.with_name(f"ready-{p.pid}") for p in processes]
                    while not all(r.exists() for r in ready) and all(p.poll() is None for p in processes):
                        time.sleep(0.01)
                    started = time.perf_counter()
                    go.touch()
                    outputs = [p.communicate() for p in processes]
                    seconds = time.perf_counter() - started
                    for p, (_out, err) in zip(processes, outputs, strict=True):
                        if p.returncode:
                            raise SystemExit(f"an appender failed:\n{err}")
                    for r in ready:
                        r.unlink(missing_ok=True)
                    collisions = sum(json.loads(out.strip().splitlines()[-1])["collisions"] for out, _ in outputs)
                    store = Store(url)
                    appended = store.last_seq()
                    chain_ok = walk(store.event_links()).ok
                    store.close()
                    rows.append({"events_per_transaction": events, "processes": k, "lock": lock,
                                 "transactions": k * args.transactions, "lost": collisions, "events": appended,
                                 "seconds": round(seconds, 2), "events_per_s": round(appended / seconds),
                                 "chain_ok": chain_ok})
                    print(rows[-1], file=sys.stderr)
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
    load = (round(load_start, 2), round(os.getloadavg()[0], 2))
    if args.json:
        print(json.dumps({"rows": rows, "load_average": load}, indent=2))
        return 0
    print(f"load average {load[0]} at the start, {load[1]} at the end; {os.cpu_count()} CPUs")
    print(f"{'events/tx':>9} {'processes':>9} {'lock':<9} {'transactions':>12} {'lost':>6} {'events':>8} "
          f"{'wall s':>7} {'events/s':>9}  chain")
    for r in rows:
        print(f"{r['events_per_transaction']:>9} {r['processes']:>9} {r['lock']:<9} {r['transactions']:>12} "
              f"{r['lost']:>6} {r['events']:>8} {r['seconds']:>7.2f} {r['events_per_s']:>9,}  "
              f"{'ok' if r['chain_ok'] else 'BROKEN'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
