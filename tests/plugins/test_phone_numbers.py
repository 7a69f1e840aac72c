"""The phone plugin's pure rules: number mix, slots, E.164, collectors, settings, order. No database."""

from __future__ import annotations

import collections
import datetime as dt
import zoneinfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dunning.models import Contact
from dunning.plugins.phone import calls, numbers
from dunning.plugins.phone.calls import CallRow, phone_settings


def phones(*kinds: str, bad: tuple[str, ...] = ()) -> list[Contact]:
    return [Contact(debtor_id="D1", kind=kind, value=f"+4477009001{i:02d}", bad=kind in bad, id=i)
            for i, kind in enumerate(kinds, start=1)]


def shares(contacts: list[Contact], keys: list[str], mix=numbers.MIX) -> dict[str, float]:
    counts = collections.Counter(numbers.choose_number(contacts, key, mix).kind.value for key in keys)
    return {kind: counts[kind] / len(keys) for kind in counts}


KEYS = [f"{case}:daily-calls:phone:2026-03-{day:02d}T09:30" for case in range(1, 201) for day in range(1, 21)]


def test_the_mix_over_many_keys_follows_collection_practice_proportions():
    got = shares(phones("mobile", "work", "home"), KEYS)
    assert got["mobile"] == pytest.approx(75 / 95, abs=0.02)
    assert got["work"] == pytest.approx(12 / 95, abs=0.015)
    assert got["home"] == pytest.approx(8 / 95, abs=0.015)


@settings(max_examples=25, deadline=None)
@given(kinds=st.sets(st.sampled_from(numbers.PHONE_KINDS), min_size=1), salt=st.text(min_size=1, max_size=8))
def test_the_mix_is_renormalised_over_the_kinds_a_debtor_has(kinds: set[str], salt: str):
    keys = [f"{salt}:{i}:step:phone:2026-03-02" for i in range(1500)]
    got = shares(phones(*sorted(kinds)), keys)
    total = sum(numbers.MIX[k] for k in kinds)
    assert set(got) == kinds
    for kind in kinds:
        assert got[kind] == pytest.approx(numbers.MIX[kind] / total, abs=0.04)


@given(key=st.text(min_size=1, max_size=40))
def test_the_choice_is_the_same_for_the_same_key(key: str):
    contacts = phones("mobile", "mobile", "work", "home")
    assert numbers.choose_number(contacts, key) == numbers.choose_number(list(contacts), key)


def test_two_mobiles_share_the_mobile_calls():
    got = collections.Counter(numbers.choose_number(phones("mobile", "mobile"), key).id for key in KEYS[:2000])
    assert got[1] / 2000 == pytest.approx(0.5, abs=0.04)


def test_kinds_without_weight_are_never_chosen_and_nothing_left_is_none():
    mix = {"mobile": 0.0, "work": 1.0, "home": 0.0}
    assert {numbers.choose_number(phones("mobile", "work"), k, mix).kind.value for k in KEYS[:300]} == {"work"}
    assert numbers.choose_number(phones("mobile"), "k", mix) is None
    assert numbers.choose_number([], "k") is None


def test_a_steps_at_time_decides_the_slot():
    assert numbers.slot_for("7:daily-calls:phone:2026-03-09T09:30") == "morning"
    assert numbers.slot_for("7:daily-calls:phone:2026-03-09T14:30") == "afternoon"
    assert numbers.slot_for("7:daily-calls:phone:2026-03-09T19:00") == "evening"
    assert numbers.slot_for("7:overdue-notice:phone:2026-03-09T09:30", ("evening",)) == "morning"  # the time wins


def test_untimed_steps_are_spread_over_the_slots_allowed():
    got = collections.Counter(numbers.slot_for(f"{i}:overdue-notice:phone:2026-03-09") for i in range(3000))
    assert set(got) == set(numbers.SLOTS)
    assert all(n / 3000 == pytest.approx(1 / 3, abs=0.04) for n in got.values())
    business = {numbers.slot_for(f"{i}:overdue-notice:phone:2026-03-09", numbers.BUSINESS_SLOTS) for i in range(300)}
    assert business == {"morning", "afternoon"}


def test_companies_are_not_called_in_the_evening_unless_the_settings_say_so():
    assert phone_settings({}).slots_for("company") == ("morning", "afternoon")
    assert phone_settings({}).slots_for("person") == numbers.SLOTS
    assert phone_settings({"slots": ["evening"]}).slots_for("company") == ("evening",)


