"""``dunning worker`` from the command line: on PostgreSQL, on SQLite, and stopped by SIGTERM."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from dunning.config import Config
from dunning.models import Contact, Debtor
from dunning.runtime import Runtime
from dunning.store import ImportedObligation

NOW = "2026-03-02T09:00:00Z"
DUNNING = [sys.executable, "-c", "from dunning.cli import cli; cli(prog_name='dunning')"]


def _setup(folder: Path, database: str | Path, cases: int = 40) -> None:
    (folder / "dunning.toml").write_text(f'db = "{folder / "dunning.db"}"\npolicy = "trade-receivables"\n'
                                         "[channels]\nenabled = [\"phone\"]\n")
    config = Config(path=folder / "dunning.toml", policy="trade-receivables", db=folder / "dunning.db",
                    enabled_channels=())  # the import needs no channel; the worker loads phone
    with Runtime(config, db_path=database) as rt:  # type: ignore[arg-type]  # a URL: Store takes it as text
        rt.store.import_obligations(
            [ImportedObligation(debtor=Debtor(id=f"D{i}", name=f"Debtor {i}"),
                                contacts=(Contact(f"D{i}", "mobile", f"+4420794600{i:02}"),), reference=f"INV-{i}",
                                amount=10_000, currency="EUR", issued_on=None, due_on=dt.date(2026, 3, 1))
             for i in range(cases)],
            dt.datetime(2026, 2, 1, tzinfo=dt.UTC), dt.date(2026, 2, 1))


def _dunning(folder: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DUNNING_LOAD_PLUGINS": "phone"}
    return subprocess.run([*DUNNING, "--config", str(folder / "dunning.toml"), *argv],
                          capture_output=True, text=True, env=env, cwd=folder, timeout=300, check=False)


def test_a_worker_drains_a_postgresql_database_once(dunning_postgres_url: str, tmp_path: Path) -> None:
    _setup(tmp_path, dunning_postgres_url)
    done = _dunning(tmp_path, "--db", dunning_postgres_url, "worker", "--once", "--now", NOW, "--batch", "7", "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    # 40 cases at one day past due: an email (not enabled: skipped as planned) and a call (a task on the call list).
    assert (summary["database"], summary["planned"], summary["claimed"], summary["sent"], summary["skipped"]) == (
        "postgresql", 80, 40, 40, 40), summary
    assert summary["batches"] == 6 and summary["planned_turns"] == 1 and not summary["stopped"]
    again = _dunning(tmp_path, "--db", dunning_postgres_url, "worker", "--once", "--now", NOW)
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("done: 1 turns (1 as planner), claimed 0 in 0 batches; planned 0, sent 0")


def test_on_sqlite_the_worker_is_one_runner(tmp_path: Path) -> None:
    _setup(tmp_path, tmp_path / "dunning.db")
    done = _dunning(tmp_path, "worker", "--once", "--now", NOW, "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["database"], summary["planned"], summary["claimed"], summary["sent"], summary["skipped"]) == (
        "sqlite", 80, 40, 40, 40), summary


def test_a_bad_url_is_one_line(tmp_path: Path) -> None:
    _setup(tmp_path, tmp_path / "dunning.db", cases=1)
    done = _dunning(tmp_path, "--db", "postgresql://me@db:54x2/collections", "worker", "--once")
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr.strip().splitlines() == [
        "Error: --db: database URL postgresql://me@db:54x2/collections: "
        "Port could not be cast to integer value as '54x2'"]


def test_sigterm_stops_a_looping_worker_cleanly(dunning_postgres_url: str, tmp_path: Path) -> None:
    _setup(tmp_path, dunning_postgres_url, cases=5)
    env = {**os.environ, "DUNNING_LOAD_PLUGINS": "phone"}
    worker = subprocess.Popen([*DUNNING, "--config", str(tmp_path / "dunning.toml"), "--db",
                               dunning_postgres_url, "worker", "--now", NOW, "--idle-sleep", "60"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    # Wait until it has planned and delivered the five cases (their five calls are on the list), then stop it.
    config = Config(path=tmp_path / "dunning.toml", policy="trade-receivables", db=tmp_path / "dunning.db",
                    enabled_channels=())
    with Runtime(config, db_path=dunning_postgres_url) as rt:  # type: ignore[arg-type]
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            row = rt.store.conn.execute("SELECT count(*) FROM actions WHERE status = 'sent'").fetchone()
            if row[0] == 5:
                break
            time.sleep(0.2)
    worker.send_signal(signal.SIGTERM)
    out, err = worker.communicate(timeout=60)
    assert worker.returncode == 0, err
    # A turn that delivered, a turn that found nothing (then the sleep the signal cut short).
    assert out.startswith("stopped: 2 turns (2 as planner), claimed 5 in 1 batches; planned 10, sent 5"), out
