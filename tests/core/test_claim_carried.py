"""The claim's transaction is carried into its first round's first one, and a round's outcomes into the next's.

A claim taken with ``carry`` is not committed on its own: the next
``transaction()`` takes it over and commits both as one. Until then no other
runner sees it, and a failure undoes it, leaving the batch pending. A round's
recorded outcomes are carried the same way into the next round's first
transaction (kept on a failure), and committed at the latest when the batch
ends. A round delivered one by one (a channel that cannot recognise a
re-send) commits what is carried before its first action is handed over.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import pytest

from dunning import dispatch
from dunning.channels import Delivery
from dunning.evidence import verify_chain
from dunning.models import ActionStatus
from dunning.runtime import Runtime
from tests import runtime_on_both
from tests.conftest import ChannelsPlugin
from tests.core.test_round_delivery import NOW, POLICY, Counting

# Every runtime on SQLite, then on PostgreSQL: the carry is the store's, on both.
dunning_runtime = runtime_on_both.dunning_runtime


def _elsewhere(rt: Runtime, sql: str, parameters: list[Any]) -> list[tuple[Any, ...]]:
    """``sql``'s rows as another connection sees them (what is committed)."""
    conn: Any
    if rt.store.dialect == "postgresql":
        from dunning.store.postgres import PostgresConnection

        conn = PostgresConnection(rt.store.conn.target)  # type: ignore[attr-defined]
    else:
        conn = sqlite3.connect(rt.store.path)
    try:
        return list(conn.execute(sql, parameters).fetchall())
    finally:
        conn.close()


def _statuses_seen_elsewhere(rt: Runtime) -> list[str]:
    return sorted(r[0] for r in _elsewhere(rt, "SELECT status FROM actions", []))


def _status_seen_elsewhere(rt: Runtime, action_id: int) -> str:
    return str(_elsewhere(rt, "SELECT status FROM actions WHERE id = ?", [action_id])[0][0])


def _trace(rt: Runtime, callback: Callable[[str], object] | None) -> None:
    """Each statement the store's connection runs, in SQLite's words, to ``callback`` (None: stop): sqlite3's
    trace, or on PostgreSQL the connection's ``execute`` and ``commit`` seen from outside."""
    conn: Any = rt.store.conn
    if rt.store.dialect != "postgresql":
        conn.set_trace_callback(callback)
        return
    for name in ("execute", "commit"):
        conn.__dict__.pop(name, None)  # the class's own method again
    if callback is None:
        return
    plain_execute, plain_commit = conn.execute, conn.commit

    def execute(sql: str, *args: Any) -> Any:
        callback(sql)
        return plain_execute(sql, *args)

    def commit() -> None:
        if conn.in_transaction:
            callback("COMMIT")
        plain_commit()

    conn.execute, conn.commit = execute, commit


def _runtime(make: Callable[..., Runtime], *, one_by_one: bool = False) -> tuple[Runtime, Counting, Counting]:
    email, sms = Counting("email", reads_context=False), Counting("sms", reads_context=False)
    if one_by_one:
        sms.deduplicates_by_key = False  # type: ignore[misc]  # as SMTP is
    plugin = ChannelsPlugin()
    plugin.channels = {"email": email, "sms": sms}  # type: ignore[dict-item]
    return make(plugins=[plugin], policy=POLICY, enabled=["email", "sms"]), email, sms


def test_a_carried_claim_is_committed_by_the_next_transaction(dunning_runtime, case_factory) -> None:
    rt, _, _ = _runtime(dunning_runtime)
    case_factory(rt)
    dispatch.plan(rt, NOW, dispatch.RunSummary())
    claimed = rt.store.claim(NOW, NOW, "here:1:abc", 10, carry=True)
    assert len(claimed) == 2
    # Not committed yet: another connection still sees both pending.
    assert _statuses_seen_elsewhere(rt) == ["pending", "pending"]
    with rt.store.transaction():
        rt.store.conn.execute("UPDATE actions SET attempts = attempts WHERE id = ?", [claimed[0].id])
    assert _statuses_seen_elsewhere(rt) == ["sending", "sending"]
    rt.store.end_carried()  # taken over already: nothing left to end
    assert not rt.store.conn.in_transaction


def test_a_carried_claim_ended_unsaid_leaves_the_batch_pending(dunning_runtime, case_factory) -> None:
    rt, _, _ = _runtime(dunning_runtime)
    case_factory(rt)
    dispatch.plan(rt, NOW, dispatch.RunSummary())
    assert len(rt.store.claim(NOW, NOW, "here:1:abc", 10, carry=True)) == 2
    rt.store.end_carried(failed=True)
    assert {a.status for a in rt.store.actions()} == {ActionStatus.PENDING}
    assert rt.store.in_flight() == []
    # Nothing ready: no transaction is left open to carry.
    rt.store.claim(NOW, NOW, "here:1:abc", 10)
    assert rt.store.claim(NOW, NOW, "here:1:abc", 10, carry=True) == []
    assert not rt.store.conn.in_transaction


