"""Contact-rule settings and requests as an operator meets them: typos stop every command, refusals say why."""

from __future__ import annotations


import pytest

from tests.conftest import ChannelsPlugin, Project, row, write_csv


# Commands that load the config, each with arguments it would accept.
COMMANDS = [("run",), ("cases", "list"), ("events",), ("import", "in.csv"), ("hold", "1", "--reason", "other")]


def _import(project: Project) -> None:
    project("import", str(write_csv(project.folder / "in.csv", [row()])), now="2026-02-20T08:00:00Z")


@pytest.mark.parametrize("extra, message", [
    # Found as a new user: a misspelt window was silently ignored (no window: calls at any hour).
    ('[compliance]\nwindows.phon = ["09:00", "20:00"]\n', "'compliance.windows.phon' must name a medium"),
    # Found as a new user: 25:00 was a traceback.
    ('[compliance]\nwindows.call = ["08:00", "25:00"]\n', "'compliance.windows.call' must hold times of day"),
    ('[compliance]\nprofil = "cn"\n', "'compliance.profil' is not a known key"),
    ('[compliance.jurisdictions]\nUK = "uk"\n', "'compliance.jurisdictions.UK' is not an ISO 3166-1 country"),
    ('[[compliance.caps]]\nchannel = "sms"\nmax = 2\nper = "wek"\n', "'compliance.caps[0].per' must be one of"),
])
def test_a_compliance_typo_stops_every_command_naming_the_key(project: Project, extra: str, message: str) -> None:
    _import(project)
    project.write_config(extra=extra)
    for command in COMMANDS:
        command = tuple(str(project.folder / a) if a == "in.csv" else a for a in command)
        result = project(*command, expect=1)
        assert f"{project.config}: {message}" in result.output, command
        assert "Traceback" not in result.output
    assert project.sql("SELECT count(*) FROM holds") == [(0,)]  # nothing was written by any of them


def test_opt_out_takes_an_enabled_channel_or_a_medium_only(project: Project, register_plugin) -> None:
    register_plugin(ChannelsPlugin("email"))
    project.write_config(enabled=["email"])
    _import(project)
    # Found as a new user: --channel mail was accepted and the emails went on.
    refused = project("opt-out", "C001", "--channel", "mail", expect=1)
    assert "--channel 'mail' is neither an enabled channel (email) nor a medium (call, text, email, letter, " \
           "visit, other)" in refused.output
    assert project.sql("SELECT count(*) FROM opt_outs") == [(0,)]
    assert "opted out of text" in project("opt-out", "C001", "--channel", "text").output
    assert "opted out of email" in project("opt-out", "C001", "--channel", "email").output


def test_a_dispute_hold_cannot_be_given_an_end_date(project: Project) -> None:
    _import(project)
    refused = project("hold", "1", "--reason", "dispute", "--until", "2026-04-01", now="2026-03-02T09:00:00Z", expect=1)
    assert "a dispute hold has no end date: it is lifted only once verification of the debt was sent " \
           "(`dunning release 1 --verification-sent`)" in refused.output
    assert project.sql("SELECT count(*) FROM holds") == [(0,)]
    project("hold", "1", "--reason", "dispute", now="2026-03-02T09:00:00Z")
    assert "--verification-sent" in project("release", "1", now="2026-03-03T09:00:00Z", expect=1).output
    assert "released 1 hold(s)" in project("release", "1", "--verification-sent", now="2026-03-03T09:00:00Z").output


def test_init_maps_us_cn_and_gb_to_their_profiles(tmp_path) -> None:
    project = Project(tmp_path)
    project("init")
    text = project.config.read_text(encoding="utf-8")
    assert '[compliance.jurisdictions]\n' in text
    for line in ('US = "us-regf"', 'CN = "cn"', 'GB = "uk"'):
        assert f"\n{line}\n" in text
    assert project("cases", "list").exit_code == 0  # loads as written
