"""Two dispatchers racing on one database: every action planned once and sent once."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections import Counter
from pathlib import Path

from dunning.config import Config
from dunning.runtime import Runtime
from dunning.store import ImportedObligation
from dunning.store.database import database_named
from dunning.models import Debtor

PROVIDER_RUN = Path(__file__).with_name("provider_run.py")


def test_two_racing_runs_plan_and_send_each_action_once(tmp_path: Path, dunning_database: Path | str):
    config = Config(path=tmp_path / "dunning.toml", db=database_named(dunning_database))
    with Runtime(config) as rt:
        items = [
            ImportedObligation(debtor=Debtor(id=f"D{i}", name=f"Debtor {i}"), contacts=(), reference=f"INV-{i}",
                               amount=10_000, currency="EUR", issued_on=None, due_on=dt.date(2026, 3, 1))
            for i in range(600)
        ]
        rt.store.import_obligations(items, dt.datetime(2026, 2, 1, tzinfo=dt.UTC), dt.date(2026, 2, 1))
    env = {"DUNNING_LOAD_PLUGINS": "", "PATH": ""}
    racers = [subprocess.Popen([sys.executable, str(PROVIDER_RUN), str(tmp_path), "race", str(dunning_database)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) for _ in range(2)]
    (tmp_path / "go").touch()
    outputs = [r.communicate(timeout=120) for r in racers]
    assert all(r.returncode == 0 for r in racers), outputs
    totals = [tuple(int(x) for x in out.strip().splitlines()[-1].split()) for out, _ in outputs]
    # 600 cases at DPD 1: an email and a phone action each; phone is not enabled.
    assert sum(planned for planned, _ in totals) == 1200, totals
    assert sum(sent for _, sent in totals) == 600
    keys = (tmp_path / "provider.log").read_text().splitlines()
    assert len(keys) == 600 and max(Counter(keys).values()) == 1
    with Runtime(config) as rt:
        assert len(rt.store.events(kind="sent")) == 600
        from dunning.evidence import verify_chain

        assert verify_chain(rt.store.event_rows_for_verify()).ok
