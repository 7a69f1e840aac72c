"""``dunning plugins new``: the package it writes passes its own tests, and installs as a working plugin."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from dunning.cli import cli
from dunning.scaffold import names_for

DUNNING = str(Path(sys.executable).parent / "dunning")


def new_plugin(name: str, folder: Path) -> str:
    result = CliRunner().invoke(cli, ["plugins", "new", name, "--dir", str(folder)])
    assert result.exit_code == 0, result.output
    return result.output


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without what the suite sets for itself."""
    env = {k: v for k, v in os.environ.items() if k not in ("DUNNING_LOAD_PLUGINS", "DUNNING_CONFIG", "PYTHONPATH")}
    return env | extra


@pytest.mark.parametrize("name", ["whatsapp", "crm-mirror"])
def test_the_new_package_passes_its_own_tests_as_written(tmp_path, name):
    package = tmp_path / f"dunning-{name}"
    output = new_plugin(name, package)
    names = names_for(name)
    assert output.splitlines()[0] == (f"wrote {package}/ (6 files): the {names.distribution} package, with the "
                                      f"'{name}' channel and a rule")
    assert {p.relative_to(package).as_posix() for p in package.rglob("*") if p.is_file()} == {
        "pyproject.toml", "README.md", f"{names.module}/__init__.py", f"{names.module}/templates/overdue-notice.txt",
        "tests/conftest.py", f"tests/test_{names.module}.py"}
    # The package's own folder on the path stands in for installing it; pytest loads the dunning_
    # fixtures through dunning's pytest11 entry point, as it does for anyone who installed dunning.
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=package,
                           env=clean_env(PYTHONPATH=str(package)), capture_output=True, text=True, timeout=300)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "9 passed" in tests.stdout


def test_installed_it_is_a_plugin_dunning_loads_and_runs(tmp_path):
    package = tmp_path / "dunning-crm-mirror"
    new_plugin("crm-mirror", package)
    site = tmp_path / "site"
    # Installed into a folder of its own, not into the environment the suite runs in.
    built = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site),
                            str(package)], capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr
    work = tmp_path / "work"
    work.mkdir()
    env = clean_env(PYTHONPATH=str(site), DUNNING_LOAD_PLUGINS="crm-mirror")

    def dunning(*args: str) -> str:
        done = subprocess.run([DUNNING, *args], cwd=work, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        return done.stdout

    [plugin] = [p for p in json.loads(dunning("plugins", "--json")) if p["name"] == "crm-mirror"]
    assert plugin | {"hooks": sorted(plugin["hooks"])} == {
        "name": "crm-mirror", "version": "0.1.0", "source": "entry point", "enabled": False,
        "channels": ["crm-mirror"], "media": {"crm-mirror": "text"}, "hooks": ["check_action", "register_channels"]}

    (work / "dunning.toml").write_text('policy = "policy.toml"\n\n[channels]\nenabled = ["crm-mirror"]\n\n'
                                       '[channels.crm-mirror]\nfolder = "outbox"\nmin_balance = 100000\n')
    (work / "policy.toml").write_text('name = "texts"\n\n[[steps]]\nname = "reminder"\ndpd = 1\n'
                                      'channels = ["crm-mirror"]\ntemplate = "overdue-notice"\n')
    (work / "debts.csv").write_text(
        "debtor_id,name,kind,mobile,country,reference,amount,currency,due_on\n"
        "D1,Ann Lee,person,+44 7700 900123,GB,INV-1,1200.00,GBP,2026-03-01\n"
        "D2,Bo Chan,person,+44 7700 900124,GB,INV-2,20.00,GBP,2026-03-01\n")
    assert dunning("policy", "check", "policy.toml").startswith("ok: policy.toml defines 1 steps")
    dunning("import", "--create", "debts.csv")
    summary = json.loads(dunning("run", "--now", "2026-03-02T10:00:00+00:00", "--json"))
    assert (summary["sent"], summary["blocked"], summary["blocked_by_rule"]) == (1, 1, {"crm-mirror:min_balance": 1})
    [message] = (work / "outbox").iterdir()
    # The template came from the installed package: its package data made it into the wheel.
    assert message.read_text(encoding="utf-8").startswith(
        "To: +447700900123\n\nHello Ann Lee, GBP 1,200.00 on your account is overdue")


@pytest.mark.parametrize(("name", "message"), [
    ("Bad.Name", "Error: 'Bad.Name' is not a plugin name: use lowercase letters and digits, words joined by single "
                 "hyphens, starting with a letter (whatsapp, crm-mirror)"),
    ("9lives", "Error: '9lives' is not a plugin name"),
    ("two--hyphens", "Error: 'two--hyphens' is not a plugin name"),
])
def test_a_bad_name_is_one_line_and_writes_nothing(tmp_path, name, message):
    result = CliRunner().invoke(cli, ["plugins", "new", name, "--dir", str(tmp_path / "p")])
    assert result.exit_code == 1
    assert result.output.startswith(message) and result.output.count("\n") == 1
    assert not (tmp_path / "p").exists()


def test_an_existing_folder_is_one_line_and_left_alone(tmp_path):
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "mine.txt").write_text("keep me")
    result = CliRunner().invoke(cli, ["plugins", "new", "whatsapp", "--dir", str(tmp_path / "p")])
    assert result.exit_code == 1
    assert result.output == f"Error: {tmp_path / 'p'} already exists; choose another --dir, or remove it first\n"
    assert [p.name for p in (tmp_path / "p").iterdir()] == ["mine.txt"]


def test_the_default_folder_is_the_distribution_name_and_a_dunning_prefix_is_dropped(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["plugins", "new", "dunning-whatsapp"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "dunning-whatsapp" / "dunning_whatsapp" / "__init__.py").is_file()


def test_dunning_plugins_still_lists_plugins(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no dunning.toml: the listing works on the defaults, as before
    result = CliRunner().invoke(cli, ["plugins", "--json"])
    assert result.exit_code == 0, result.output
    assert [p["name"] for p in json.loads(result.output)] == ["dunning.builtin", "dunning.compliance"]
    table = CliRunner().invoke(cli, ["plugins"])
    assert table.output.splitlines()[0].split() == ["name", "version", "source", "active", "channels", "media",
                                                    "hooks"]
