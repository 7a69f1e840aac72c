"""``cases list --json`` streams: 200,000 cases printed under a memory limit a whole-answer listing exceeds.

The database comes from bench/dispatch.py's generator (bulk ``executemany``, a few seconds). Before listings
streamed, ``cases list --json`` over it peaked at 1.19 GB resident (34 s); streaming, about 45 MB. The limit
is on the address space (RLIMIT_AS, set in the child before it starts), so the child dies with a MemoryError
rather than the machine swapping.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CASES = 200_000
LIMIT_BYTES = 256 * 2**20  # the interpreter, the libraries and SQLite's cache fit in about 150 MB
DUNNING = [sys.executable, "-c", "from dunning.cli import cli; cli(prog_name='dunning')"]


def _cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT_BYTES, LIMIT_BYTES))


@pytest.fixture(scope="module")
def portfolio(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("listings")
    db = folder / "dunning.db"
    # In a child: the bench module keeps installed plugins out of its own process (DUNNING_LOAD_PLUGINS).
    subprocess.run([sys.executable, "-c", "import sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]); "
                    "import dispatch; dispatch.generate(Path(sys.argv[2]), int(sys.argv[3]))",
                    str(ROOT / "bench"), str(db), str(CASES)], check=True, timeout=120)
    subprocess.run([*DUNNING, "init"], cwd=folder, check=True, capture_output=True,
                   timeout=60)
    return db


def test_cases_list_json_streams_200000_cases_under_a_memory_limit(portfolio: Path) -> None:
    out = portfolio.parent / "cases.json"
    env = {k: v for k, v in os.environ.items() if k != "DUNNING_CONFIG"}
    with out.open("w") as sink:
        done = subprocess.run([*DUNNING, "--db", str(portfolio),
                               "--now", "2026-03-02T09:00", "cases", "list", "--json"],
                              cwd=portfolio.parent, env=env, stdout=sink, stderr=subprocess.PIPE, text=True,
                              preexec_fn=_cap_memory, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    with out.open() as f:
        cases = json.load(f)
    assert len(cases) == CASES
    assert [cases[0]["id"], cases[-1]["id"]] == [1, CASES]
    # What every case owes on day 1 past due, and its priority from the page's facts (never paid, no phone).
    first = cases[0]
    assert (first["overdue_minor"], first["not_yet_due_minor"], first["dpd"], first["debtor_name"]) == (
        first["balance_minor"], 0, 1, "Customer 1 Ltd")
    assert first["priority"] > 30  # a first payment missed and no number to call both count
