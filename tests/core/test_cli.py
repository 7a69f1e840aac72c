"""The CLI as an operator meets it: clear errors, exit codes, and a store left as it was."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from dunning.cli import cli
from tests.conftest import ChannelsPlugin, Project, dump, row, write_csv



def _import(project: Project, *rows: dict[str, str]) -> None:
    project("import", str(write_csv(project.folder / "in.csv", list(rows or [row()]))), now="2026-02-20T08:00:00Z")


def test_every_command_has_help():
    runner = CliRunner()

    def walk(group, path):
        for name, command in group.commands.items():
            result = runner.invoke(cli, [*path, name, "--help"])
            assert result.exit_code == 0, (path, name, result.output)
            assert command.help or command.short_help, f"{' '.join([*path, name])} has no help text"
            if hasattr(command, "commands"):
                walk(command, [*path, name])

    walk(cli, [])


def test_init_writes_a_config_that_loads_and_refuses_to_overwrite(tmp_path: Path):
    config = tmp_path / "dunning.toml"
    runner = CliRunner()
    first = runner.invoke(cli, ["--config", str(config), "init", "--policy", "consumer-loans"])
    assert first.exit_code == 0, first.output
    assert 'policy = "consumer-loans"' in config.read_text()
    assert runner.invoke(cli, ["--config", str(config), "cases", "list", "--json"]).stdout.strip() == "[]"
    second = runner.invoke(cli, ["--config", str(config), "init"])
    assert second.exit_code == 1 and "already exists" in second.output


def test_an_unknown_config_key_is_named(project: Project):
    project.write_config(extra="[delivery]\nmax_attempt = 3\n")
    result = project("cases", "list", expect=1)
    assert f"{project.config}: unknown key 'delivery.max_attempt'" in result.output


def test_enabling_a_channel_no_plugin_provides_is_an_error(project: Project):
    project.write_config(enabled=["carrier-pigeon"])
    result = project("run", expect=1)
    assert "'channels.enabled' lists 'carrier-pigeon', but no installed plugin provides it" in result.output


def test_a_missing_named_config_file_is_an_error(tmp_path: Path):
    result = CliRunner().invoke(cli, ["--config", str(tmp_path / "nope.toml"), "cases", "list"])
    assert result.exit_code == 1 and "no such config file" in result.output


def test_policy_check_names_an_unknown_channel(project: Project):
    policy = project.folder / "policy.toml"
    policy.write_text('name = "p"\n[[steps]]\nname = "first"\ndpd = 1\nchannels = ["emial"]\ntemplate = "t"\n')
    result = project("policy", "check", str(policy), expect=1)
    assert f"{policy}: step 'first': unknown channel 'emial'" in result.output
    policy.write_text('name = "p"\n[[steps]]\nname = "first"\ndpd = 1\nchannels = ["email"]\ntemplate = "t"\n')
    ok = project("policy", "check", str(policy))
    assert "ok:" in ok.stdout and "channel 'email' is not enabled" in ok.output


def test_a_config_naming_a_bad_policy_fails_before_writing(project: Project):
    policy = project.folder / "policy.toml"
    policy.write_text('name = "p"\n[[steps]]\nname = "first"\ndpd = 1\nchannels = ["fax"]\ntemplate = "t"\n')
    project.write_config(policy="policy.toml")
    result = project("import", str(write_csv(project.folder / "in.csv", [row()])), expect=1)
    assert "step 'first': unknown channel 'fax'" in result.output
    assert project.sql("SELECT count(*) FROM cases") == [(0,)]


def test_unknown_case_ids_are_clear_errors_and_change_nothing(project: Project):
    _import(project)
    before = dump(project)
    for args in (["cases", "show", "99"], ["pay", "99", "10.00"], ["hold", "99", "--reason", "dispute"],
                 ["release", "99"], ["escalate", "99", "--to", "agency", "--reason", "x"],
                 ["resolve", "99", "--as", "settled"], ["approve", "99", "--by", "me"], ["events", "--case", "99"]):
        result = project(*args, expect=1)
        assert "no case with id 99" in result.output or "no action with id 99" in result.output, args
    assert project("cases", "show", "abc", expect=1).output.strip() == "Error: case id must be a number, got 'abc'"
    assert dump(project) == before


def test_operator_commands_refuse_bad_amounts(project: Project):
    _import(project)
    assert "must be positive" in project("pay", "1", "0.00", expect=1).output
    assert "not an amount" in project("pay", "1", "12,34", expect=1).output
    project("pay", "1", "200.00", "--reference", "TX-1", now="2026-03-03T10:00:00Z")
    assert "already recorded" in project("pay", "1", "1.00", "--reference", "TX-1", expect=1).output
    assert "in the future" in project("promise", "1", "10.00", "--due", "2026-03-01T10:00:00Z",
                                      now="2026-03-03T10:00:00Z", expect=1).output


def test_cases_show_escalate_resolve(project: Project):
    _import(project, row("C1", "INV-1"), row("C1", "INV-2", "300.00", "2026-04-01"))
    shown = json.loads(project("cases", "show", "1", "--json", now="2026-03-11T09:00:00Z").stdout)
    assert shown["dpd"] == 10 and [o["reference"] for o in shown["obligations"]] == ["INV-1", "INV-2"]
    assert shown["balance"] == "1500.00"
    assert "already at internal" in project("escalate", "1", "--to", "internal", "--reason", "x", expect=1).output
    project("escalate", "1", "--to", "agency", "--reason", "skip ahead: debtor vanished", "--by", "Kim")
    project("escalate", "1", "--to", "onsite", "--reason", "agency gave it back")
    changes = json.loads(project("events", "--kind", "stage_changed", "--json").stdout)
    assert [(c["data"]["from"], c["data"]["to"], c["data"]["recall"]) for c in changes] == [
        ("internal", "agency", False), ("agency", "onsite", True)]
    assert "still has a balance" in project("resolve", "1", "--as", "paid", expect=1).output
    project("resolve", "1", "--as", "written_off", "--reason", "uneconomic")
    assert json.loads(project("cases", "list", "--status", "written_off", "--json").stdout)[0]["id"] == 1
    assert "not open" in project("hold", "1", "--reason", "dispute", expect=1).output


def test_plugins_lists_builtin_and_registered_plugins_with_their_hooks(project: Project, register_plugin):
    register_plugin(ChannelsPlugin("email"))
    project.write_config(enabled=["email"])
    listed = {p["name"]: p for p in json.loads(project("plugins", "--json").stdout)}
    assert listed["dunning.builtin"]["hooks"] == ["case_priority", "check_action"]
    assert listed["test-channels"]["channels"] == ["email"] and listed["test-channels"]["enabled"] is True
    assert listed["test-channels"]["hooks"] == ["register_channels"]
    assert listed["test-channels"]["media"] == {"email": "email"}  # a standard name: its medium is known
    table = project("plugins").stdout
    assert "dunning.builtin" in table and "test-channels" in table
    assert table.splitlines()[0].split() == ["name", "version", "source", "active", "channels", "media", "hooks"]


def test_plugins_shows_each_channels_medium_and_none_for_one_that_declares_none(project: Project, register_plugin):
    from dunning.runtime import RecordingChannel

    register_plugin(ChannelsPlugin(whatsapp=RecordingChannel("whatsapp", ("mobile",), medium="text"),
                                   pager=RecordingChannel("pager", ("mobile",))))
    listed = {p["name"]: p for p in json.loads(project("plugins", "--json").stdout)}
    assert listed["test-channels"]["media"] == {"pager": None, "whatsapp": "text"}
    [row] = [line for line in project("plugins").stdout.splitlines() if line.startswith("test-channels")]
    assert "pager, whatsapp  none, text  register_channels" in row  # channels in name order, media beside them


# `dunning simulate` works on a copy of a SQLite file; on PostgreSQL it says so and stops.
@pytest.mark.sqlite_only
def test_simulate_prints_the_timeline_and_leaves_the_database_alone(project: Project, register_plugin):
    register_plugin(ChannelsPlugin("email", "phone", "letter", "visit"))
    project.write_config(enabled=["email", "phone", "letter", "visit"])
    _import(project)
    before = dump(project)
    out = project("simulate", "--days", "45", "--from", "2026-02-20").stdout
    assert "email courtesy-reminder" in out and "stage internal -> onsite" in out and "notice to supervisor" in out
    assert "stages at the end: onsite 1" in out
    assert dump(project) == before
    timeline = json.loads(project("simulate", "--days", "3", "--from", "2026-02-20", "--json").stdout)
    assert [e["kind"] for e in timeline] == ["sent"] and timeline[0]["data"]["simulated"] is True


def test_run_dry_run_plans_nothing(project: Project):
    _import(project)
    dry = json.loads(project("run", "--now", "2026-03-02T09:00:00Z", "--dry-run", "--json").stdout)
    assert dry["planned"] == 2 and dry["dry_run"] is True
    assert json.loads(project("cases", "show", "1", "--json").stdout)["pending_actions"] == []
    real = json.loads(project("run", "--now", "2026-03-02T09:00:00Z", "--json").stdout)
    assert real["planned"] == 2 and real["skipped"] == 2  # no channels enabled in this project


def test_demo_runs_both_presets_on_outbox_channels_without_plugins(tmp_path: Path):
    result = CliRunner().invoke(cli, ["demo", "--dir", str(tmp_path), "--days", "100", "--debtors", "6"])
    assert result.exit_code == 0, result.output
    assert "== trade-receivables: 6 debtors over 100 days ==" in result.output
    assert "== consumer-loans: 6 debtors over 100 days ==" in result.output
    assert "stage internal -> onsite" in result.output
    lines = (tmp_path / "trade-receivables" / "outbox" / "email.jsonl").read_text().splitlines()
    first = json.loads(lines[0])
    assert first["step"] in ("courtesy-reminder", "overdue-notice", "follow-up") and first["key"].count(":") >= 3


def test_a_missing_config_named_by_the_environment_is_an_error(tmp_path: Path):
    result = CliRunner().invoke(cli, ["cases", "list"], env={"DUNNING_CONFIG": str(tmp_path / "typo.toml")})
    assert result.exit_code == 1 and f"{tmp_path / 'typo.toml'}: no such config file" in result.output


def test_events_keep_the_wall_clock_beside_the_business_moment(project: Project):
    _import(project)
    event = json.loads(project("events", "--json").stdout)[0]
    assert event["at"] == "2026-02-20T08:00:00Z"
    assert event["recorded_at"] and event["recorded_at"] != event["at"]
