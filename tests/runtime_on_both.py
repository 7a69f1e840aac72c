"""``dunning_runtime`` on both databases. A test module takes it as a name (an import would be shadowed by its
tests' arguments): ``dunning_runtime = runtime_on_both.dunning_runtime``. Every runtime the module's tests open
then has its store on SQLite, then (the test's second run) on PostgreSQL."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import pytest

from dunning.runtime import Runtime


@pytest.fixture
def dunning_runtime(dunning_database: str | Path, dunning_runtime: Callable[..., Runtime]) -> Callable[..., Runtime]:
    # The database is asked for first, so it outlives the runtimes: they are closed before it is dropped.
    return functools.partial(dunning_runtime, database=dunning_database)
