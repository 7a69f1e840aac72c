"""The deadline a letter or email announces, worked out from the policy alone (no database)."""

from __future__ import annotations

import datetime as dt

import pytest

from dunning.deadlines import Deadline, deadline_for, next_escalation
from dunning.models import Case, Stage
from dunning.policy import PolicyError, load_policy, load_policy_text

DUE = dt.date(2026, 3, 1)
TRADE = load_policy("trade-receivables")


def case(**kw: object) -> Case:
    base = dict(id=7, debtor_id="D1", currency="EUR", balance=1_200_000, anchor_due_on=DUE)
    return Case(**(base | kw))  # type: ignore[arg-type]


def day(dpd: int) -> dt.date:
    return DUE + dt.timedelta(days=dpd)


def test_a_stage_change_far_enough_away_is_the_deadline_the_day_before():
    # The warning letter of day 61: the agency takes the case on day 91, so "pay by day 90".
    assert deadline_for(TRADE, case(stage=Stage.ONSITE), day(61)) == Deadline(on=day(90), stage=Stage.AGENCY)


def test_a_stage_change_due_today_waits_for_the_notice_days():
    # The formal demand goes out the day the agency would take the case: 14 days (notice_days) first.
    assert deadline_for(TRADE, case(stage=Stage.ONSITE), day(91)) == Deadline(on=day(105), stage=Stage.AGENCY)
    # A move already overdue (held back by a hold, say) gives the same notice from today.
    assert deadline_for(TRADE, case(stage=Stage.ONSITE), day(120)) == Deadline(on=day(134), stage=Stage.AGENCY)


def test_stages_the_case_does_not_qualify_for_are_passed_over():
    # Under 500.00 the agency never takes the case; under 5,000.00 litigation is not for it either.
    assert deadline_for(TRADE, case(stage=Stage.ONSITE, balance=40_000), day(61)) == Deadline(on=day(75))
    small = case(stage=Stage.ONSITE, balance=300_000)
    assert next_escalation(TRADE, small, day(61)) == (Stage.AGENCY, day(91))
    # Once the agency's recall day has passed, litigation is next.
    assert next_escalation(TRADE, case(stage=Stage.ONSITE), day(182)) == (Stage.LITIGATION, day(182))


def test_with_no_stage_change_ahead_the_deadline_leads_nowhere():
    assert deadline_for(TRADE, case(stage=Stage.LITIGATION), day(200)) == Deadline(on=day(214), stage=None)
    assert deadline_for(TRADE, case(anchor_due_on=None), day(3)) == Deadline(on=day(17), stage=None)


def test_notice_days_come_from_the_policy():
    policy = load_policy_text('name = "p"\nnotice_days = 21\n[stages.agency]\nentry_dpd = 60\n', "policy.toml")
    assert deadline_for(policy, case(), day(50)) == Deadline(on=day(71), stage=Stage.AGENCY)
    assert deadline_for(policy, case(), day(10)) == Deadline(on=day(59), stage=Stage.AGENCY)
    assert Deadline(on=day(59), stage=Stage.AGENCY).as_context() == {"on": day(59), "stage": "agency"}


@pytest.mark.parametrize("value", ["0", "366", '"14"', "true"])
def test_notice_days_must_be_a_sensible_whole_number(value: str):
    with pytest.raises(PolicyError, match=r"policy.toml: 'notice_days'"):
        load_policy_text(f'name = "p"\nnotice_days = {value}\n', "policy.toml")


def test_a_deadline_still_running_is_repeated_not_pushed_back():
    given = Deadline(on=day(105), stage=Stage.AGENCY)
    # A reminder on day 100 repeats 14 June (day 105) instead of giving 14 days more.
    assert deadline_for(TRADE, case(stage=Stage.ONSITE), day(100), given) == given
    assert deadline_for(TRADE, case(stage=Stage.ONSITE), day(105), given) == given
    # Once it has passed, a new message sets a new one.
    assert deadline_for(TRADE, case(stage=Stage.ONSITE), day(106), given) == Deadline(on=day(120), stage=Stage.AGENCY)


def test_third_parties_not_told_of_the_debt_do_not_see_the_deadline():
    from dunning.templates import audience_context

    context = {"case": case(), "deadline": Deadline(on=day(105), stage=Stage.AGENCY).as_context()}
    assert "deadline" not in audience_context(context, "contacts", "location")
    assert audience_context(context, "contacts", "debt")["deadline"] == {"on": day(105), "stage": "agency"}
    assert audience_context(context, "debtor", "none")["deadline"]["on"] == day(105)
