"""Two dispatchers delivering rounds at once on a channel that de-duplicates: the cap check is still one transaction.

The same race as ``test_contact_rules``'s one-by-one race, through the round
path (``dispatch.batch``): each dispatcher's round counts its attempts in one
transaction, so the second sees the first's call and cannot pass the cap.
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
import time
import zoneinfo
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dunning import dispatch, hookimpl
from dunning.compliance.profiles import parse_compliance
from dunning.dispatch.batch import deduplicates
from dunning.dispatch.delivery import facts_for
from dunning.dispatch.outbox import deliver_round
from dunning.models import ActionKind
from dunning.runtime import Runtime
from tests.conftest import ChannelsPlugin

LONDON = zoneinfo.ZoneInfo("Europe/London")
CALLS = """
name = "calls"
[[steps]]
name = "call"
dpd = [1, 20]
channels = ["phone"]
template = "reminder-call"
at = ["10:00"]
"""


@pytest.fixture
def dunning_runtime(dunning_database: str | Path, dunning_runtime: Callable[..., Runtime]) -> Callable[..., Runtime]:
    """On SQLite, then on PostgreSQL, where the cap check's lock is a per-debtor advisory lock, not the file's."""
    return functools.partial(dunning_runtime, database=dunning_database)


class SlowRule:
    """Holds the rule check open long enough for the second dispatcher to arrive."""

    plugin_name = "slow-rule"

    @hookimpl
    def check_action(self, action: Any) -> None:
        time.sleep(0.3)


def test_two_dispatchers_delivering_rounds_cannot_both_pass_the_last_allowed_call(
        dunning_runtime: Callable[..., Runtime], case_factory: Callable[..., Any],
        dunning_database: str | Path) -> None:
    plugin = ChannelsPlugin("phone")
    plugin.channels["phone"].deduplicates_by_key = True  # type: ignore[attr-defined]
    rt = dunning_runtime(plugins=[plugin], policy=CALLS, enabled=["phone"], compliance=parse_compliance(
        {"caps": [{"name": "one_call_a_day", "channel": "phone", "max": 1}], "working_days_only": []}, "test"))
    case = case_factory(rt, timezone="Europe/London")
    moment = dt.datetime(2026, 3, 2, 10, 5, tzinfo=LONDON)
    dispatch.plan(rt, moment, dispatch.RunSummary())
    with rt.store.transaction():
        rt.store.add_action(key=f"{case.id}:extra:phone:1", case_id=case.id, kind=ActionKind.OUTREACH,
                            step="call", channel="phone", template="reminder-call", planned_for=moment.date(),
                            not_before=moment, now=moment)
    summaries = [dispatch.RunSummary(), dispatch.RunSummary()]
    both_claimed = threading.Barrier(2)
    paths: list[bool] = []

    def dispatcher(who: str, summary: dispatch.RunSummary) -> None:
        own = Runtime(rt.config, db_path=dunning_database, extra_plugins=[plugin, SlowRule()])
        try:
            [action] = own.store.claim(moment, moment, who, 1)
            paths.append(deduplicates(own, action))
            both_claimed.wait(timeout=10)
            deliver_round(own, [action], facts_for(own, [action], moment), who, moment, summary)
        finally:
            own.close()

    threads = [threading.Thread(target=dispatcher, args=(who, s)) for who, s in zip("ab", summaries, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert paths == [True, True]  # both went through the round path
    assert sorted((s.sent, s.blocked) for s in summaries) == [(0, 1), (1, 0)]
    assert len(plugin.channels["phone"].sent) == 1
    assert rt.store.events(kind="blocked")[0].data["rule"] == "one_call_a_day"
