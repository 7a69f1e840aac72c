"""The package as `pip install .` builds it: every module in place, nothing shadowed."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_wheel_holds_the_core_the_plugins_package_and_the_presets(tmp_path: Path):
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        capture_output=True, text=True,
    )
    assert built.returncode == 0, built.stderr
    wheel = next(tmp_path.glob("dunning-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    core_modules = {f"dunning/{p.name}" for p in (ROOT / "core").glob("*.py")}
    assert core_modules <= names, core_modules - names
    assert "dunning/plugins/__init__.py" in names
    # A module and a package of the same name: the package would win and hide the module.
    assert not {n for n in names if n.endswith(".py")} & {n[: -len("/__init__.py")] + ".py" for n in names if n.endswith("/__init__.py")}
    assert {"dunning/presets/trade-receivables.toml", "dunning/presets/consumer-loans.toml", "dunning/init/dunning.toml"} <= names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "dunning = dunning.cli:cli" in text and "dunning = dunning.testing" in text
