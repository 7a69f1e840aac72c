"""Four dispatch workers racing on one PostgreSQL database: each message sent once, every cap held, one chain."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import click
import pytest

from dunning import chain_walk, event_codec, evidence
from dunning.cli_evidence import verify
from dunning.cli_support import State
from dunning.config import Config
from dunning.models import Debtor
from dunning.runtime import Runtime
from dunning.store import ImportedObligation

WORKER = Path(__file__).with_name("worker_process.py")
CURRENCIES = ("EUR", "USD", "GBP", "CHF", "SEK")  # a debtor's case per currency: five cases each
DEBTORS = 120
BATCH = 15  # as worker_process.py claims
DAILY_EMAILS = 3  # the default contact rules: at most 3 attempts a day on a medium


def _portfolio(url: str, folder: Path) -> Config:
    config = Config(path=folder / "dunning.toml", policy="trade-receivables", db=folder / "unused.db",
                    enabled_channels=())
    with Runtime(config, db_path=url) as rt:  # type: ignore[arg-type]  # a URL: Store takes it as text
        items = [
            ImportedObligation(debtor=Debtor(id=f"D{d:03}", name=f"Debtor {d}"), contacts=(), reference=f"INV-{d}-{c}",
                               amount=10_000, currency=c, issued_on=None, due_on=dt.date(2026, 3, 1))
            # A debtor's five cases one batch apart (BATCH debtors, then their next currency...): the workers deliver
            # the same debtor's actions at the same time, each from its own batch.
            for block in range(0, DEBTORS, BATCH) for c in CURRENCIES for d in range(block, block + BATCH)
        ]
        rt.store.import_obligations(items, dt.datetime(2026, 2, 1, tzinfo=dt.UTC), dt.date(2026, 2, 1))
    return config


@pytest.mark.parametrize("delivery", ["one-by-one", "rounds"])
def test_four_workers_send_each_message_once_and_hold_every_cap(delivery: str, dunning_postgres_url: str,
                                                                  tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    config = _portfolio(dunning_postgres_url, tmp_path)
    env = {"DUNNING_LOAD_PLUGINS": "", "PATH": ""}
    workers = [subprocess.Popen([sys.executable, str(WORKER), dunning_postgres_url, str(tmp_path), delivery],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) for _ in range(4)]
    # All four open and waiting before any starts: none can drain the portfolio before the others are up.
    deadline = time.monotonic() + 120
    while len(list(tmp_path.glob("ready-*"))) < len(workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    (tmp_path / "go").touch()
    outputs = [w.communicate(timeout=300) for w in workers]
    assert all(w.returncode == 0 for w in workers), outputs
    counts = [tuple(int(x) for x in out.strip().splitlines()[-1].split()) for out, _ in outputs]

    lines = (tmp_path / "sent.log").read_text().splitlines()
    per_key = Counter(line.split()[0] for line in lines)
    per_debtor = Counter(line.split()[1] for line in lines)
    # Every debtor has five cases falling due at once: three emails go today, the cap blocks the other two.
    assert max(per_key.values()) == 1
    assert set(per_debtor.values()) == {DAILY_EMAILS} and len(per_debtor) == DEBTORS
    assert sum(sent for sent, _ in counts) == len(lines) == DEBTORS * DAILY_EMAILS
    # The actions were shared out: more than one worker claimed some.
    assert sum(1 for _, claimed in counts if claimed) > 1, counts

    with Runtime(config, db_path=dunning_postgres_url) as rt:  # type: ignore[arg-type]
        store = rt.store
        kinds = dict(store.conn.execute("SELECT kind, count(*) FROM events GROUP BY kind").fetchall())
        assert kinds["sent"] == len(lines), kinds
        assert kinds["blocked"] == DEBTORS * (len(CURRENCIES) - DAILY_EMAILS)
        rules = {event_codec.data_of(kind, data, case_id, step, channel)["rule"]
                 for kind, data, case_id, step, channel in store.conn.execute(
                     "SELECT kind, data, case_id, step, channel FROM events WHERE kind = 'blocked'")}
        assert rules == {"daily_attempts:email"}
        attempts = store.conn.execute("SELECT debtor_id, count(*) FROM contact_attempts GROUP BY debtor_id").fetchall()
        assert {n for _, n in attempts} == {DAILY_EMAILS}
        seqs = [r[0] for r in store.conn.execute("SELECT seq FROM events ORDER BY seq")]
        assert seqs == list(range(1, len(seqs) + 1))  # one chain: no gap, no fork
        assert chain_walk.walk(store.event_links()).ok
        assert evidence.verify_chain(store.event_rows_for_verify()).ok
        # `dunning verify --full` itself, on the runtime opened here (the global --db takes a file still).
        state = State(None, None, None)
        state._runtime = rt
        with click.Context(verify, obj=state) as ctx:
            ctx.invoke(verify, full=True, against=(), archives=(), public_key=None)
    assert capsys.readouterr().out.startswith(f"ok: {len(seqs)} events, chain intact")
