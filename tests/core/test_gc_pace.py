"""Delivery raises the collector's first threshold while it runs and puts it back, leaving others' settings alone."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from dunning.dispatch.gc_pace import DELIVERY_THRESHOLD, fewer_collections


@pytest.fixture(autouse=True)
def _kept_threshold() -> Iterator[None]:
    before, enabled = gc.get_threshold(), gc.isenabled()
    yield
    gc.set_threshold(*before)
    if enabled:
        gc.enable()


def test_raised_for_the_delivery_and_put_back() -> None:
    gc.set_threshold(700, 10, 10)
    restore = fewer_collections()
    assert gc.get_threshold() == (DELIVERY_THRESHOLD, 10, 10)
    restore()
    assert gc.get_threshold() == (700, 10, 10)


def test_a_higher_threshold_an_idle_collector_and_a_change_meanwhile_stand() -> None:
    gc.set_threshold(DELIVERY_THRESHOLD * 2, 10, 10)
    fewer_collections()()
    assert gc.get_threshold() == (DELIVERY_THRESHOLD * 2, 10, 10)

    gc.set_threshold(700, 10, 10)
    gc.disable()
    fewer_collections()()
    assert gc.get_threshold() == (700, 10, 10)
    gc.enable()

    restore = fewer_collections()
    gc.set_threshold(1234, 10, 10)  # the embedding program changed it while delivery ran
    restore()
    assert gc.get_threshold() == (1234, 10, 10)


def test_a_run_leaves_the_threshold_as_it_found_it(dunning_runtime, case_factory) -> None:
    from dunning import dispatch
    from tests.conftest import ChannelsPlugin
    from tests.core.test_round_delivery import NOW, POLICY

    rt = dunning_runtime(plugins=[ChannelsPlugin("email", "sms")], policy=POLICY, enabled=["email", "sms"])
    case_factory(rt)
    dispatch.plan(rt, NOW, dispatch.RunSummary())
    gc.set_threshold(700, 10, 10)
    seen: list[int] = []
    summary = dispatch.RunSummary()
    dispatch.deliver_ready(rt, NOW, summary, lambda phase, count: seen.append(gc.get_threshold()[0]))
    assert summary.sent == 2
    assert seen == [DELIVERY_THRESHOLD]
    assert gc.get_threshold() == (700, 10, 10)
