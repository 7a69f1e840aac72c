"""Champion and challenger: the assignment (pure), the config's refusals, and cases running their strategy's policy."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from dunning.cli import cli
from dunning.config import load_config
from dunning.plugin_manager import LOAD_ENV
from dunning.policy import load_policy
from dunning.runtime import Runtime
from dunning.strategy_assign import assign_strategies
from dunning.strategies import PLACES, Strategy, assign, assignment_data, place, salt_hash
from tests.conftest import Project, dump


CHAMPION = Strategy("champion", "trade-receivables", 80)
CHALLENGER = Strategy("challenger", "consumer-loans", 20)


# --- the assignment, without a database -------------------------------------------------------


def test_ten_thousand_cases_split_80_20_within_two_points():
    counts = Counter(assign(case_id, [CHAMPION, CHALLENGER], "trial-1").name for case_id in range(1, 10_001))
    assert counts["champion"] + counts["challenger"] == 10_000
    assert 0.78 <= counts["champion"] / 10_000 <= 0.82
    assert 0.18 <= counts["challenger"] / 10_000 <= 0.22


def test_three_ways_and_another_salt_also_split_as_the_shares_say():
    strategies = [Strategy("a", "trade-receivables", 50), Strategy("b", "consumer-loans", 30),
                  Strategy("c", "consumer-loans", 20)]
    counts = Counter(assign(case_id, strategies, "2027").name for case_id in range(1, 10_001))
    assert [round(counts[name] / 100) for name in "abc"] in ([50, 30, 20], [49, 30, 20], [50, 29, 20],
                                                              [50, 30, 21], [51, 30, 20], [50, 31, 20],
                                                              [50, 30, 19], [49, 31, 20], [51, 29, 20])
    assert all(abs(counts[s.name] / 10_000 - s.share / 100) <= 0.02 for s in strategies)


def test_the_assignment_is_deterministic_and_depends_on_the_salt():
    first = [assign(case_id, [CHAMPION, CHALLENGER], "q4").name for case_id in range(1, 1001)]
    again = [assign(case_id, [CHAMPION, CHALLENGER], "q4").name for case_id in range(1, 1001)]
    other = [assign(case_id, [CHAMPION, CHALLENGER], "q1").name for case_id in range(1, 1001)]
    assert first == again
    assert first != other
    # A place is the same number wherever it is worked out (SHA-256, not Python's per-process hash).
    assert place(1, "") == int.from_bytes(__import__("hashlib").sha256(b"\x001").digest()[:8], "big") % PLACES
    # Places below 8,000 are the champion's, the rest the challenger's.
    assert all((place(case_id, "q4") < 8000) == (name == "champion") for case_id, name in enumerate(first, 1))


def test_a_share_of_100_takes_every_case_and_the_event_data_names_the_salt_by_its_hash():
    only = Strategy("only", "consumer-loans", 100)
    assert {assign(case_id, [only], "s").name for case_id in range(1, 500)} == {"only"}
    assert assignment_data(CHALLENGER, "q4") == {"strategy": "challenger", "policy": "consumer-loans", "share": 20,
                                                 "salt_hash": salt_hash("q4")}
    assert salt_hash("q4") != salt_hash("q5") and len(salt_hash("q4")) == 16
    with pytest.raises(ValueError, match="no strategies"):
        assign(1, [], "")


# --- dunning.toml ------------------------------------------------------------------------------

BASE = 'policy = "trade-receivables"\ndb = "dunning.db"\ntimezone = "UTC"\n{top}\n[channels]\nenabled = []\n'


def strategies_toml(*tables: tuple[str, str, Any], salt: str | None = "trial-1") -> str:
    top = f'strategy_salt = "{salt}"\n' if salt is not None else ""
    text = BASE.format(top=top)
    for name, policy, share in tables:
        text += f'\n[[strategies]]\nname = "{name}"\npolicy = "{policy}"\nshare = {share}\n'
    return text


def configure(project: Project, text: str) -> None:
    if project.on_postgres:  # the project's own database, where strategies_toml names the folder's file
        text = text.replace('db = "dunning.db"', f'db = "{project.database}"', 1)
    project.config.write_text(text + '\n[notify]\nsupervisor = "sam@example.com"\nmanager = "morgan@example.com"\n'
                              'general_manager = "gale@example.com"\n', encoding="utf-8")


@pytest.mark.parametrize(("tables", "message"), [
    ((("champion", "trade-receivables", 80), ("challenger", "consumer-loans", 30)),
     "'strategies' shares must add up to 100, got 110"),
    ((("champion", "trade-receivables", 100), ("challenger", "consumer-loans", 0)),
     "'strategies[1].share' must be a whole number of per cent from 1 to 100, got 0"),
    ((("champion", "trade-receivables", 80), ("challenger", "consumer-loans", '"20"')),
     "'strategies[1].share' must be a whole number of per cent from 1 to 100, got '20'"),
    ((("champion", "trade-receivables", 80), ("champion", "consumer-loans", 20)),
     "'strategies[1].name' names strategy 'champion' twice"),
    ((("champ ion", "trade-receivables", 100),),
     "'strategies[0].name' must be a name of letters, digits, '.', '-' or '_', such as \"champion\", got 'champ ion'"),
    ((("champion", "trade-receivables", 80), ("challenger", "no-such-policy", 20)),
     "'strategies[1].policy': 'no-such-policy' is neither a preset (trade-receivables, consumer-loans) nor an "
     "existing policy file"),
])
def test_a_bad_strategy_is_one_line_naming_the_key_and_changes_nothing(project: Project, tables: Any, message: str):
    before = dump(project)
    configure(project, strategies_toml(*tables))
    result = project("cases", "list", expect=1)
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert dump(project) == before


def test_an_unknown_key_in_a_strategy_is_named(project: Project):
    configure(project, strategies_toml(("champion", "trade-receivables", 100)) + "colour = 1\n")
    result = project("cases", "list", expect=1)
    assert "unknown key 'strategies[0].colour' (allowed here: name, policy, share)" in result.output


# --- cases assigned, and running their strategy's policy -----------------------------------------


def import_cases(project: Project, first: int, last: int, now: str) -> None:
    rows = [{"debtor_id": f"D{i}", "name": f"Debtor {i} Ltd", "kind": "company", "country": "GB",
             "email": f"ap{i}@example.com", "reference": f"INV-{i}", "amount": "100.00", "currency": "EUR",
             "issued_on": "2026-01-01", "due_on": "2026-02-01"} for i in range(first, last + 1)]
    path = project.folder / f"debts-{first}.json"
    path.write_text(json.dumps(rows), encoding="utf-8")
    project("import", str(path), now=now)


def listed(project: Project, *args: str) -> dict[int, str | None]:
    return {r["id"]: r["strategy"] for r in json.loads(project("cases", "list", "--json", *args).stdout)}


def assigned_events(project: Project) -> list[dict[str, Any]]:
    return json.loads(project("events", "--kind", "strategy_assigned", "--json").stdout)


def test_cases_are_assigned_once_and_run_under_their_strategys_policy(project: Project):
    configure(project, strategies_toml(("champion", "trade-receivables", 80), ("challenger", "consumer-loans", 20)))
    import_cases(project, 1, 40, "2026-02-01T09:00:00Z")
    expected = {case_id: assign(case_id, [CHAMPION, CHALLENGER], "trial-1").name for case_id in range(1, 41)}
    assert set(expected.values()) == {"champion", "challenger"}
    # Assigned on import: each case once, with its event.
    assert listed(project) == expected
    events = assigned_events(project)
    assert sorted(e["case_id"] for e in events) == list(range(1, 41))
    assert {e["case_id"]: e["data"]["strategy"] for e in events} == expected
    assert {(e["data"]["policy"], e["data"]["share"]) for e in events if e["data"]["strategy"] == "challenger"} == {
        ("consumer-loans", 20)}
    assert {e["data"]["salt_hash"] for e in events} == {salt_hash("trial-1")}
    challengers = {case_id for case_id, name in expected.items() if name == "challenger"}
    assert set(listed(project, "--strategy", "challenger")) == challengers
    assert "strategy" in project("cases", "list").stdout.splitlines()[0]
    shown = project("cases", "show", str(min(challengers))).stdout
    assert "  strategy challenger (policy consumer-loans)" in shown

    project("run", now="2026-02-02T09:00:00Z")  # one day past due
    steps = {name: {s.name for s in load_policy(policy).steps}
             for name, policy in (("champion", "trade-receivables"), ("challenger", "consumer-loans"))}
    planned: Counter[str] = Counter()
    for action in _actions(project):
        strategy = expected[action["case_id"]]
        assert action["step"] in steps[strategy], (strategy, action["step"])
        planned[strategy] += action["step"] not in steps["champion" if strategy == "challenger" else "challenger"]
    # Each strategy planned steps only its own policy has.
    assert planned["champion"] > 0 and planned["challenger"] > 0

    # The shares change: the cases keep their strategy, and no new assignment is written for them.
    configure(project, strategies_toml(("champion", "trade-receivables", 10), ("challenger", "consumer-loans", 90)))
    project("run", now="2026-03-20T09:00:00Z")
    assert listed(project) == expected
    assert len(assigned_events(project)) == 40
    # New cases are assigned under the new shares.
    import_cases(project, 41, 60, "2026-03-21T09:00:00Z")
    later = {case_id: assign(case_id, [Strategy("champion", "trade-receivables", 10),
                                       Strategy("challenger", "consumer-loans", 90)], "trial-1").name
             for case_id in range(41, 61)}
    assert listed(project) == expected | later
    assert len(assigned_events(project)) == 60


def _actions(project: Project) -> list[dict[str, Any]]:
    """The planned actions' cases and steps, read from the database."""
    return [{"case_id": case_id, "step": step} for case_id, step in project.sql(
        "SELECT case_id, step FROM actions WHERE kind != 'escalate'")]


