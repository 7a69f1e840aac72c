"""A plugin's evidence is namespaced ``<plugin>:<what>``; the core's own kinds are never written by a plugin."""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dunning import PluginContext, dispatch, evidence, hookimpl
from dunning.event_kinds import CORE_KINDS, EventKindError, plugin_kind
from dunning.models import Stage
from dunning.runtime import Runtime
from tests.conftest import ChannelsPlugin


@pytest.fixture
def dunning_runtime(dunning_database: str | Path, dunning_runtime: Callable[..., Runtime]) -> Callable[..., Runtime]:
    """Every runtime here opens its store on SQLite, then (the test's second run) on PostgreSQL. The database is
    asked for first, so it outlives the runtimes: they are closed before it is dropped."""
    return functools.partial(dunning_runtime, database=dunning_database)


UTC = dt.UTC
DAY1 = dt.datetime(2026, 3, 2, 9, tzinfo=UTC)
OPERATORS = Path(__file__).resolve().parents[2] / "docs" / "operators.md"
ONSITE_AT_2 = """
name = "fast"
[stages.onsite]
entry_dpd = 2
[[steps]]
name = "notice"
dpd = 1
channels = ["email"]
template = "notice"
"""


class WhatsApp:
    plugin_name = "whatsapp"

    @hookimpl
    def check_settings(self, settings: Any) -> None:
        return None


def test_every_kind_the_operators_guide_lists_is_a_core_kind():
    section = OPERATORS.read_text(encoding="utf-8").split("## 6. Events", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.MULTILINE))
    assert documented and documented <= CORE_KINDS


@pytest.mark.parametrize("kind", ["sent", "payment", "stage_changed", "resolved", "promise_kept", "checkpoint"])
def test_a_core_kind_is_refused_naming_the_plugin(kind):
    with pytest.raises(EventKindError, match=rf"^plugin whatsapp: '{kind}' is one of dunning's own event kinds; "
                                             r"a plugin records it only through dunning.operations"):
        plugin_kind(kind, "whatsapp")


@pytest.mark.parametrize("kind", ["delivered", "whatsapp:", ":delivered", "a:b:c", "whatsapp: delivered"])
def test_a_kind_without_its_namespace_is_refused(kind):
    with pytest.raises(EventKindError, match="must be namespaced '<plugin>:<what>'"):
        plugin_kind(kind)
    assert plugin_kind("whatsapp:delivered") == "whatsapp:delivered"


def test_append_event_refuses_core_kinds_naming_the_calling_plugin_and_records_namespaced_ones(
        dunning_runtime, case_factory):
    rt = dunning_runtime(plugins=[WhatsApp()])
    case = case_factory(rt)
    ctx = PluginContext(rt)
    before = len(rt.store.events())
    with pytest.raises(EventKindError, match=r"^plugin whatsapp: 'payment' is one of dunning's own event kinds"):
        ctx.append_event("payment", case, DAY1, data={"amount": 100})
    with pytest.raises(EventKindError, match=r"^plugin whatsapp: event kind 'delivered' must be namespaced"):
        ctx.append_event("delivered", case, DAY1)
    assert len(rt.store.events()) == before  # nothing written
    stored = ctx.append_event("whatsapp:delivered", case, DAY1, channel="whatsapp", data={"id": "wamid.1"})
    assert stored.seq and rt.store.events(kind="whatsapp:delivered")[0].data == {"id": "wamid.1"}
    assert evidence.verify_chain(rt.store.event_rows_for_verify()).ok


def test_a_stage_entered_hook_recording_a_bare_or_core_kind_fails_as_a_plugin_error(dunning_runtime, case_factory):
    class Placement:
        plugin_name = "placement"

        @hookimpl
        def stage_entered(self, case: Any, from_stage: Stage, to_stage: Stage, ctx: Any) -> None:
            ctx.record_event("placement:opened", stage=to_stage.value)

    class Bare:
        plugin_name = "bare"

        @hookimpl
        def stage_entered(self, case: Any, from_stage: Stage, to_stage: Stage, ctx: Any) -> None:
            ctx.record_event("resolved", reason="pretending")

    rt = dunning_runtime(plugins=[ChannelsPlugin("email"), Placement(), Bare()], enabled=["email"],
                         policy=ONSITE_AT_2)
    case = case_factory(rt)
    assert dispatch.run(rt, DAY1 + dt.timedelta(days=1)).escalated == 1
    kinds = [e.kind for e in rt.store.events(case_id=case.id)]
    assert "placement:opened" in kinds and "resolved" not in kinds
    [error] = rt.store.events(kind="plugin_error")
    assert error.data["plugin"] == "bare" and error.data["error"].startswith(
        "EventKindError: 'resolved' is one of dunning's own event kinds")
    assert rt.store.case(case.id).stage is Stage.ONSITE


def test_queue_action_refuses_a_core_kind_for_its_event_and_queues_nothing(dunning_runtime, case_factory):
    import structlog

    from dunning import RunContext
    from dunning.models import ActionKind

    rt = dunning_runtime()
    case = case_factory(rt)
    run = RunContext(now=DAY1, run_id="r", settings={}, config=rt.config, db=rt.store.db, log=structlog.get_logger(),
                     store=rt.store)
    with pytest.raises(EventKindError, match="'stage_changed' is one of dunning's own event kinds"):
        run.queue_action(case, key=f"{case.id}:recall:recall:2026-03-02", kind=ActionKind.RECALL, step="recall",
                         planned_for=DAY1.date(), options={}, event="stage_changed", data={})
    assert [a for a in rt.store.actions(case_id=case.id) if a.step == "recall"] == []
