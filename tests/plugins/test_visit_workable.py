"""Whether a visit is to be made: the pure rule behind `dunning visits` (no database)."""

from __future__ import annotations

import datetime as dt

import attrs

from dunning.models import Case, Hold, Stage, Status
from dunning.plugins.visit.workable import not_workable

UTC = dt.UTC
MADE = dt.datetime(2026, 4, 1, 9, tzinfo=UTC)
DAY = dt.date(2026, 7, 23)


def case(**changes: object) -> Case:
    base = Case(id=1, debtor_id="D1", currency="GBP", stage=Stage.ONSITE, balance=100,
                stage_entered_on=dt.date(2026, 4, 1))
    return attrs.evolve(base, **changes)


def test_a_visit_planned_in_the_run_that_moved_the_case_on_site_is_to_be_made():
    assert not_workable(case(), [], MADE, DAY, UTC) is None


def test_why_a_visit_is_not_to_be_made_in_order_of_weight():
    paid = case(status=Status.PAID, balance=0, resolved_on=dt.date(2026, 5, 2), stage=Stage.LITIGATION)
    assert not_workable(paid, [], MADE, DAY, UTC) == "case resolved (paid) on 2026-05-02"
    held = [Hold(case_id=1, reason="bankruptcy", since=MADE)]
    assert not_workable(case(stage=Stage.AGENCY), held, MADE, DAY, UTC) == "case on hold (bankruptcy)"
    agency = case(stage=Stage.AGENCY, stage_entered_on=dt.date(2026, 7, 1))
    assert not_workable(agency, [], MADE, DAY, UTC) == "placed with an agency since 2026-07-01"
    litigation = case(stage=Stage.LITIGATION, stage_entered_on=dt.date(2026, 7, 1))
    assert not_workable(litigation, [], MADE, DAY, UTC) == (
        "case moved to litigation on 2026-07-01, after the visit was planned on 2026-04-01")


def test_a_hold_that_has_ended_does_not_stop_the_visit():
    lifted = [Hold(case_id=1, reason="other", since=MADE, until=dt.date(2026, 5, 1))]
    assert not_workable(case(), lifted, MADE, DAY, UTC) is None


def test_a_visit_planned_before_the_case_came_on_site_from_in_house_is_still_to_be_made():
    # The first visit goes out on day 31; the advance notice's deadline holds the move on site until day 46.
    arrived = case(stage_entered_on=dt.date(2026, 4, 16), previous_stage=Stage.INTERNAL)
    assert not_workable(arrived, [], MADE, DAY, UTC) is None
    # Moving on from on site still takes it off.
    onwards = case(stage=Stage.LITIGATION, stage_entered_on=dt.date(2026, 7, 1), previous_stage=Stage.INTERNAL)
    assert not_workable(onwards, [], MADE, DAY, UTC) == (
        "case moved to litigation on 2026-07-01, after the visit was planned on 2026-04-01")