def test_open_cases_from_before_the_strategies_are_assigned_at_the_next_run(project: Project):
    import_cases(project, 1, 6, "2026-02-01T09:00:00Z")
    project("run", now="2026-02-10T09:00:00Z")
    assert set(listed(project).values()) == {None}
    assert "strategy" not in project("cases", "list").stdout.splitlines()[0]
    assert assigned_events(project) == []
    configure(project, strategies_toml(("champion", "trade-receivables", 50), ("challenger", "consumer-loans", 50)))
    project("run", now="2026-02-11T09:00:00Z")
    halves = [Strategy("champion", "trade-receivables", 50), Strategy("challenger", "consumer-loans", 50)]
    assert listed(project) == {case_id: assign(case_id, halves, "trial-1").name for case_id in range(1, 7)}
    assert len(assigned_events(project)) == 6


def test_without_strategies_nothing_is_assigned(project: Project):
    import_cases(project, 1, 5, "2026-02-01T09:00:00Z")
    project("run", now="2026-03-10T09:00:00Z")
    assert set(listed(project).values()) == {None}
    assert assigned_events(project) == []
    assert listed(project, "--strategy", "champion") == {}


def _loans_in_two_strategies(demo_loans: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the demo loans with half the cases under consumer-loans, half under trade-receivables."""
    monkeypatch.delenv(LOAD_ENV, raising=False)  # the portfolio's channels are the installed plugins
    folder = tmp_path / "loans"
    shutil.copytree(demo_loans, folder)
    config_path = folder / "dunning.toml"
    config_path.write_text(config_path.read_text(encoding="utf-8") + '\n[[strategies]]\nname = "champion"\n'
                           'policy = "consumer-loans"\nshare = 50\n\n[[strategies]]\nname = "challenger"\n'
                           'policy = "trade-receivables"\nshare = 50\n', encoding="utf-8")
    return config_path


def test_a_backtest_replays_each_policy_over_every_case_whatever_its_strategy(
        demo_loans: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config_path = _loans_in_two_strategies(demo_loans, tmp_path, monkeypatch)
    with Runtime(load_config(config_path, required=True)) as rt:
        assert assign_strategies(rt, dt.datetime(2026, 3, 5, 18, tzinfo=dt.UTC)) > 0
        assert set(rt.store.strategy_names()) == {"champion", "challenger"}

    def figures(config: Path) -> Any:
        result = CliRunner().invoke(cli, ["--config", str(config), "backtest", "--policy", "consumer-loans",
                                          "--policy", "trade-receivables", "--from", "2026-03-06", "--days", "10",
                                          "--seed", "3", "--json"])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)["policies"]

    # The same figures as on the portfolio without strategies: each replay runs its one policy on every case.
    assert figures(config_path) == figures(demo_loans / "dunning.toml")


def test_plugins_see_the_policy_each_case_runs_under(demo_loans: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Call scripts, visit sheets and staff notices word a case by its strategy's policy, not the config's."""
    from dunning.plugin_context import PluginContext

    config_path = _loans_in_two_strategies(demo_loans, tmp_path, monkeypatch)
    with Runtime(load_config(config_path, required=True)) as rt:
        assign_strategies(rt, dt.datetime(2026, 3, 5, 18, tzinfo=dt.UTC))
        context = PluginContext(rt)
        kinds: dict[str | None, set[str]] = {}
        for page in rt.store.case_pages(status="open"):
            for case in page:
                kinds.setdefault(case.strategy, set()).add(context.policy_for(case).debt_kind)
                assert context.policy_for(case) is rt.policy_for(case)
        # The config's policy is consumer-loans (loans); the challenger's cases are worded as invoices.
        assert kinds == {"champion": {"loan"}, "challenger": {"invoice"}}
        assert context.policy.debt_kind == "loan"
