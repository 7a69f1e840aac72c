"""``case_priority`` is asked one plugin at a time: one that raises or answers a non-number is named and skipped."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from structlog.testing import capture_logs

import pytest

from dunning import PluginContext, hookimpl, priority
from dunning.priority_hook import case_priority
from dunning.runtime import Runtime
from tests.conftest import Project, row, write_csv



@pytest.fixture
def dunning_runtime(dunning_database: str | Path, dunning_runtime: Callable[..., Runtime]) -> Callable[..., Runtime]:
    """Every runtime here opens its store on SQLite, then (the test's second run) on PostgreSQL. The database is
    asked for first, so it outlives the runtimes: they are closed before it is dropped."""
    return functools.partial(dunning_runtime, database=dunning_database)


class Raising:
    plugin_name = "raising-scorer"

    @hookimpl
    def case_priority(self, case: Any) -> float:
        raise RuntimeError("score service down")


class WrongType:
    plugin_name = "wordy-scorer"

    @hookimpl
    def case_priority(self, case: Any) -> Any:
        return "high"


class Flat:
    plugin_name = "flat-scorer"

    @hookimpl
    def case_priority(self, case: Any) -> float:
        return 7


def _warnings(logs: list[dict[str, Any]]) -> dict[str, str]:
    return {entry["plugin"]: entry["event"] for entry in logs if entry.get("hook") == "case_priority"}


def test_a_raising_or_wrong_type_plugin_is_named_and_the_built_in_score_answers(dunning_runtime, case_factory):
    rt = dunning_runtime(plugins=[Raising(), WrongType()])
    case = case_factory(rt, amount="1200.00")
    with capture_logs() as logs:
        score = case_priority(rt.plugins.calls, case, None)
    assert score == priority.score(case)
    warned = _warnings(logs)
    assert warned["raising-scorer"] == (f"plugin raising-scorer: case_priority raised RuntimeError: score service "
                                        f"down; its score is ignored for case {case.id}")
    assert warned["wordy-scorer"] == (f"plugin wordy-scorer: case_priority returned 'high' (str), not a number or "
                                      f"None; its score is ignored for case {case.id}")


def test_a_working_plugin_still_answers_beside_a_broken_one(dunning_runtime, case_factory):
    rt = dunning_runtime(plugins=[Flat(), Raising()])  # pluggy asks the one registered last first
    case = case_factory(rt)
    with capture_logs() as logs:
        assert PluginContext(rt).case_priority(case, None) == 7.0
    assert set(_warnings(logs)) == {"raising-scorer"}


def test_cases_list_goes_on_with_a_broken_scorer(project: Project, register_plugin):
    path = write_csv(project.folder / "in.csv", [row("BIG", "INV-1", "90000.00"), row("SMALL", "INV-2", "10.00")])
    project("import", str(path), now="2026-02-20T08:00:00Z")
    before = {c["debtor_id"]: c["priority"] for c in json.loads(project("cases", "list", "--json").stdout)}
    register_plugin(Raising())
    listed = project("cases", "list", "--json")
    assert {c["debtor_id"]: c["priority"] for c in json.loads(listed.stdout)} == before
    assert "plugin raising-scorer: case_priority raised RuntimeError: score service down" in listed.stderr
