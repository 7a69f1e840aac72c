"""Killed in the middle of a round of stage changes and notices: the round is undone whole, and done once after.

Stage changes, account locks and the notices no channel carries to a person
go with their round, in one transaction (``dispatch.internal_round``). A
crash inside it (here: in a plugin's ``stage_entered``) leaves nothing of
the round, neither the moves nor their evidence nor the notices recorded
before it in the round; the next run does the round again, and every case
ends moved once, with one ``stage_changed`` event, one plugin event and one
``notice`` per notice action.
"""

from __future__ import annotations

import datetime as dt
import random
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

from dunning.config import Config
from dunning.evidence import verify_chain
from dunning.models import Debtor
from dunning.runtime import Runtime
from dunning.store import ImportedObligation, Store
from dunning.store.database import database_named

SCRIPT = Path(__file__).with_name("stage_round_run.py")
CASES = 300  # odd ones 31 days past due on the run's day (onsite, a notice to the manager), even ones 28
KILLS = 3
RUN_DAY = dt.date(2026, 3, 2)


def _config(folder: Path, database: Path | str) -> Config:
    return Config(path=folder / "dunning.toml", db=database_named(database))


def _import(folder: Path, database: Path | str) -> None:
    with Runtime(_config(folder, database)) as rt:
        items = [
            ImportedObligation(debtor=Debtor(id=f"D{i}", name=f"Debtor {i}"), contacts=(), reference=f"INV-{i}",
                               amount=10_000, currency="EUR", issued_on=None,
                               due_on=RUN_DAY - dt.timedelta(days=31 if i % 2 else 28))
            for i in range(CASES)
        ]
        rt.store.import_obligations(items, dt.datetime(2026, 1, 1, tzinfo=dt.UTC), dt.date(2026, 1, 1))


def _run(folder: Path, database: Path | str, run: int, die_at: int) -> subprocess.CompletedProcess[str]:
    (folder / "run").write_text(str(run))
    return subprocess.run([sys.executable, str(SCRIPT), str(folder), str(die_at), str(database)],
                          capture_output=True, text=True,
                          env={"DUNNING_LOAD_PLUGINS": "", "PATH": ""}, timeout=300)


def _committed(database: Path | str) -> dict[str, Counter[int]]:
    """Per case, as the database holds it: stage changes, the plugin's events, cases onsite, escalations and
    notices recorded as done, and the notice events."""
    store = Store(database)
    conn = store.conn
    try:
        def per_case(sql: str) -> Counter[int]:
            return Counter(case_id for (case_id,) in conn.execute(sql))

        return {
            "stage_changed": per_case("SELECT case_id FROM events WHERE kind = 'stage_changed'"),
            "watched": per_case("SELECT case_id FROM events WHERE kind = 'watcher:watched'"),
            "onsite": per_case("SELECT id FROM cases WHERE stage = 'onsite'"),
            "escalated": per_case("SELECT case_id FROM actions WHERE kind = 'escalate' AND status = 'sent'"),
            "noticed": per_case("SELECT case_id FROM actions WHERE kind = 'notice' AND status = 'sent'"),
            "notice_events": per_case("SELECT case_id FROM events WHERE kind = 'notice'"),
        }
    finally:
        store.close()


def test_a_crash_mid_round_undoes_the_round_whole_and_the_next_run_does_each_move_once(
        tmp_path: Path, dunning_database: Path | str):
    _import(tmp_path, dunning_database)
    rng = random.Random(18)
    undone: dict[int, set[int]] = {}  # per killed run: the cases whose move its plugin saw but the file does not hold
    moved_by: dict[int, set[int]] = {}  # per killed run: the cases the file holds moved when it died
    for run in range(1, KILLS + 1):
        killed = _run(tmp_path, dunning_database, run, die_at=rng.randint(5, 40))
        assert killed.returncode == 9, killed.stderr
        found = _committed(dunning_database)
        # Nothing half-done: a case moved has its one move evidenced, its plugin's event and its action done.
        assert found["stage_changed"] == found["watched"] == found["onsite"] == found["escalated"]
        assert max(found["stage_changed"].values(), default=1) == 1
        assert found["notice_events"] == found["noticed"]
        seen = {int(line.split()[1]) for line in (tmp_path / "stages.log").read_text().splitlines()
                if line.split()[0] == str(run)}
        moved_by[run] = set(found["stage_changed"])
        undone[run] = seen - moved_by[run]
        assert undone[run]  # the move the plugin died in, at least
    # The round is one transaction: some crash undid the moves made before it in the same round.
    assert max(len(cases) for cases in undone.values()) > 1

    done = _run(tmp_path, dunning_database, KILLS + 1, die_at=0)
    assert done.returncode == 0, done.stderr
    found = _committed(dunning_database)
    assert len(found["stage_changed"]) == CASES // 2 and set(found["stage_changed"].values()) == {1}
    assert found["stage_changed"] == found["watched"] == found["onsite"] == found["escalated"]
    # One notice a case: to the manager at 31 days (the supervisor's, at 28, was missed), to the supervisor at 28.
    assert found["notice_events"] == found["noticed"] and len(found["noticed"]) == CASES
    assert set(found["noticed"].values()) == {1}

    # A move the plugin sees again is one no run had committed: nothing moved is moved twice.
    seen_in: dict[int, list[int]] = defaultdict(list)
    for line in (tmp_path / "stages.log").read_text().splitlines():
        run_text, case_text = line.split()
        seen_in[int(run_text)].append(int(case_text))
    for run in range(1, KILLS + 1):
        assert not set(seen_in[run + 1]) & moved_by[run]
    with Runtime(_config(tmp_path, dunning_database)) as rt:
        assert verify_chain(rt.store.event_rows_for_verify()).ok