def test_a_round_together_commits_its_claim_with_its_first_transaction(dunning_runtime, case_factory) -> None:
    rt, _, _ = _runtime(dunning_runtime)
    for _ in range(3):
        case_factory(rt)
    dispatch.plan(rt, NOW, dispatch.RunSummary())
    commits: list[str] = []
    _trace(rt, lambda sql: commits.append(sql) if sql == "COMMIT" else None)
    summary = dispatch.RunSummary()
    dispatch.deliver_ready(rt, NOW, summary)
    _trace(rt, None)
    assert summary.sent == 6
    # Two rounds (each debtor's email, then their sms). Commits: the claim with the first round's rules; the first
    # round's outcomes with the second round's rules; the second round's outcomes; the claim that finds nothing
    # left. One at a time, that was six.
    assert len(commits) == 4
    assert rt.store.in_flight() == [] and not rt.store.conn.in_transaction
    assert verify_chain(rt.store.event_rows_for_verify()).ok


def test_one_by_one_the_claim_is_committed_before_the_channel_has_the_action(dunning_runtime, case_factory) -> None:
    rt, _, sms = _runtime(dunning_runtime, one_by_one=True)
    case_factory(rt)
    dispatch.plan(rt, NOW, dispatch.RunSummary())
    seen: list[str] = []
    plain_send = sms.send

    def send(action: Any, case: Any, ctx: Any) -> Delivery:
        seen.append(_status_seen_elsewhere(rt, action.id))
        return plain_send(action, case, ctx)

    sms.send = send  # type: ignore[method-assign]
    summary = dispatch.RunSummary()
    dispatch.deliver_ready(rt, NOW, summary)
    assert summary.sent == 2
    # The sms (one by one) was handed over with the claim committed: a crash then leaves it in flight, as before.
    assert seen == ["sending"]


def test_a_failure_before_the_first_round_is_written_leaves_the_batch_pending(
        dunning_runtime, case_factory, monkeypatch: pytest.MonkeyPatch) -> None:
    rt, _, _ = _runtime(dunning_runtime)
    case_factory(rt)
    dispatch.plan(rt, NOW, dispatch.RunSummary())

    def unreadable(*args: Any, **kwargs: Any) -> Any:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr("dunning.dispatch.outbox.facts_for", unreadable)
    with pytest.raises(sqlite3.OperationalError):
        dispatch.deliver_ready(rt, NOW, dispatch.RunSummary())
    assert not rt.store.conn.in_transaction
    assert {a.status for a in rt.store.actions()} == {ActionStatus.PENDING}
    assert rt.store.in_flight() == []
    monkeypatch.undo()
    summary = dispatch.RunSummary()
    dispatch.deliver_ready(rt, NOW, summary)
    assert summary.sent == 2


def test_a_failure_in_the_next_round_keeps_the_outcomes_carried_from_the_last(
        dunning_runtime, case_factory, monkeypatch: pytest.MonkeyPatch) -> None:
    rt, _, _ = _runtime(dunning_runtime)
    case_factory(rt)
    dispatch.plan(rt, NOW, dispatch.RunSummary())
    from dunning.dispatch import outbox

    plain = outbox.facts_for
    reads: list[int] = []

    def second_read_fails(*args: Any, **kwargs: Any) -> Any:
        reads.append(1)
        if len(reads) == 2:  # the second round's facts, read with the first round's outcomes carried
            raise sqlite3.OperationalError("disk I/O error")
        return plain(*args, **kwargs)

    monkeypatch.setattr(outbox, "facts_for", second_read_fails)
    with pytest.raises(sqlite3.OperationalError):
        dispatch.deliver_ready(rt, NOW, dispatch.RunSummary())
    assert not rt.store.conn.in_transaction
    # The first round (the email) went and is recorded with its evidence; the sms is still claimed, unsent.
    assert {a.channel: a.status for a in rt.store.actions()} == {"email": ActionStatus.SENT,
                                                                 "sms": ActionStatus.SENDING}
    assert [e.channel for e in rt.store.events(kind="sent")] == ["email"]
    assert verify_chain(rt.store.event_rows_for_verify()).ok


def test_a_round_that_settles_nothing_before_its_sends_does_not_read_its_claims_twice(
        dunning_runtime, case_factory) -> None:
    rt, _, _ = _runtime(dunning_runtime)
    for _ in range(3):
        case_factory(rt)
    dispatch.plan(rt, NOW, dispatch.RunSummary())
    held_reads: list[str] = []
    _trace(rt,
        lambda sql: held_reads.append(sql) if sql.startswith("SELECT id FROM actions WHERE id IN") else None)
    summary = dispatch.RunSummary()
    dispatch.deliver_ready(rt, NOW, summary)
    _trace(rt, None)
    assert summary.sent == 6
    # Which claims are still held is read once per round, when its sent outcomes are recorded; the rules'
    # step, which settled nothing (no deferral, no skip), did not read them.
    assert len(held_reads) == 2
