"""mypy finds nothing in core and plugins, checked as the installed package ([tool.mypy] in pyproject.toml).

The wheel puts core/ at ``dunning/`` and plugins/ at ``dunning/plugins/``; the editable install maps them with an
import hook that mypy does not follow. So, as tests/test_import_contracts.py does for import-linter, the test lays the
sources out as the wheel installs them, in a temporary folder, and runs ``mypy -p dunning`` there with that folder
first on mypy's path: the same files, at the same module names, as a non-editable install.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.test_import_contracts import lay_out


def test_mypy_finds_nothing_in_the_installed_layout(tmp_path: Path) -> None:
    layout = lay_out(tmp_path / "layout")
    environment = {**os.environ, "MYPYPATH": str(layout)}
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "cache"), "-p", "dunning"],
        cwd=layout, env=environment, capture_output=True, text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