@pytest.mark.parametrize("stored, region, expected", [
    ("+44 7700 900123", None, "+447700900123"),
    ("07700 900123", "GB", "+447700900123"),
    ("138 0013 8000", "cn", "+8613800138000"),
    ("(212) 555-0100", "US", "+12125550100"),
    ("+86-138-0013-8000", "GB", "+8613800138000"),
])
def test_numbers_are_shown_in_e164(stored, region, expected):
    assert numbers.e164(stored, region) == expected
    assert numbers.dial_form(stored, region) == expected


def test_a_form_phonenumbers_cannot_read_is_shown_as_stored():
    assert numbers.e164("07700 900123", None) is None
    assert numbers.dial_form(" 07700 900123 ", None) == "07700 900123"
    assert numbers.same_number("07700 900123", "+44 7700 900123", "GB")


def test_each_case_keeps_one_collector():
    roster = ["ann", "bob"]
    assert {calls.collector_for(7, roster) for _ in range(3)} == {"bob"}
    assert calls.collector_for(8, roster) == "ann"
    assert calls.collector_for(8, []) is None


@pytest.mark.parametrize("raw, message", [
    ({"collector": ["ann"]}, "unknown key 'collector'"),
    ({"collectors": "ann"}, "'collectors' must be a list"),
    ({"collectors": ["ann", "ann"]}, "names someone twice"),
    ({"mix": {"fax": 1}}, "'mix' has 'fax'"),
    ({"mix": {"mobile": -1}}, "'mix.mobile'"),
    ({"mix": {"mobile": 0, "work": 0, "home": 0}}, "weight of 0"),
    ({"slots": ["night"]}, "'slots'"),
    ({"company": 5}, "'company'"),
])
def test_bad_phone_settings_name_the_key(raw, message):
    with pytest.raises(ValueError, match=message):
        phone_settings(raw)


def test_log_options_must_fit_the_outcome():
    calls.check_log("promise", "100", "2026-03-03T15:00")
    calls.check_log("no_answer", None, None)
    with pytest.raises(ValueError, match="needs --promise AMOUNT and --due"):
        calls.check_log("promise", "100", None)
    with pytest.raises(ValueError, match="with --outcome promise only"):
        calls.check_log("busy", "100", None)
    with pytest.raises(ValueError, match="unknown outcome"):
        calls.check_log("shouted", None, None)


def test_only_conversations_count_as_reaching_someone():
    assert calls.connected("promise", "debtor") is True
    assert calls.connected("no_answer", "debtor") is False
    assert calls.connected("wrong_number", "debtor") is False
    # A relative answering the debtor's phone is not a talk with the debtor ...
    assert calls.connected("third_party", "debtor") is None
    # ... but it is the point of a whereabouts call.
    assert calls.connected("third_party", "contacts") is True
    assert calls.connected("call_back", "contacts") is True
    assert set(calls.OUTCOMES) == calls.CONVERSATIONS | calls.NOT_REACHED | {"third_party", "call_back"}


def row(call_id: int, case_id: int, priority: float, slot: str) -> CallRow:
    return CallRow(call_id=call_id, key=f"k{call_id}", case_id=case_id, debtor_id="D", debtor_name="N", number="+1",
                   kind="mobile", slot=slot, priority=priority, reasons=("x",), step="s", template="t",
                   audience="debtor", balance="EUR 1.00", balance_minor=100, currency="EUR", dpd=3, collector=None)


def test_the_list_is_ordered_by_priority_then_the_days_slots():
    rows = [row(1, 1, 10, "evening"), row(2, 2, 50, "afternoon"), row(3, 1, 10, "morning"), row(4, 3, 30, "morning")]
    assert [r.call_id for r in calls.order(rows)] == [2, 4, 3, 1]


def test_reasons_name_the_facts_then_the_step():
    assert calls.reasons(["promise due today"], "daily-calls", "reminder-call", "debtor") == (
        "promise due today", "daily-calls (reminder-call)")
    assert calls.reasons([], "locate-via-contacts", "whereabouts", "contacts") == (
        "locate-via-contacts (whereabouts), third party",)


def test_calls_without_a_time_lean_towards_the_preferred_slots_but_use_the_whole_day() -> None:
    london = zoneinfo.ZoneInfo("Europe/London")
    drawn = collections.Counter(numbers.slot_for(f"9:call:phone:{i}", numbers.SLOTS, dt.date(2026, 6, 10), london)
                    for i in range(3000))
    assert drawn["morning"] > drawn["afternoon"] > 0 and drawn["evening"] > 0
    # A step's own time still decides.
    assert numbers.slot_for("9:call:phone:2026-06-10T19:00", numbers.SLOTS, dt.date(2026, 6, 10), london) == "evening"
