"""A claim marks outreach on channels that go with their round as handed over, and only that.

The mark (``send_started_at``) decides, after a crash, whether an action may
have gone out: a channel held for a person (``in_doubt = "hold"``) sets aside
only what it had in hand. Channels that recognise a re-send by its key have
their actions sent again whatever the mark says, so their claim sets it at
once and the round writes no mark of its own.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from pathlib import Path

import pytest

from dunning import dispatch
from dunning.dispatch.batch import round_channels
from dunning.dispatch.claims import reclaim_abandoned
from dunning.models import ActionStatus
from dunning.runtime import Runtime
from tests.conftest import ChannelsPlugin
from tests.core.test_round_delivery import NOW, POLICY, Counting


def _marks(rt) -> dict[str, bool]:  # type: ignore[no-untyped-def]
    return {ch: started is not None for ch, started in rt.store.conn.execute(
        "SELECT channel, send_started_at FROM actions WHERE status = 'sending'")}


@pytest.fixture
def dunning_runtime(dunning_database: str | Path, dunning_runtime: Callable[..., Runtime]) -> Callable[..., Runtime]:
    """Every runtime here opens its store on SQLite, then (the test's second run) on PostgreSQL."""
    return functools.partial(dunning_runtime, database=dunning_database)


def test_the_claim_marks_only_the_channels_that_go_with_their_round(dunning_runtime, case_factory) -> None:
    email = Counting("email", reads_context=False)
    sms = Counting("sms", reads_context=False)
    sms.deduplicates_by_key = False  # type: ignore[misc]  # one by one, as SMTP is
    plugin = ChannelsPlugin()
    plugin.channels = {"email": email, "sms": sms}  # type: ignore[dict-item]
    rt = dunning_runtime(plugins=[plugin], policy=POLICY, enabled=["email", "sms"])
    case_factory(rt)
    dispatch.plan(rt, NOW, dispatch.RunSummary())
    pending = rt.store.actions(statuses=["pending"])
    assert round_channels(rt, pending) == {"email"}

    claimed = rt.store.claim(NOW, NOW, "elsewhere:1:abc", 10, handed_over=round_channels(rt, pending))
    assert sorted(a.channel or "" for a in claimed) == ["email", "sms"]
    assert _marks(rt) == {"email": True, "sms": False}

    # Left behind by a runner that is gone: both go back in the queue (neither channel holds for a person),
    # and the marks with them.
    later = NOW + rt.config.claim_timeout + dt.timedelta(minutes=1)
    assert reclaim_abandoned(rt, later) == 2
    assert {a.status for a in rt.store.actions()} == {ActionStatus.PENDING}
    assert _marks(rt) == {}

    # Delivered: each outcome recorded once, no mark left.
    summary = dispatch.RunSummary()
    dispatch.deliver_ready(rt, NOW, summary)
    assert summary.sent == 2 and rt.store.in_flight() == []


def test_a_channel_held_for_a_person_is_not_marked_by_its_claim(dunning_runtime, case_factory) -> None:
    email = Counting("email", reads_context=False)
    email.in_doubt = "hold"  # type: ignore[attr-defined]
    plugin = ChannelsPlugin()
    plugin.channels = {"email": email}  # type: ignore[dict-item]
    rt = dunning_runtime(plugins=[plugin], policy=POLICY, enabled=["email"])
    case_factory(rt)
    dispatch.plan(rt, NOW, dispatch.RunSummary())
    assert round_channels(rt, rt.store.actions(statuses=["pending"])) == set()
