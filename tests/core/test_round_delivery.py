"""The pieces that deliver a round with few statements give what the one-action paths give.

``RoundAttempts`` answers the caps' reads as ``Store.attempts`` would,
``Store.finish_sent`` records only the claims still held (as ``finish``
would), and the template context is built only when a channel reads it.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dunning import dispatch
from dunning.channels import Delivery
from dunning.compliance.rules import LOOKBACK
from dunning.dispatch.lazy_context import LazyContext
from dunning.dispatch.round_attempts import RoundAttempts
from dunning.evidence import verify_chain
from dunning.models import ActionStatus, Event
from dunning.runtime import Runtime
from tests.conftest import ChannelsPlugin


@pytest.fixture
def dunning_runtime(dunning_database: str | Path, dunning_runtime: Callable[..., Runtime]) -> Callable[..., Runtime]:
    """Every runtime here opens its store on SQLite, then (the test's second run) on PostgreSQL. The database is
    asked for first, so it outlives the runtimes: they are closed before it is dropped."""
    return functools.partial(dunning_runtime, database=dunning_database)


UTC = dt.UTC
NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
POLICY = """
name = "round"
[[steps]]
name = "notice"
dpd = 1
channels = ["email", "sms"]
template = "reminder"
"""


def test_the_context_is_built_once_and_only_when_read() -> None:
    built: list[int] = []

    def build() -> dict[str, Any]:
        built.append(1)
        return {"debtor": "Acme", "amount": "1,200.00"}

    unread = LazyContext(build)
    assert built == [] and "not built" in repr(unread)
    read = LazyContext(build)
    assert read["debtor"] == "Acme"
    assert {**read, "extra": 1} == {"debtor": "Acme", "amount": "1,200.00", "extra": 1}
    assert read == {"debtor": "Acme", "amount": "1,200.00"} and len(read) == 2 and read.get("missing") is None
    assert built == [1]


def test_round_attempts_read_what_the_store_reads(dunning_runtime, case_factory) -> None:
    rt = dunning_runtime()
    case = case_factory(rt)
    debtor = case.debtor_id
    with rt.store.transaction():
        for days, key, channel in [(9, "old", "sms"), (3, "k1", "email"), (2, None, "phone"), (1, "k2", "sms")]:
            rt.store.record_attempt(debtor_id=debtor, case_id=case.id, channel=channel,
                                    at=NOW - dt.timedelta(days=days), source=channel, key=key)
    round_attempts = RoundAttempts(rt.store, [debtor, "nobody"], NOW)
    for since in (NOW - LOOKBACK, NOW - dt.timedelta(days=2), NOW):
        for excluding in (None, "k1", "k2", "other"):
            assert round_attempts.attempts(debtor, since, excluding) == \
                rt.store.attempts(debtor, since, excluding_key=excluding), (since, excluding)
    assert round_attempts.attempts("nobody", NOW - LOOKBACK, None) == []
    # Further back than it read, or a debtor it did not read: the store answers instead.
    assert round_attempts.attempts(debtor, NOW - dt.timedelta(days=10), None) is None
    assert round_attempts.attempts("D-other", NOW - LOOKBACK, None) is None

    # What the round counts is read back by the round at once, and written as ``record_attempt`` writes it.
    round_attempts.count(1, "k3", debtor, case.id, "sms", "debtor", NOW)
    counted = round_attempts.attempts(debtor, NOW - LOOKBACK, None)
    with rt.store.transaction():
        round_attempts.write(rt.store)
    assert counted == rt.store.attempts(debtor, NOW - LOOKBACK)
    assert (NOW, "sms", None, "debtor", None) in counted


def test_finish_sent_records_only_the_claims_still_held(dunning_runtime, case_factory) -> None:
    rt = dunning_runtime(plugins=[ChannelsPlugin("email", "sms")], policy=POLICY, enabled=["email", "sms"])
    case = case_factory(rt)
    dispatch.plan(rt, NOW, dispatch.RunSummary())
    mine = rt.store.claim(NOW, NOW, "runner-a", 10)
    assert len(mine) == 2
    kept, lost = mine
    rt.store.release_claims([lost.id])  # as if a second runner had found it abandoned
    with rt.store.transaction():
        held = rt.store.finish_sent("runner-a", NOW, [
            (a.id, f"ref-{a.id}", [Event(kind="sent", at=NOW, case_id=case.id, action_id=a.id, data={"key": a.key})])
            for a in mine])
    assert held == {kept.id}
    assert rt.store.action(kept.id).status is ActionStatus.SENT
    assert rt.store.action(kept.id).reference == f"ref-{kept.id}"
    assert rt.store.action(lost.id).status is ActionStatus.PENDING
    assert [e.action_id for e in rt.store.events(kind="sent")] == [kept.id]
    # Recorded once: a second call changes nothing.
    with rt.store.transaction():
        assert rt.store.finish_sent("runner-a", NOW, [(kept.id, "again", [])]) == set()
    assert rt.store.action(kept.id).reference == f"ref-{kept.id}"
    assert verify_chain(rt.store.event_rows_for_verify()).ok


class Counting:
    """A channel that de-duplicates by key; it reads the template context or not."""

    needs = ()
    deduplicates_by_key = True

    def __init__(self, name: str, reads_context: bool):
        self.name, self.reads_context = name, reads_context
        self.seen: list[Any] = []

    def send(self, action: Any, case: Any, ctx: Any) -> Delivery:
        if self.reads_context:
            self.seen.append(ctx.template_context["case"].id)
        return Delivery.sent(f"ref:{ctx.key}", to="ap@acme.example")


def test_a_round_records_each_send_with_its_attempt_and_evidence(dunning_runtime, case_factory) -> None:
    email, sms = Counting("email", reads_context=True), Counting("sms", reads_context=False)
    plugin = ChannelsPlugin()
    plugin.channels = {"email": email, "sms": sms}  # type: ignore[dict-item]
    rt = dunning_runtime(plugins=[plugin], policy=POLICY, enabled=["email", "sms"])
    cases = [case_factory(rt) for _ in range(3)]
    summary = dispatch.RunSummary()
    dispatch.plan(rt, NOW, summary)
    dispatch.deliver_ready(rt, NOW, summary)
    assert summary.sent == 6
    assert email.seen == [c.id for c in cases]
    sent = rt.store.events(kind="sent")
    assert sorted((e.case_id, e.channel) for e in sent) == sorted((c.id, ch) for c in cases for ch in ("email", "sms"))
    assert all(e.data["reference"] == f"ref:{e.data['key']}" for e in sent)
    for c in cases:
        attempts = rt.store.attempts(c.debtor_id, NOW - LOOKBACK)
        assert sorted(a[1] for a in attempts) == ["email", "sms"]
        # The contact the channel reached is filled in on the attempt, as one by one.
        assert {a[2] for a in attempts} == {"ap@acme.example"}
    assert rt.store.in_flight() == []
    assert verify_chain(rt.store.event_rows_for_verify()).ok
