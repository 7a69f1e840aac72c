"""Litigation through the CLI: time-barred debts, the threshold, approval, matters and milestones, claim tasks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import ChannelsPlugin, Project, row, write_csv
from tests.plugins.test_agency_fixtures import use_plugins


# The lawyer's letter (required, so a case imported late still gets it)
# on day 15, litigation on day 20. The policy asks for no approval: the
# legal plugin does.
LEGAL_POLICY = """
name = "legal-test"

[stages.litigation]
entry_dpd = 20

[[steps]]
name = "lawyers-letter"
dpd = 15
channels = ["letter"]
template = "lawyers-letter"
required = true
"""

LEGAL = """
[channels.legal]
firm_name = "Castle & Reed LLP"
firm_address = "9 Temple Row\\nBirmingham B2 5LG"
lawyer = "Dana Reed"
min_balance = "1000.00"
default_jurisdiction = "GB"

[channels.legal.jurisdictions.DE]
limitation_years = 10

[plugins]
# Only this plugin's rules: the built-in compliance rules have a time-bar rule of their own.
disabled = ["dunning.compliance"]
"""

IMPORTED = "2026-03-09T08:00:00+00:00"
FIRST_RUN = "2026-03-10T09:00:00+00:00"
SECOND_RUN = "2026-03-11T09:00:00+00:00"


@pytest.fixture
def legal_project(project: Project, register_plugin: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    use_plugins(monkeypatch, "legal")
    project.letter = register_plugin(ChannelsPlugin("letter")).channels["letter"]  # type: ignore[attr-defined]
    (project.folder / "policy.toml").write_text(LEGAL_POLICY, encoding="utf-8")
    project.write_config(policy="policy.toml", enabled=["letter", "legal"], extra=LEGAL)
    yield project


def _cases(project: Project) -> dict[str, int]:
    path = write_csv(project.folder / "cases.csv", [
        row("OLD", "INV-O1", "5000.00", "2022-03-01", issued_on="2022-02-01"),  # GB: time-barred since 2025-03-01
        row("OLD-DE", "INV-D1", "5000.00", "2022-03-01", issued_on="2022-02-01", country="DE"),  # ten years in Germany
        # barred from 2026-01-01, unless acknowledged
        row("ACK", "INV-K1", "4000.00", "2023-01-01", issued_on="2022-12-01"),
        row("SMALL", "INV-S1", "500.00", "2026-02-01"),  # below the litigation minimum
        row("FRESH", "INV-F1", "3000.00", "2026-02-01"),
    ])
    project("import", str(path), now=IMPORTED)
    return {c["debtor_id"]: c["id"] for c in json.loads(project("cases", "list", "--json").stdout)}


def _events(project: Project, case_id: int, kind: str) -> list[dict[str, Any]]:
    return json.loads(project("events", "--case", str(case_id), "--kind", kind, "--json").stdout)


def _stage(project: Project, case_id: int) -> str:
    return json.loads(project("cases", "show", str(case_id), "--json").stdout)["stage"]


def test_a_time_barred_case_gets_no_threat_and_never_reaches_litigation(legal_project: Project) -> None:
    ids = _cases(legal_project)
    # A written acknowledgement on 2025-06-01 restarted ACK's period before it ran out.
    legal_project("legal", "acknowledge", str(ids["ACK"]), "--date", "2025-06-01", "--note", "signed statement",
                  now=IMPORTED)
    legal_project("run", "--now", FIRST_RUN)

    # The lawyer's letter: blocked for the time-barred debt, sent to the others.
    letter = legal_project.letter  # type: ignore[attr-defined]
    assert sorted(case for _, case, _ in letter.sent) == sorted(ids[d] for d in ("OLD-DE", "ACK", "SMALL", "FRESH"))
    blocked = _events(legal_project, ids["OLD"], "blocked")[0]
    assert (blocked["step"], blocked["data"]["rule"]) == ("lawyers-letter", "legal:time-barred")
    assert blocked["data"]["reason"] == ("the debt became time-barred on 2025-03-01 (3-year limitation in GB); "
                                         "no letter may threaten legal action (lawyers-letter)")

    # Litigation: the time-barred case and the small one are refused; the others wait for approval.
    waiting = {a["case_id"]: a for a in json.loads(legal_project("approvals", "--json").stdout)}
    assert set(waiting) == {ids["OLD-DE"], ids["ACK"], ids["FRESH"]}
    old_blocks = [(e["step"], e["data"]["rule"]) for e in _events(legal_project, ids["OLD"], "blocked")]
    assert old_blocks == [("lawyers-letter", "legal:time-barred"), ("enter-litigation", "legal:time-barred")]
    assert [e["data"]["rule"] for e in _events(legal_project, ids["SMALL"], "blocked")] == ["legal:min-balance"]
    assert {e["data"]["rule"] for e in _events(legal_project, ids["FRESH"], "approval_requested")} == {"legal:approval"}

    for action in waiting.values():
        legal_project("approve", str(action["id"]), "--by", "Jo Director", now=FIRST_RUN)
    legal_project("run", "--now", SECOND_RUN)
    assert {d: _stage(legal_project, ids[d]) for d in ids} == {
        "OLD": "internal", "OLD-DE": "litigation", "ACK": "litigation", "SMALL": "internal", "FRESH": "litigation"}

    # By hand neither: the rule names itself; an acknowledgement after the bar revives nothing.
    result = legal_project("escalate", str(ids["OLD"]), "--to", "litigation", "--reason", "try anyway", expect=1)
    assert "refused by rule legal:time-barred: the debt became time-barred on 2025-03-01" in result.output
    legal_project("legal", "acknowledge", str(ids["OLD"]), "--date", "2026-03-10", now=SECOND_RUN)
    legal_project("escalate", str(ids["OLD"]), "--to", "litigation", "--reason", "try anyway", expect=1)
    limitation = json.loads(legal_project("legal", "limitation", str(ids["OLD"]), "--json", now=SECOND_RUN).stdout)
    assert limitation | {"case_id": 0} == {"case_id": 0, "jurisdiction": "GB", "years": 3,
                                           "restarted_by": ["payment", "acknowledgement"], "starts_on": "2022-03-01",
                                           "restart": None, "time_barred_on": "2025-03-01", "time_barred": True}
    ack = json.loads(legal_project("legal", "limitation", str(ids["ACK"]), "--json", now=SECOND_RUN).stdout)
    assert (ack["restart"], ack["time_barred_on"], ack["time_barred"]) == ("acknowledgement", "2028-06-01", False)
    assert (
        "time-barred since 2025-03-01" in legal_project("legal", "limitation", str(ids["OLD"]), now=SECOND_RUN).stdout
    )


def test_an_acknowledgement_counts_for_the_built_in_rules_too(legal_project: Project) -> None:
    # The built-in compliance rules on, with their own three-year time bar.
    legal_project.write_config(policy="policy.toml", enabled=["letter", "legal"],
                               extra=LEGAL.split("[plugins]")[0])
    ids = _cases(legal_project)
    legal_project("legal", "acknowledge", str(ids["ACK"]), "--date", "2025-06-01", now=IMPORTED)
    legal_project("run", "--now", FIRST_RUN)
    letter = legal_project.letter  # type: ignore[attr-defined]
    assert ids["ACK"] in {case for _, case, _ in letter.sent}
    assert _events(legal_project, ids["ACK"], "blocked") == []
    assert ids["OLD"] not in {case for _, case, _ in letter.sent}


def test_matters_milestones_and_costs(legal_project: Project) -> None:
    ids = _cases(legal_project)
    legal_project("run", "--now", FIRST_RUN)
    fresh = str(ids["FRESH"])
    [action] = [a for a in json.loads(legal_project("approvals", "--json").stdout) if a["case_id"] == ids["FRESH"]]
    legal_project("approve", str(action["id"]), "--by", "Jo Director", now=FIRST_RUN)
    legal_project("run", "--now", SECOND_RUN)
    [opened] = _events(legal_project, ids["FRESH"], "legal:matter_opened")
    assert opened["data"]["firm"] == "Castle & Reed LLP" and opened["data"]["lawyer"] == "Dana Reed"

    log = ["legal", "log", fresh, "--milestone"]
    assert "judgment needs filed first" in legal_project(*log, "judgment", "--amount", "3000.00", expect=1,
                                                         now=SECOND_RUN).output
    assert "is in the future" in legal_project(*log, "filed", "--date", "2026-04-01", expect=1, now=SECOND_RUN).output
    legal_project(
        *log,
        "filed",
        "--date",
        "2026-03-11",
        "--court",
        "Birmingham County Court",
        "--case-number",
        "K1BM42",
        "--cost",
        "455.00",
        now=SECOND_RUN,
    )
    legal_project(*log, "cost", "--cost", "1,200.00", "--note", "counsel's fee", now=SECOND_RUN)
    legal_project(*log, "judgment", "--date", "2026-03-11", "--amount", "3455.00", now=SECOND_RUN)
    legal_project(*log, "closed", "--note", "judgment paid", now=SECOND_RUN)
    assert "the matter is closed" in legal_project(*log, "enforcement", expect=1, now=SECOND_RUN).output
    assert "has no legal matter" in legal_project("legal", "log", str(ids["SMALL"]), "--milestone", "filed",
                                                  expect=1, now=SECOND_RUN).output

    shown = json.loads(legal_project("legal", "show", fresh, "--json", now=SECOND_RUN).stdout)
    matter = shown["matter"]
    assert (matter["status"], matter["court"], matter["case_number"], matter["awarded"], matter["costs"]) == (
        "closed", "Birmingham County Court", "K1BM42", "3455.00", "1655.00")
    assert [m["milestone"] for m in matter["milestones"]] == ["filed", "cost", "judgment", "closed"]
    assert [e["data"]["milestone"] for e in _events(legal_project, ids["FRESH"], "legal:milestone")] == [
        "filed", "cost", "judgment", "closed"]
    listed = json.loads(legal_project("legal", "list", "--json", now=SECOND_RUN).stdout)
    assert [m["case_id"] for m in listed] == [ids["FRESH"]]
    assert json.loads(legal_project("legal", "list", "--open", "--json", now=SECOND_RUN).stdout) == []
    table = legal_project("legal", now=SECOND_RUN).stdout
    assert "Castle & Reed LLP" in table and "K1BM42" in table and "closed 2026-03-11" in table
    assert "case number K1BM42" in legal_project("legal", "show", fresh, now=SECOND_RUN).stdout


def test_a_bankruptcy_signal_opens_one_file_claim_task(legal_project: Project) -> None:
    ids = _cases(legal_project)
    legal_project("signal", str(ids["FRESH"]), "--kind", "relocation", now=FIRST_RUN)
    legal_project("signal", str(ids["FRESH"]), "--kind", "bankruptcy", "--note", "administrators appointed",
                  "--source", "credit bureau", now=FIRST_RUN)
    first = json.loads(legal_project("legal", "tasks", "--json", now=FIRST_RUN).stdout)
    again = json.loads(legal_project("legal", "tasks", "--json", now=FIRST_RUN).stdout)
    assert first == again and len(first) == 1
    [task] = first
    assert (task["case_id"], task["kind"], task["status"]) == (ids["FRESH"], "file_claim", "open")
    assert task["note"] == "bankruptcy reported by credit bureau: administrators appointed"
    assert task["opened_at"] == "2026-03-10T09:00:00Z"
    [signal] = _events(legal_project, ids["FRESH"], "signal")[1:]
    assert task["signal_event"] == signal["seq"]

    legal_project("legal", "done", str(task["id"]), "--by", "Lee", "--note", "claim filed, ref BK-77", now=SECOND_RUN)
    assert json.loads(legal_project("legal", "tasks", "--json").stdout) == []
    [done] = json.loads(legal_project("legal", "tasks", "--all", "--json").stdout)
    assert (done["status"], done["done_by"]) == ("done", "Lee")
    assert _events(legal_project, ids["FRESH"], "legal:task_done")[0]["data"]["note"] == "claim filed, ref BK-77"
    assert "already done" in legal_project("legal", "done", str(task["id"]), "--by", "Lee", expect=1).output


def test_bad_legal_settings_and_a_disabled_channel_are_reported(legal_project: Project) -> None:
    legal_project.write_config(policy="policy.toml", enabled=["letter", "legal"],
                               extra=LEGAL.replace("limitation_years = 10", "limitation_years = 0"))
    result = legal_project("legal", expect=1)
    assert "channels.legal: 'jurisdictions.DE.limitation_years' must be a whole number of years" in result.output
    legal_project.write_config(policy="policy.toml", enabled=["letter"])
    assert 'add "legal" to [channels] enabled' in legal_project("legal", "tasks", expect=1).output


@pytest.mark.parametrize("command", [["legal"], ["legal", "list"], ["legal", "show"], ["legal", "log"],
                                     ["legal", "acknowledge"], ["legal", "limitation"], ["legal", "bundle"],
                                     ["legal", "tasks"], ["legal", "done"]])
def test_every_legal_command_has_help(legal_project: Project, command: list[str]) -> None:
    out = legal_project(*command, "--help").stdout
    assert "Usage:" in out and len(out.splitlines()) > 4


def test_a_run_opens_the_file_claim_task_by_itself(legal_project: Project) -> None:
    ids = _cases(legal_project)
    legal_project("signal", str(ids["FRESH"]), "--kind", "bankruptcy", now=FIRST_RUN)
    assert legal_project.sql("SELECT count(*) FROM legal_tasks") == [(0,)]  # nobody has looked yet
    legal_project("run", "--now", SECOND_RUN)
    rows = legal_project.sql("SELECT case_id, kind, status FROM legal_tasks")
    assert rows == [(ids["FRESH"], "file_claim", "open")]
