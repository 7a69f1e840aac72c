"""The checked config kept between commands (dunning.checked_cache): it saves the check, never an error.

Each edit below is one a full check refuses; the next command must refuse it in the same words as a command that
never saw the file before, whatever the cache holds.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest

from dunning import checked_cache
from dunning.config import ConfigError, load_config

from tests.conftest import Project



def entry_files() -> list[Path]:
    return sorted(checked_cache.cache_dir().glob("*.pickle"))


def test_a_config_checked_once_is_read_back_as_checked_and_owner_only(project: Project):
    first = load_config(project.config)
    (entry,) = entry_files()
    assert entry.stat().st_mode & 0o777 == 0o600
    assert checked_cache.cache_dir().stat().st_mode & 0o777 == 0o700
    assert checked_cache.checked_config(project.config) == first
    assert load_config(project.config) == first


def test_a_config_edited_to_be_wrong_is_refused_on_the_next_start_as_without_the_cache(
        project: Project, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    assert project("cases", "list").exit_code == 0  # checked and kept
    text = project.config.read_text()
    project.config.write_text(text.replace('timezone = "UTC"', 'timezone = "Mars/Base"'))
    refused = project("cases", "list", expect=1).output
    assert "'timezone' must be a known time zone, got 'Mars/Base'" in refused
    monkeypatch.setenv(checked_cache.CACHE_ENV, str(tmp_path_factory.mktemp("empty")))
    assert project("cases", "list", expect=1).output == refused


def test_an_edit_that_keeps_the_size_and_the_time_is_still_seen(project: Project):
    text = project.config.read_text()
    project.config.write_text(text + '[store]\nsynchronous = "full"\n')
    project("cases", "list")
    kept = project.config.stat()
    project.config.write_text(text + '[store]\nsynchronous = "fast"\n')
    os.utime(project.config, ns=(kept.st_atime_ns, kept.st_mtime_ns))
    assert (project.config.stat().st_size, project.config.stat().st_mtime_ns) == (kept.st_size, kept.st_mtime_ns)
    assert "'store.synchronous' must be \"full\" or \"normal\", got 'fast'" in project("cases", "list",
                                                                                        expect=1).output


def test_an_entry_others_can_write_or_that_is_broken_is_not_used(project: Project):
    good = load_config(project.config)
    (entry,) = entry_files()
    held = pickle.loads(entry.read_bytes())
    # A forged entry saying the file holds something else: read only from a file no one else can touch.
    held["config"] = type(good)(path=good.path, db=Path("/elsewhere.db"))
    entry.write_bytes(pickle.dumps(held))
    entry.chmod(0o644)
    assert load_config(project.config) == good
    entry.write_bytes(b"not a pickle")
    entry.chmod(0o600)
    assert load_config(project.config) == good


def test_an_entry_made_by_other_checking_code_is_not_used(project: Project, monkeypatch: pytest.MonkeyPatch):
    load_config(project.config)
    monkeypatch.setattr(checked_cache, "code_stamp", lambda: "another version of dunning")
    assert checked_cache.checked_config(project.config) is None


def test_a_cache_folder_that_cannot_be_written_only_slows_the_start(project: Project, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch):
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    monkeypatch.setenv(checked_cache.CACHE_ENV, str(blocked / "cache"))
    assert load_config(project.config).policy == "trade-receivables"
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "missing.toml", required=True)


def test_a_policy_file_edited_to_be_wrong_stops_the_next_command(project: Project, monkeypatch: pytest.MonkeyPatch):
    from dunning import runtime

    loads: list[str] = []
    load = runtime._configured_policy
    monkeypatch.setattr(runtime, "_configured_policy", lambda config: loads.append(config.policy) or load(config))
    policy = project.folder / "policy.toml"
    policy.write_text('name = "p"\n[[steps]]\nname = "s"\ndpd = 1\nchannels = ["email"]\ntemplate = "t"\n')
    project.write_config(policy="policy.toml")
    project("cases", "list")
    project("cases", "list")  # the policy is known to load: not loaded again
    assert loads == ["policy.toml"]
    policy.write_text('name = "p"\n[[steps]]\nname = "s"\ndpd = 1\nchannels = ["pigeon"]\ntemplate = "t"\n')
    for args in (("cases", "list"), ("cases", "show", "1")):
        assert "step 's': unknown channel 'pigeon'" in project(*args, expect=1).output, args
    policy.unlink()
    assert "'policy.toml' is neither a preset" in project("cases", "list", expect=1).output


def test_a_strategy_policy_edited_to_be_wrong_stops_the_next_command(project: Project):
    challenger = project.folder / "challenger.toml"
    challenger.write_text('name = "c"\n[[steps]]\nname = "s"\ndpd = 1\nchannels = ["email"]\ntemplate = "t"\n')
    project.write_config(extra='[[strategies]]\nname = "champion"\npolicy = "trade-receivables"\nshare = 50\n'
                               '[[strategies]]\nname = "challenger"\npolicy = "challenger.toml"\nshare = 50\n')
    project("cases", "list")
    challenger.write_text('name = "c"\nsteps = 3\n')
    assert "challenger.toml" in project("cases", "list", expect=1).output
