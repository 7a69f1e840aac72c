"""A real database with a history: the demo's consumer-loans portfolio, built once per test module."""

from __future__ import annotations

from pathlib import Path

import pytest

from dunning.demo import run_demo
from dunning.plugin_manager import LOAD_ENV


def build_portfolio(folder: Path, *, days: int = 60, debtors: int = 12) -> Path:
    """The folder of a consumer-loans portfolio run ``days`` days by the installed channels."""
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv(LOAD_ENV, raising=False)  # the demo's channels are the installed plugins
        run_demo(folder, days=days, debtors=debtors, seed=11, echo=lambda line: None)
    return folder / "consumer-loans"
