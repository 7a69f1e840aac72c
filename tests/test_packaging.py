"""The package as `pip install .` builds it: every module and data file in place, and a `dunning` that starts.

The editable install the suite runs from maps `dunning` onto the source
folders and so hides a sub-package the wheel leaves out; these tests look at
the wheel itself and at a fresh virtual environment that has only the wheel.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCE_ROOTS = {"core": "dunning", "plugins": "dunning/plugins"}


def expected_files() -> set[str]:
    """Every module, template, preset and marker file under the source folders, as the wheel names it."""
    names = set()
    for folder, prefix in SOURCE_ROOTS.items():
        for path in (ROOT / folder).rglob("*"):
            if not path.is_file() or "__pycache__" in path.parts:
                continue
            relative = path.relative_to(ROOT / folder)
            if folder == "core" and relative.parts[0] == "plugins":
                continue
            names.add(f"{prefix}/{relative.as_posix()}")
    return names


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Built from a copy: setuptools reuses a build/ folder left in the checkout, which can hold
    # modules the current configuration would no longer package.
    source = tmp_path_factory.mktemp("source") / "dunning"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*cache", ".hypothesis"
        ),
    )
    out = tmp_path_factory.mktemp("wheel")
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(source)],
        capture_output=True, text=True,
    )
    assert built.returncode == 0, built.stderr
    return next(out.glob("dunning-*.whl"))


def test_the_wheel_holds_every_module_and_data_file_of_both_source_folders(wheel: Path):
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = expected_files() - names
    assert not missing, sorted(missing)
    assert {"dunning/compliance/__init__.py", "dunning/py.typed", "dunning/presets/trade-receivables.toml"} <= names
    # A module and a package of the same name: the package would win and hide the module.
    assert not {n for n in names if n.endswith(".py")} & {
        n[: -len("/__init__.py")] + ".py" for n in names if n.endswith("/__init__.py")
    }
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "dunning = dunning.cli:cli" in text and "dunning = dunning.testing" in text


def test_dunning_starts_from_the_wheel_in_a_fresh_environment(wheel: Path, tmp_path: Path):
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    installed = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(wheel)],
        capture_output=True, text=True,
    )
    assert installed.returncode == 0, installed.stderr
    dunning = env_dir / "bin" / "dunning"
    # Run from an empty folder, so nothing from the checkout can be imported by accident.
    clean_env = {
        k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "DUNNING_LOAD_PLUGINS", "DUNNING_CONFIG"}
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([str(dunning), *args], capture_output=True, text=True, cwd=tmp_path, env=clean_env)
        assert done.returncode == 0, (args, done.stderr)
        return done

    assert "Usage: dunning" in run("--help").stdout
    plugins = {p["name"] for p in json.loads(run("plugins", "--json").stdout)}
    assert {"dunning.compliance", "email", "letter", "phone", "visit", "agency", "legal"} <= plugins
    assert "formal-demand" in run("policy", "show", "trade-receivables").stdout
    # The plugin package it writes comes from templates shipped in the wheel.
    run("plugins", "new", "whatsapp")
    assert "[project.entry-points.dunning]" in (tmp_path / "dunning-whatsapp" / "pyproject.toml").read_text()
    assert (tmp_path / "dunning-whatsapp" / "dunning_whatsapp" / "templates" / "overdue-notice.txt").is_file()
    where = subprocess.run(
        [str(python), "-c", "import dunning, dunning.compliance, dunning.plugins.email; print(dunning.__file__)"],
        capture_output=True, text=True, cwd=tmp_path, env=clean_env,
    )
    assert str(env_dir) in where.stdout, where
