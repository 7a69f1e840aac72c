"""A round's outcomes written together: only the claims still held, in one statement, with the evidence intact.

``RoundOutcomes`` is ``Store.finish`` for a round's actions inside the
round's transaction; the deferrals of a round of calls outside the debtor's
calling hours go in one statement; a notice a channel would carry to a
person is not delivered with the round.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from typing import Any

from dunning import dispatch
from dunning.channels import Delivery
from dunning.dispatch.internal_round import NoticesCarried, goes_with_round
from dunning.dispatch.round_outcomes import RoundOutcomes
from dunning.evidence import verify_chain
from dunning.models import ActionKind, ActionStatus, Event
from tests.conftest import ChannelsPlugin

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
CALLS = """
name = "calls"
[[steps]]
name = "call"
dpd = 1
channels = ["phone"]
template = "reminder-call"
"""


def test_round_outcomes_finish_only_the_claims_still_held_as_finish_would(dunning_runtime, case_factory,
        dunning_database) -> None:
    rt = dunning_runtime(database=dunning_database, plugins=[ChannelsPlugin("email", "sms")], policy=POLICY,
                         enabled=["email", "sms"])
    case = case_factory(rt)
    dispatch.plan(rt, NOW, dispatch.RunSummary())
    kept, lost = rt.store.claim(NOW, NOW, "runner-a", 10)
    rt.store.release_claims([lost.id])  # as if a second runner had found it abandoned
    later = NOW + dt.timedelta(hours=3)
    with rt.store.transaction():
        outcomes = RoundOutcomes(rt.store, "runner-a", [kept.id, lost.id])
        for action in (kept, lost):
            event = Event(kind="deferred", at=NOW, case_id=case.id, action_id=action.id, data={"key": action.key})
            assert outcomes.finish(action, ActionStatus.PENDING, NOW, [event], not_before=later,
                                   count_attempt=True) is (action is kept)
        # A second finish of the same claim changes nothing.
        assert outcomes.finish(kept, ActionStatus.SKIPPED, NOW, []) is False
        assert rt.store.action(kept.id).status is ActionStatus.SENDING  # written when the round ends
        outcomes.write()
    after = rt.store.action(kept.id)
    assert (after.status, after.not_before, after.attempts) == (ActionStatus.PENDING, later, 1)
    assert rt.store.in_flight() == []  # the claim let go
    assert rt.store.action(lost.id).status is ActionStatus.PENDING and rt.store.action(lost.id).attempts == 0
    assert [e.action_id for e in rt.store.events(kind="deferred")] == [kept.id]
    assert verify_chain(rt.store.event_rows_for_verify()).ok


class DeduplicatingPhone:
    name = "phone"
    needs = ()
    deduplicates_by_key = True

    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, action: Any, case: Any, ctx: Any) -> Delivery:
        self.sent.append(ctx.key)
        return Delivery.sent(f"call:{ctx.key}")


@contextlib.contextmanager
def _statements_run(conn: Any) -> Iterator[list[str]]:
    """The statements run on ``conn`` meanwhile: sqlite3's trace, or on PostgreSQL each as the store wrote it."""
    seen: list[str] = []
    if hasattr(conn, "set_trace_callback"):
        conn.set_trace_callback(seen.append)
        try:
            yield seen
        finally:
            conn.set_trace_callback(None)
        return
    real = conn.execute

    def recording(sql: str, parameters: Any = ()) -> Any:
        seen.append(sql)
        return real(sql, parameters)

    conn.execute = recording
    try:
        yield seen
    finally:
        del conn.execute


