"""Fixtures several test modules of the core share."""

from __future__ import annotations

from pathlib import Path

import pytest

from dunning.demo import run_demo
from dunning.plugin_manager import LOAD_ENV


@pytest.fixture(scope="session")
def demo_loans(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real database with a history: the demo's consumer-loans portfolio, 16 debtors run 60 days (to
    2026-03-05) by the installed channels, built once. Copy the folder before changing anything in it."""
    folder = tmp_path_factory.mktemp("demo")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv(LOAD_ENV, raising=False)  # the demo's channels are the installed plugins
        run_demo(folder, days=60, debtors=16, seed=11, echo=lambda line: None)
    return folder / "consumer-loans"
