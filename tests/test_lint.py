"""The code is ruff-clean under the rules in pyproject.toml ([tool.ruff]): CI holds the style of DESIGN.md section 7."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHECKED = ["core", "plugins", "tests", "examples", "bench"]


def test_ruff_finds_nothing() -> None:
    # ruff from the test extra, run by the interpreter that runs the tests, with the project's own configuration.
    done = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise", *CHECKED],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