def test_a_rounds_calls_outside_calling_hours_are_deferred_in_one_statement(dunning_runtime, case_factory,
        dunning_database) -> None:
    plugin = ChannelsPlugin()
    phone = DeduplicatingPhone()
    plugin.channels = {"phone": phone}  # type: ignore[dict-item]
    rt = dunning_runtime(database=dunning_database, plugins=[plugin], policy=CALLS, enabled=["phone"])
    cases = [case_factory(rt, timezone="America/New_York", mobile=f"+1 212 555 {1000 + i}") for i in range(20)]
    early = dt.datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # 05:00 in New York
    summary = dispatch.RunSummary()
    dispatch.plan(rt, early, summary)
    with _statements_run(rt.store.conn) as statements:
        dispatch.deliver_ready(rt, early, summary)
    assert summary.deferred == len(cases) and summary.sent == 0 and phone.sent == []
    # One statement for the round's outcomes (20 rows, padded to the next shape), none per action.
    finishing = [s for s in statements if s.startswith("UPDATE actions SET status") and "last_error" in s]
    assert len(finishing) == 1 and "FROM (VALUES" in finishing[0]
    deferred = rt.store.events(kind="deferred")
    assert sorted(e.case_id for e in deferred) == sorted(c.id for c in cases)
    rule = deferred[0].data["rule"]
    assert summary.deferred_by_rule == {rule: len(cases)}
    for event in deferred:
        action = rt.store.action(event.action_id)
        assert action.status is ActionStatus.PENDING
        assert event.data["until"] and action.not_before > early
    assert rt.store.in_flight() == []
    assert verify_chain(rt.store.event_rows_for_verify()).ok


class StaffMail:
    """A channel that carries notices to staff as messages to a person."""

    name = "email"
    needs = ()

    def send(self, action: Any, case: Any, ctx: Any) -> Delivery:
        return Delivery.sent("mail")

    def notify_staff(self, notice: Any, ctx: Any) -> Delivery:
        return Delivery.sent("staff-mail")


def test_a_notice_a_channel_carries_to_a_person_is_not_delivered_with_the_round(dunning_runtime,
        dunning_database) -> None:
    plugin = ChannelsPlugin()
    plugin.channels = {"email": StaffMail()}  # type: ignore[dict-item]
    rt = dunning_runtime(database=dunning_database, plugins=[plugin], policy=POLICY, enabled=["email"],
                         notify={"supervisor": "Sam <sam@lender.example>"})
    notices = NoticesCarried(rt)

    def action(kind: ActionKind, target: str | None) -> Any:
        return type("A", (), {"kind": kind, "target": target})()

    assert not goes_with_round(action(ActionKind.NOTICE, "supervisor"), notices)  # emailed: one by one
    assert goes_with_round(action(ActionKind.NOTICE, "manager"), notices)  # no address: recorded only
    assert goes_with_round(action(ActionKind.ESCALATE, "onsite"), notices)
    assert not goes_with_round(action(ActionKind.OUTREACH, None), notices)
    alone = dunning_runtime(database=dunning_database, policy=POLICY,
                            notify={"supervisor": "Sam <sam@lender.example>"})
    assert goes_with_round(action(ActionKind.NOTICE, "supervisor"), NoticesCarried(alone))  # no channel carries it


def test_claims_are_larger_only_when_every_enabled_channel_delivers_with_its_round(dunning_runtime,
        dunning_database) -> None:
    from dunning.dispatch.outbox import CLAIM_BATCH, CLAIM_BATCH_ONE_BY_ONE, claim_size

    def runtime(**config: Any) -> Any:
        plugin = ChannelsPlugin("email")  # records one by one: no ``deduplicates_by_key``
        plugin.channels["phone"] = DeduplicatingPhone()  # type: ignore[assignment]
        return dunning_runtime(database=dunning_database, plugins=[plugin], policy=CALLS, **config)

    assert claim_size(runtime(enabled=["phone"])) == CLAIM_BATCH
    assert claim_size(runtime(enabled=["phone", "email"])) == CLAIM_BATCH_ONE_BY_ONE
    # Held for a person after a crash: one by one, so at most one is in doubt.
    held = runtime(enabled=["phone"], channel_settings={"phone": {"in_doubt": "hold"}})
    assert held.in_doubt("phone") == "hold" and claim_size(held) == CLAIM_BATCH_ONE_BY_ONE
