"""`dunning backtest` on a real database with a history: both policies replayed from the same snapshot."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from dunning.cli import cli
from dunning.plugin_manager import LOAD_ENV
from dunning.policy import preset_text

FROM = "2026-03-06"  # the day after the demo's last run


@pytest.fixture(scope="module")
def portfolio(demo_loans: Path) -> Path:
    return demo_loans  # read only: every replay runs on a copy


@pytest.fixture(autouse=True)
def installed_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(LOAD_ENV, raising=False)  # the portfolio's channels are the installed plugins, as in simulate


def backtest(portfolio: Path, *args: str) -> Any:
    result = CliRunner().invoke(cli, ["--config", str(portfolio / "dunning.toml"), "backtest", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_the_same_seed_gives_the_same_figures_and_the_policies_differ(portfolio: Path) -> None:
    db = portfolio / "dunning.db"
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    args = ["--policy", "consumer-loans", "--policy", "trade-receivables", "--from", FROM, "--days", "20"]
    first = json.loads(backtest(portfolio, *args, "--seed", "5", "--json"))
    again = json.loads(backtest(portfolio, *args, "--seed", "5", "--json"))
    assert first == again
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before  # replays run on copies

    loans, trade = first["policies"]
    assert (loans["policy"], trade["policy"]) == ("consumer-loans", "trade-receivables")
    assert loans["sent"] and trade["sent"] and loans["sent"] != trade["sent"]
    assert "sms" in loans["sent"] and "sms" not in trade["sent"]  # only the loans preset texts
    # Both start from the same open cases, so the open balance is the same.
    assert [r["balance"] for r in loans["recovery"]] == [r["balance"] for r in trade["recovery"]]

    with sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True) as conn:
        contacts = conn.execute("SELECT count(*) FROM events WHERE kind = 'sent' AND channel IS NOT NULL "
                                "AND case_id IS NOT NULL AND at < ?", (FROM + "T00:00:00Z",)).fetchone()[0]
        open_cases = conn.execute("SELECT count(*) FROM cases WHERE status = 'open'").fetchone()[0]
        balances = dict(conn.execute("SELECT currency, sum(balance) FROM cases WHERE status = 'open' "
                                     "GROUP BY currency"))
    model = first["model"]
    assert model["cells"] and sum(c["contacts"] for c in model["cells"]) == contacts
    assert {r["currency"]: r["balance"] for r in loans["recovery"]} == balances
    assert first["cases"] == open_cases
    for run in first["policies"]:
        for rec in run["recovery"]:
            assert 0 <= rec["low"] <= rec["high"] <= rec["balance"]
            assert 0 <= rec["expected"] <= rec["balance"]


def test_a_policy_file_and_the_table_with_the_model_stated(portfolio: Path, tmp_path: Path) -> None:
    # The loans preset without its text messages: the same cases, no sms.
    text = preset_text("consumer-loans")
    quiet = tmp_path / "no-sms.toml"
    quiet.write_text(text.replace('"sms", ', "").replace(', "sms"', "").replace('["sms"]', '["phone"]'),
                     encoding="utf-8")
    out = backtest(portfolio, "--policy", "consumer-loans", "--policy", str(quiet), "--from", FROM,
                   "--days", "20", "--seed", "1")
    lines = out.splitlines()
    header = next(line for line in lines if "consumer-loans" in line and "no-sms.toml" in line)
    assert header.split() == ["consumer-loans", "no-sms.toml"]
    sms = next(line for line in lines if line.strip().startswith("sms "))
    assert int(sms.split()[1]) > 0 and int(sms.split()[2]) == 0
    assert "payment model, fitted on the" in out and "bucket      channel" in out
    assert any(line.startswith("expected recovery ") for line in lines)


def test_a_replay_over_days_already_run_says_so(portfolio: Path) -> None:
    result = CliRunner().invoke(cli, ["--config", str(portfolio / "dunning.toml"), "backtest", "--policy",
                                      "consumer-loans", "--policy", "trade-receivables", "--from", "2026-02-20",
                                      "--days", "2", "--json"])
    assert result.exit_code == 0, result.output
    assert "note: the database has already run to 2026-03-05" in result.stderr
    assert json.loads(result.stdout)["from"] == "2026-02-20"


def test_bad_policies_are_refused_in_one_line(portfolio: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    base = ["--config", str(portfolio / "dunning.toml"), "backtest", "--days", "3", "--from", FROM]
    missing = runner.invoke(cli, [*base, "--policy", "consumer-loans", "--policy", str(tmp_path / "nope.toml")])
    assert missing.exit_code == 1 and "nope.toml: neither a preset" in missing.output
    assert "Traceback" not in missing.output
    one = runner.invoke(cli, [*base, "--policy", "consumer-loans"])
    assert one.exit_code == 1 and "at least twice" in one.output
    broken = tmp_path / "broken.toml"
    broken.write_text("name = [", encoding="utf-8")
    bad = runner.invoke(cli, [*base, "--policy", "consumer-loans", "--policy", str(broken)])
    assert bad.exit_code == 1 and "broken.toml" in bad.output and "not valid TOML" in bad.output
