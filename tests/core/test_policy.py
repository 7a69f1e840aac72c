"""The policy is pure: dates and cases in, plans out. No database here."""

from __future__ import annotations

import datetime as dt

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dunning.models import ActionKind, Case, Stage
from dunning.policy import PolicyError, check_channels, evaluate, load_policy, load_policy_text

DUE = dt.date(2026, 3, 1)
TRADE = load_policy("trade-receivables")
LOANS = load_policy("consumer-loans")


def case(**kw: object) -> Case:
    base = dict(id=7, debtor_id="D1", currency="EUR", balance=1_200_000, anchor_due_on=DUE)
    return Case(**(base | kw))  # type: ignore[arg-type]


def day(dpd: int) -> dt.date:
    return DUE + dt.timedelta(days=dpd)


def names(plan) -> list[tuple[str, str | None]]:
    return [(i.step, i.channel or i.target) for i in plan.items]


def test_todays_steps_are_planned_in_policy_order():
    plan = evaluate(TRADE, case(planned_through=day(0)), day(1))
    assert names(plan) == [("overdue-notice", "email"), ("overdue-notice", "phone")]
    assert plan.items[0].key(7) == "7:overdue-notice:email:2026-03-02"
    assert plan.next_action_on == day(3)


def test_a_day_already_planned_plans_nothing():
    plan = evaluate(TRADE, case(planned_through=day(1)), day(1))
    assert plan.items == () and plan.next_action_on == day(3)


def test_days_without_steps_plan_nothing_and_point_to_the_next():
    plan = evaluate(TRADE, case(planned_through=day(1)), day(2))
    assert plan.items == () and plan.next_action_on == day(3)


def test_past_steps_are_dropped_but_required_ones_and_stage_changes_run_late():
    # The runner was down from day 89 to day 95.
    plan = evaluate(TRADE, case(stage=Stage.ONSITE, planned_through=day(88)), day(95))
    assert names(plan) == [
        ("formal-demand", "letter"),
        ("reconciliation-statement", "letter"),
        ("enter-agency", "agency"),
    ]
    assert all(i.late for i in plan.items)
    assert ("lock-account", 91) in plan.missed


def test_a_late_import_takes_the_whole_stage_path():
    plan = evaluate(TRADE, case(planned_through=None), day(200))
    kinds = [(i.kind, i.target) for i in plan.items if i.kind is not ActionKind.OUTREACH]
    # Onsite, then litigation (approval); the agency's placement window has passed.
    assert kinds == [(ActionKind.ESCALATE, "onsite"), (ActionKind.ESCALATE, "litigation")]
    assert plan.items[-1].requires_approval


def test_recall_comes_before_the_litigation_request():
    plan = evaluate(TRADE, case(stage=Stage.AGENCY, previous_stage=Stage.ONSITE, planned_through=day(180)), day(181))
    assert [(i.kind, i.target) for i in plan.items if i.kind is not ActionKind.OUTREACH] == [
        (ActionKind.RECALL, "onsite"),
        (ActionKind.ESCALATE, "litigation"),
    ]


def test_stage_entry_needs_its_minimum_balance():
    small = case(stage=Stage.ONSITE, balance=40_000, planned_through=day(90))
    plan = evaluate(TRADE, small, day(91))
    assert "enter-agency" not in [i.step for i in plan.items]


def test_slots_make_one_action_per_time():
    plan = evaluate(LOANS, case(planned_through=day(6)), day(7))
    calls = [i for i in plan.items if i.step == "daily-calls"]
    assert [i.at for i in calls] == [dt.time(9, 30), dt.time(14, 30), dt.time(19, 0)]
    assert len({i.key(1) for i in calls}) == 3


def test_resolved_cases_plan_nothing():
    assert evaluate(TRADE, case(status="paid"), day(5)).items == ()


POLICY = """
name = "p"
[[steps]]
name = "s"
dpd = 1
channels = ["email"]
template = "t"
"""


