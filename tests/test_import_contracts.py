"""The import contracts in pyproject.toml hold, and each one fails when the import it forbids appears.

import-linter finds a package through the import system and walks its folder.
The editable install maps ``dunning`` onto core/ and ``dunning.plugins`` onto
plugins/, so core/ alone has no plugins in it; these tests lay the package out
as the wheel does (plugins/ inside dunning/) in a temporary folder and run
``lint-imports`` there, with that folder first on the path.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONTRACTS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
NAMES = {contract["id"]: contract["name"] for contract in CONTRACTS}


def lay_out(target: Path) -> Path:
    """core/ as dunning/, plugins/ as dunning/plugins/, and the config beside them, as installed."""
    skip = shutil.ignore_patterns("__pycache__")
    shutil.copytree(ROOT / "core", target / "dunning", ignore=skip)
    shutil.copytree(ROOT / "plugins", target / "dunning" / "plugins", ignore=skip)
    shutil.copy(ROOT / "pyproject.toml", target / "pyproject.toml")
    return target


def lint_imports(layout: Path) -> subprocess.CompletedProcess[str]:
    # A fresh interpreter: this one has already imported `dunning` from core/, and import-linter would find that.
    environment = {**os.environ, "PYTHONPATH": str(layout), "COLUMNS": "1000"}  # wide: one line per contract
    return subprocess.run(
        [sys.executable, "-c", "from importlinter.cli import lint_imports_command; lint_imports_command()",
         "--no-cache", "--no-logo"],
        cwd=layout, env=environment, capture_output=True, text=True,
    )


def outcome(report: str, contract_id: str) -> str:
    """KEPT or BROKEN, as the report's summary gives it for the contract."""
    line = next(line for line in report.splitlines() if line.startswith(NAMES[contract_id] + " "))
    return line.removeprefix(NAMES[contract_id] + " ").split()[0]


def add_line(module: Path, line: str) -> None:
    module.write_text(module.read_text() + f"\n{line}\n")


@pytest.fixture(scope="module")
def installed_layout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return lay_out(tmp_path_factory.mktemp("layout"))


def test_the_four_contracts_are_declared():
    assert set(NAMES) == {"pure-core", "plugins-independent", "plugins-public-api", "console-through-hooks"}
    plugins = next(c for c in CONTRACTS if c["id"] == "plugins-independent")["modules"]
    on_disk = {f"dunning.plugins.{p.name}" for p in (ROOT / "plugins").iterdir() if (p / "__init__.py").exists()}
    assert set(plugins) == on_disk  # a new built-in plugin joins the independence contract


def test_the_package_keeps_every_contract(installed_layout: Path):
    done = lint_imports(installed_layout)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Contracts: {len(CONTRACTS)} kept, 0 broken." in done.stdout
    assert {outcome(done.stdout, contract_id) for contract_id in NAMES} == {"KEPT"}


BREAKS = {
    "pure-core": ("dunning/lifecycle.py", "from dunning import store"),
    "plugins-independent": ("dunning/plugins/email/channel.py", "from dunning.plugins.letter import layout"),
    "plugins-public-api": ("dunning/plugins/phone/channel.py", "from dunning.dispatch import deliver_ready"),
    "console-through-hooks": ("dunning/web/day.py", "from dunning.plugins.phone import calls"),
}


@pytest.mark.parametrize("contract_id", sorted(BREAKS))
def test_a_forbidden_import_breaks_its_contract_and_only_that_one(contract_id: str, tmp_path: Path):
    layout = lay_out(tmp_path)
    module, line = BREAKS[contract_id]
    add_line(layout / module, line)
    done = lint_imports(layout)
    assert done.returncode == 1, done.stdout + done.stderr
    assert outcome(done.stdout, contract_id) == "BROKEN"
    assert {outcome(done.stdout, other) for other in NAMES if other != contract_id} == {"KEPT"}


def test_an_indirect_impure_import_breaks_the_pure_core(tmp_path: Path):
    # calendar -> a harmless-looking helper -> sqlite-utils: impure all the same.
    layout = lay_out(tmp_path)
    (layout / "dunning" / "helper_for_test.py").write_text("import sqlite_utils\n")
    add_line(layout / "dunning" / "calendar.py", "from dunning import helper_for_test")
    done = lint_imports(layout)
    assert done.returncode == 1
    assert "dunning.calendar is not allowed to import sqlite_utils" in done.stdout


def test_the_built_in_plugins_import_the_public_api_alone_with_no_exception():
    # The exceptions for the imports plugins made before the store view and PluginContext are all gone.
    public_api = next(c for c in CONTRACTS if c["id"] == "plugins-public-api")
    assert "ignore_imports" not in public_api
    assert all("ignore_imports" not in contract for contract in CONTRACTS)


def test_a_plugin_command_importing_the_runtime_breaks_the_public_api(tmp_path: Path):
    layout = lay_out(tmp_path)
    add_line(layout / "dunning" / "plugins" / "visit" / "cli.py", "from dunning.runtime import Runtime")
    done = lint_imports(layout)
    assert done.returncode == 1
    assert "dunning.plugins.visit.cli -> dunning.runtime" in done.stdout
