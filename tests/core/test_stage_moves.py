"""Stage changes by hand: the checks (pure), approval through the queue, and the cadence after a de-escalation."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from pathlib import Path

import pytest

from dunning import dispatch, operations, stage_moves
from dunning.models import Case, Stage
from dunning.policy.model import Conditions, StageRule
from dunning.verdicts import Verdict
from dunning.runtime import Runtime
from tests.conftest import ChannelsPlugin


@pytest.fixture
def dunning_runtime(dunning_database: str | Path, dunning_runtime: Callable[..., Runtime]) -> Callable[..., Runtime]:
    """Every runtime here opens its store on SQLite, then (the test's second run) on PostgreSQL. The database is
    asked for first, so it outlives the runtimes: they are closed before it is dropped."""
    return functools.partial(dunning_runtime, database=dunning_database)


UTC = dt.UTC
TODAY = dt.date(2026, 9, 1)


def case(balance: int) -> Case:
    return Case(id=4, debtor_id="D1", currency="EUR", stage=Stage.ONSITE, balance=balance,
                anchor_due_on=dt.date(2026, 1, 1))


def test_the_minimum_balance_refuses_and_the_policys_approval_is_asked():
    rule = StageRule(Stage.LITIGATION, entry_dpd=181, when=Conditions(min_balance="5,000.00"), requires_approval=True)
    low = stage_moves.check(case(120000), Stage.LITIGATION, rule, [], TODAY)
    assert low.refusals == ("the balance EUR 1,200.00 is below the policy's minimum for litigation (5,000.00)",)
    assert low.approvals == ("the policy requires approval to enter litigation",)
    enough = stage_moves.check(case(600000), Stage.LITIGATION, rule, [], TODAY)
    assert enough.refusals == () and enough.approvals == ("the policy requires approval to enter litigation",)


def test_rule_verdicts_refuse_or_ask_approval_and_no_rule_means_no_check():
    verdicts = [Verdict.block("time_barred", "the debt became time-barred on 2026-01-02"),
                Verdict.needs_approval("legal_approval", "going to court needs a person's approval"),
                Verdict.allow("contact_rules")]
    found = stage_moves.check(case(100), Stage.LITIGATION, None, verdicts, TODAY)
    assert found.refusals == ("refused by rule time_barred: the debt became time-barred on 2026-01-02",)
    assert found.approvals == ("rule legal_approval: going to court needs a person's approval",)
    assert stage_moves.check(case(100), Stage.AGENCY, None, [], TODAY) == stage_moves.EscalationCheck()


POLICY = """
name = "stages"
[stages.litigation]
entry_dpd = 300
requires_approval = true

[[steps]]
name = "in-house-call"
dpd = [1, 200]
every = 1
channels = ["phone"]
template = "reminder-call"
stage = "internal"
"""


def test_after_a_de_escalation_the_lower_stages_cadence_resumes_and_pending_moves_up_are_cancelled(
        dunning_runtime, case_factory):
    plugin = ChannelsPlugin("phone")
    rt = dunning_runtime(plugins=[plugin], enabled=["phone"], policy=POLICY)
    c = case_factory(rt)
    day = dt.datetime(2026, 3, 10, 9, tzinfo=UTC)
    dispatch.run(rt, day)
    assert len(plugin.channels["phone"].sent) == 1
    asked = stage_moves.escalate(rt, c.id, "litigation", now=day, reason="no answer", by="ana")
    assert not asked.moved and asked.awaiting_action is not None
    with pytest.raises(operations.OperationError, match="already waits as action"):
        stage_moves.escalate(rt, c.id, "litigation", now=day, reason="no answer", by="ana")
    operations.escalate(rt, c.id, "onsite", now=day, reason="visit", by="ana")
    dispatch.run(rt, day + dt.timedelta(days=1))
    assert len(plugin.channels["phone"].sent) == 1  # the in-house calls stop at onsite

    back, cancelled = stage_moves.de_escalate(rt, c.id, "internal", now=day + dt.timedelta(days=1, hours=2),
                                              reason="paying again", by="sam")
    assert back.stage is Stage.INTERNAL and cancelled == 1
    assert rt.store.action(asked.awaiting_action).status == "cancelled"
    dispatch.run(rt, day + dt.timedelta(days=2))
    assert len(plugin.channels["phone"].sent) == 2  # and resume once back in house
    with pytest.raises(operations.OperationError, match="not an earlier stage"):
        stage_moves.de_escalate(rt, c.id, "onsite", now=day + dt.timedelta(days=2), reason="x", by="sam")