@pytest.mark.parametrize(
    "text, message",
    [
        (POLICY + "colour = 'red'\n", "step 's': unknown key 'colour'"),
        (POLICY.replace('dpd = 1', 'dpd = [5, 2]'), "step 's': 'dpd' range [5, 2] ends before it starts"),
        (POLICY.replace('dpd = 1', 'dpd = 1\nevery = 2'), "'every' needs 'dpd' to be a range"),
        (POLICY.replace('channels = ["email"]', 'channels = ["email"]\nnotify = "manager"'), "exactly one of"),
        (POLICY.replace('channels = ["email"]', 'notify = "boss"'), "'notify' must be one of"),
        (POLICY + "[stages.agncy]\nentry_dpd = 3\n", "unknown stage 'agncy'"),
        ("name = 'p'\n[stages.onsite]\nentry_dpd = 90\n[stages.agency]\nentry_dpd = 30\n", "comes before"),
        (POLICY.replace("name = \"s\"", "name = \"a:b\""), "may not contain ':'"),
        ("name = 'p'\nextra = 1\n", "unknown key 'extra'"),
        ("not toml [", "not valid TOML"),
        (POLICY + 'notify = """supervisor"\n', "Unterminated string (at end of document, line 8)"),
    ],
)
def test_bad_policies_name_the_key_and_step(text: str, message: str) -> None:
    with pytest.raises(PolicyError, match=r"policy.toml") as err:
        load_policy_text(text, "policy.toml")
    assert message in str(err.value)


def test_unknown_channel_is_an_error_and_a_disabled_one_a_warning():
    policy = load_policy_text(POLICY.replace('"email"', '"emial"'), "policy.toml")
    with pytest.raises(PolicyError, match="step 's': unknown channel 'emial'"):
        check_channels(policy, {"email", "phone"}, {"email"})
    warnings = check_channels(load_policy_text(POLICY, "policy.toml"), {"email"}, set())
    assert warnings == ["step 's': channel 'email' is not enabled; its actions will be skipped with an event"]


@settings(max_examples=60, deadline=None)
@given(
    gaps=st.lists(st.integers(min_value=1, max_value=25), min_size=1, max_size=25),
    start=st.integers(min_value=-12, max_value=40),
)
def test_whatever_the_run_schedule_no_occurrence_is_planned_twice(gaps: list[int], start: int) -> None:
    """Runs on irregular days never plan a step occurrence twice, and never lose a required one."""
    c = case(planned_through=None)
    today = day(start)
    keys: list[str] = []
    for gap in gaps:
        plan = evaluate(TRADE, c, today)
        keys.extend(i.key(c.id) for i in plan.items)
        c = attrs.evolve(c, planned_through=today)
        today += dt.timedelta(days=gap)
    assert len(keys) == len(set(keys))
    last_day = c.planned_through
    assert last_day is not None
    if (last_day - DUE).days >= 91:
        assert any(":formal-demand:" in k for k in keys)


def test_policy_amounts_are_major_units_in_any_currency():
    policy = load_policy_text(POLICY.replace('template = "t"', 'template = "t"\nmin_balance = "500.50"'), "p.toml")
    step = policy.steps[0]
    assert step.when.hold(case(currency="JPY", balance=501), Stage.INTERNAL)
    assert not step.when.hold(case(currency="JPY", balance=500), Stage.INTERNAL)
    assert step.when.hold(case(currency="EUR", balance=50050), Stage.INTERNAL)
    assert not step.when.hold(case(currency="EUR", balance=50049), Stage.INTERNAL)


FACTS = load_policy_text("""
name = "facts"
[[steps]]
name = "doubtful-call"
dpd = [40, 60]
channels = ["phone"]
template = "firm-reminder"
risk = ["doubtful", "bad_debt"]

[[steps]]
name = "closed-review"
dpd = [40, 60]
notify = "manager"
signals = ["business_closed"]
""", "facts.toml")


def test_steps_can_require_a_risk_class_or_a_signal():
    reached = case(planned_through=day(44), last_contact_on=day(44))
    assert names(evaluate(FACTS, reached, day(45))) == []  # in collection: talks to us
    lost = case(planned_through=day(44))  # never reached in 45 days: doubtful
    assert names(evaluate(FACTS, lost, day(45))) == [("doubtful-call", "phone")]
    closed = case(planned_through=day(44), last_contact_on=day(44), signals=("business_closed",))
    assert names(evaluate(FACTS, closed, day(45))) == [("doubtful-call", "phone"), ("closed-review", "manager")]


def test_signal_and_risk_conditions_name_what_they_accept():
    with pytest.raises(PolicyError, match="'risk' has 'shaky'"):
        load_policy_text(
            'name = "x"\n[[steps]]\nname = "s"\ndpd = 1\nnotify = "manager"\nrisk = ["shaky"]\n', "bad.toml"
        )
    with pytest.raises(PolicyError, match="'on_signals' has 'moved'"):
        load_policy_text('name = "x"\n[stages.onsite]\nentry_dpd = 31\non_signals = ["moved"]\n', "bad.toml")
