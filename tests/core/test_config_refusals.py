"""Config, policy and database files that cannot be used: one line naming the file, exit 1, nothing created."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Project


def test_a_config_that_is_not_utf8_names_the_line(project: Project):
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


def test_a_database_path_that_is_a_folder_or_not_a_database(project: Project, tmp_path: Path):
    folder = tmp_path / "adir"
    folder.mkdir()
    assert f"{folder}: is a folder, not a database file" in project("--db", str(folder), "cases", "list",
                                                                     expect=1).output
    junk = tmp_path / "junk.db"
    junk.write_text("hello")
    assert f"{junk}: not a SQLite database" in project("--db", str(junk), "cases", "list", expect=1).output
    assert junk.read_text() == "hello"
