"""Config, policy and database files that cannot be used: one line naming the file, exit 1, nothing created."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Project


@pytest.mark.sqlite_only  # that no database file is left behind by a refused config
def test_a_config_that_is_not_utf8_names_the_line(project: Project):
    project.db.unlink()
    project.config.write_bytes(b'policy = "trade-receivables"\n# caf\xe9\n')
    out = project("cases", "list", expect=1).output
    assert f"{project.config}: line 2: not UTF-8 text (byte 0xe9); save it as UTF-8" in out
    assert not project.db.exists()


def test_a_policy_that_is_not_utf8_or_is_a_folder_is_named(project: Project):
    (project.folder / "policy.toml").write_bytes(b'name = "p\xff"\n')
    project.write_config(policy="policy.toml")
    assert "policy.toml: line 1: not UTF-8 text (byte 0xff)" in project("cases", "list", expect=1).output
    assert "policy.toml: line 1: not UTF-8 text" in project("policy", "check", str(project.folder / "policy.toml"),
                                                            expect=1).output
    project.write_config(policy=".")
    assert f"{project.folder}: is a folder, not a file" in project("cases", "list", expect=1).output


@pytest.mark.sqlite_only  # a --db path naming a folder or a file that is no SQLite database
def test_a_database_path_that_is_a_folder_or_not_a_database(project: Project, tmp_path: Path):
    folder = tmp_path / "adir"
    folder.mkdir()
    assert f"{folder}: is a folder, not a database file" in project("--db", str(folder), "cases", "list",
                                                                     expect=1).output
    junk = tmp_path / "junk.db"
    junk.write_text("hello")
    assert f"{junk}: not a SQLite database" in project("--db", str(junk), "cases", "list", expect=1).output
    assert junk.read_text() == "hello"


def test_policy_check_refuses_negative_balances_empty_times_and_templates_no_channel_has(project: Project,
                                                                                         monkeypatch):
    monkeypatch.setenv("DUNNING_LOAD_PLUGINS", "email,letter")
    policy = project.folder / "p.toml"
    policy.write_text('name = "p"\n[stages.agency]\nentry_dpd = 30\nmin_balance = "-5.00"\n')
    assert "'min_balance' must not be negative, got '-5.00'" in project("policy", "check", str(policy),
                                                                       expect=1).output
    policy.write_text('name = "p"\n[[steps]]\nname = "s"\ndpd = 1\nchannels = ["email"]\ntemplate = "overdue-notice"\n'
                      'at = []\n')
    assert "step 's': 'at' must be a list of local times" in project("policy", "check", str(policy), expect=1).output
    policy.write_text('name = "p"\n[[steps]]\nname = "s"\ndpd = 1\nchannels = ["email"]\nfallback = "letter"\n'
                      'template = "overdue-notice"\n')
    project.write_config(policy="p.toml", enabled=["email", "letter"], extra="""
[channels.email]
host = "127.0.0.1"
port = 2525
security = "none"
sender = "credit@acme.example"
[channels.letter]
sender_name = "Acme"
sender_address = "1 Road, Town"
""")
    expected = ("step 's': its fallback channel 'letter' has no template 'overdue-notice.txt' "
                "(add it to your templates folder under letter/, or choose a template it has)")
    assert expected in project("policy", "check", str(policy), expect=1).output
    assert expected in project("run", now="2026-03-02T09:00:00Z", expect=1).output
    # An administrator's own letter of that name makes the policy whole.
    (project.folder / "templates" / "letter").mkdir(parents=True)
    (project.folder / "templates" / "letter" / "overdue-notice.txt").write_text("Subject: Overdue\n\nPlease pay.\n")
    project.config.write_text('templates = "templates"\n' + project.config.read_text())
    assert "ok: " in project("policy", "check", str(policy)).stdout


def test_a_policy_name_too_long_for_a_file_name_is_refused_in_one_line(project: Project):
    # Found by the fuzzed-config test: a 5,000-character policy name made Path.exists raise
    # "File name too long" (ENAMETOOLONG) instead of saying it is neither a preset nor a file.
    long_name = "p" * 5000
    project.write_config(policy=long_name)
    for args in (("run",), ("policy", "show", long_name)):
        result = project(*args, expect=1)
        assert "neither a preset" in result.output and "Traceback" not in result.output, args
