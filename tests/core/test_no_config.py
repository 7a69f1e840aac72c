"""cron started from $HOME, or a mistyped `db`: refused before anything is created."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from dunning.cli import cli

REFUSED = "no dunning.toml here (pass --config or set DUNNING_CONFIG; `dunning init` writes one)"


def dunning(folder: Path, *args: str) -> tuple[int, str]:
    here = os.getcwd()
    os.chdir(folder)
    try:
        result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    finally:
        os.chdir(here)
    return result.exit_code, result.output


@pytest.mark.parametrize(
    "args",
    [
        ["run"],
        ["cases", "list"],
        ["events"],
        ["approvals"],
        ["verify"],
        ["import", "x.csv"],
        ["in-doubt"],
        ["evidence", "checkpoint"],
        ["simulate", "--days", "3"],
    ],
)
def test_every_command_that_needs_a_config_refuses_without_one_and_creates_nothing(tmp_path: Path, args):
    (tmp_path / "x.csv").write_text("debtor_id\n")
    code, out = dunning(tmp_path, *args)
    assert (code, out.strip()) == (1, f"Error: {REFUSED}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.csv"]


@pytest.mark.parametrize("args, expected", [
    (["plugins"], "dunning.builtin"), (["policy", "show", "trade-receivables"], "name = \"trade-receivables\""),
    (["policy", "show"], "name = \"trade-receivables\""), (["--help"], "Collect overdue debts"),
])
def test_what_needs_no_config_works_without_one(tmp_path: Path, args, expected):
    code, out = dunning(tmp_path, *args)
    assert code == 0 and expected in out
    assert list(tmp_path.iterdir()) == []


def test_init_creates_the_database_and_a_mistyped_db_is_refused(tmp_path: Path):
    code, out = dunning(tmp_path, "init")
    assert code == 0 and "created" in out and (tmp_path / "dunning.db").exists()
    assert dunning(tmp_path, "cases", "list") == (0, "(none)\n")
    config = tmp_path / "dunning.toml"
    config.write_text(config.read_text().replace('db = "dunning.db"', 'db = "duning.db"'))
    code, out = dunning(tmp_path, "run")
    assert code == 1 and f"{tmp_path / 'duning.db'}: no such database" in out
    code, out = dunning(tmp_path, "--db", str(tmp_path / "other.db"), "events")
    assert code == 1 and "other.db: no such database" in out
    assert not (tmp_path / "duning.db").exists() and not (tmp_path / "other.db").exists()


def test_import_create_starts_a_new_database(tmp_path: Path):
    dunning(tmp_path, "init")
    csv = tmp_path / "in.csv"
    csv.write_text("debtor_id,name,reference,amount,currency,due_on\nC1,Acme,INV-1,10.00,EUR,2026-03-01\n")
    new = tmp_path / "second.db"
    assert dunning(tmp_path, "--db", str(new), "import", "--dry-run", str(csv))[0] == 1
    code, _out = dunning(tmp_path, "--db", str(new), "import", "--create", str(csv))
    assert code == 0 and new.exists()
    assert dunning(tmp_path, "--db", str(new), "import", "--create", str(csv))[0] == 0  # already there: no harm
