"""Killed mid-delivery, over and over: nothing lost, each outcome recorded once, and re-sends bounded by kind.

A channel that recognises a re-send by its key (``deduplicates_by_key``)
has its outcomes recorded a round at a time, so a crash may leave the whole
round in flight: the next run sends that round again (the provider drops
the copies), and nothing else. A channel that cannot (SMTP) is delivered
one action at a time: a crash leaves at most the one message in flight.
"""

from __future__ import annotations

import datetime as dt
import random
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from dunning import dispatch
from dunning.config import Config
from dunning.evidence import verify_chain
from dunning.models import Debtor
from dunning.runtime import Runtime
from dunning.store import ImportedObligation, Store
from dunning.store.database import database_named

SCRIPT = Path(__file__).with_name("provider_batch_run.py")
CASES = 600
KILLS = 4


def _config(folder: Path, database: Path | str) -> Config:
    return Config(path=folder / "dunning.toml", db=database_named(database))


def _import(folder: Path, database: Path | str) -> None:
    with Runtime(_config(folder, database)) as rt:
        items = [
            ImportedObligation(debtor=Debtor(id=f"D{i}", name=f"Debtor {i}"), contacts=(), reference=f"INV-{i}",
                               amount=10_000, currency="EUR", issued_on=None, due_on=dt.date(2026, 3, 1))
            for i in range(CASES)
        ]
        rt.store.import_obligations(items, dt.datetime(2026, 2, 1, tzinfo=dt.UTC), dt.date(2026, 2, 1))


def _run(folder: Path, database: Path | str, run: int, deduplicates: bool, die_at: int
         ) -> subprocess.CompletedProcess[str]:
    (folder / "run").write_text(str(run))
    return subprocess.run([sys.executable, str(SCRIPT), str(folder), "yes" if deduplicates else "no", str(die_at),
                           str(database)],
                          capture_output=True, text=True, env={"DUNNING_LOAD_PLUGINS": "", "PATH": ""}, timeout=300)


def _in_flight(database: Path | str) -> set[str]:
    """The email actions a stopped run left claimed and handed to the channel."""
    store = Store(database)
    try:
        return {k for (k,) in store.conn.execute("SELECT key FROM actions WHERE channel = 'email' "
                                                 "AND status = 'sending' AND send_started_at IS NOT NULL")}
    finally:
        store.close()


@pytest.mark.parametrize("deduplicates", [True, False], ids=["deduplicates-by-key", "one-by-one"])
def test_kills_mid_delivery_resend_at_most_the_round_or_the_one_in_flight(tmp_path: Path, deduplicates: bool,
                                                                          dunning_database: Path | str):
    _import(tmp_path, dunning_database)
    rng = random.Random(16)
    left_in_flight: dict[int, set[str]] = {}
    sends_so_far = 0
    for run in range(1, KILLS + 1):
        # Each run dies at a send of its own, somewhere in its first rounds (100 emails a round here);
        # at most 4 x 120 sends before the last run, so every killed run has that many left to make.
        killed = _run(tmp_path, dunning_database, run, deduplicates, die_at=rng.randint(1, 120))
        assert killed.returncode == 9, killed.stderr
        left_in_flight[run] = _in_flight(dunning_database)
        log = (tmp_path / "provider.log").read_text().splitlines()
        assert len(log) > sends_so_far  # this run handed something over before it died
        sends_so_far = len(log)
    done = _run(tmp_path, dunning_database, KILLS + 1, deduplicates, die_at=0)
    assert done.returncode == 0, done.stderr

    handed: dict[int, list[str]] = defaultdict(list)
    for line in (tmp_path / "provider.log").read_text().splitlines():
        run_text, key = line.split()
        handed[int(run_text)].append(key)
    counts = Counter(key for keys in handed.values() for key in keys)
    with Runtime(_config(tmp_path, dunning_database)) as rt:
        statuses = Counter(a.status.value for a in rt.store.actions() if a.channel == "email")
        sent_events = Counter(e.data["key"] for e in rt.store.events(kind="sent"))
        assert verify_chain(rt.store.event_rows_for_verify()).ok
        assert dispatch.run(rt, dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)).sent == 0
    # Nothing lost, each outcome recorded once.
    assert statuses == {"sent": CASES}
    assert set(counts) == set(sent_events) and len(sent_events) == CASES and max(sent_events.values()) == 1
    for run in range(1, KILLS + 1):
        # A crash leaves at most the round (or the one message) in flight, and what the next run
        # sends again is among what it left: nothing recorded as sent goes out twice.
        assert len(left_in_flight[run]) <= (dispatch.CLAIM_BATCH if deduplicates else 1)
        before = {k for r in range(1, run + 1) for k in handed[r]}
        assert {k for k in handed[run + 1] if k in before} <= left_in_flight[run]
    if deduplicates:
        # A round is recorded together: some crash left more than one action of it in flight.
        assert max(len(keys) for keys in left_in_flight.values()) > 1
    else:
        assert sum(n - 1 for n in counts.values()) <= KILLS
