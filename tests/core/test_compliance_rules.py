"""The contact rules as pure functions: windows across DST, caps, profiles, risk, limitation."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dunning.compliance import caps, windows
from dunning.compliance.caps import Attempt
from dunning.compliance.profiles import CN, DEFAULT, US_REGF, ComplianceError, Window, parse_compliance
from dunning.compliance.risk import Risk, risk_class
from dunning.compliance.zones import debtor_zones
from dunning.models import Case, Contact, Debtor

LONDON = zoneinfo.ZoneInfo("Europe/London")
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
EIGHT_TO_NINE = Window(dt.time(8), dt.time(21))


def local(zone: dt.tzinfo, *parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=zone)


@pytest.mark.parametrize("day", [dt.date(2026, 3, 27), dt.date(2026, 3, 29), dt.date(2026, 10, 25)])
def test_the_window_opens_at_eight_local_time_also_on_dst_days(day: dt.date) -> None:
    # 29 March and 25 October 2026 are the UK's clock changes.
    before = local(LONDON, day.year, day.month, day.day, 7, 59, 59)
    opening = local(LONDON, day.year, day.month, day.day, 8, 0, 0)
    assert windows.next_allowed(before, [LONDON], EIGHT_TO_NINE) == opening.astimezone(dt.UTC)
    assert windows.next_allowed(opening, [LONDON], EIGHT_TO_NINE) is None


def test_after_the_window_waits_for_the_next_morning() -> None:
    late = local(LONDON, 2026, 3, 4, 21, 0, 0)
    assert windows.next_allowed(late, [LONDON], EIGHT_TO_NINE) == local(LONDON, 2026, 3, 5, 8).astimezone(dt.UTC)


def test_weekends_and_holidays_wait_for_the_next_working_day() -> None:
    saturday = local(LONDON, 2026, 3, 7, 10)
    monday = local(LONDON, 2026, 3, 9, 8)
    assert windows.next_allowed(saturday, [LONDON], EIGHT_TO_NINE, working_days_only=True, days_off=(5, 6)) \
        == monday.astimezone(dt.UTC)
    christmas = {dt.date(2026, 12, 25), dt.date(2026, 12, 28)}  # Friday, and the Monday substitute
    thursday_night = local(LONDON, 2026, 12, 24, 22)
    assert windows.next_allowed(thursday_night, [LONDON], EIGHT_TO_NINE, working_days_only=True, days_off=(5, 6),
                                is_holiday=christmas.__contains__) == local(LONDON, 2026, 12, 29, 8).astimezone(dt.UTC)


def test_a_debtor_in_several_zones_is_reached_only_when_every_zone_allows() -> None:
    # 13:30 UTC is 08:30 in New York but 07:30 in Chicago.
    chicago = zoneinfo.ZoneInfo("America/Chicago")
    moment = dt.datetime(2026, 1, 14, 13, 30, tzinfo=dt.UTC)
    assert windows.next_allowed(moment, [NEW_YORK], EIGHT_TO_NINE) is None
    assert windows.next_allowed(moment, [NEW_YORK, chicago], EIGHT_TO_NINE) == dt.datetime(
        2026, 1, 14, 14, 0, tzinfo=dt.UTC
    )


@given(st.datetimes(min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2027, 12, 31)))
def test_a_deferred_contact_is_never_early_and_never_dropped(naive: dt.datetime) -> None:
    now = naive.replace(tzinfo=dt.UTC)
    until = windows.next_allowed(now, [LONDON], EIGHT_TO_NINE, working_days_only=True, days_off=(5, 6))
    if until is None:
        moment = now.astimezone(LONDON)
        assert dt.time(8) <= moment.time() < dt.time(21) and moment.weekday() < 5
    else:
        assert until > now
        moment = until.astimezone(LONDON)
        assert moment.time() == dt.time(8) and moment.weekday() < 5
        assert windows.next_allowed(until, [LONDON], EIGHT_TO_NINE, working_days_only=True, days_off=(5, 6)) is None


def test_regf_seven_calls_in_seven_days() -> None:
    cap = US_REGF.caps[0]
    start = dt.datetime(2026, 3, 2, 14, tzinfo=dt.UTC)
    calls = [Attempt(start + dt.timedelta(hours=12 * i), "phone") for i in range(7)]
    assert caps.cap_reached(cap, calls, start + dt.timedelta(days=4), NEW_YORK)  # the 8th is refused
    assert not caps.cap_reached(cap, calls[:6], start + dt.timedelta(days=4), NEW_YORK)
    # A week after the first call it has left the rolling window.
    assert not caps.cap_reached(cap, calls, start + dt.timedelta(days=7, minutes=1), NEW_YORK)
    assert not caps.cap_reached(cap, [Attempt(a.at, "sms") for a in calls], start + dt.timedelta(days=4), NEW_YORK)


def test_cn_counts_connected_calls_per_debtor_and_unanswered_per_number() -> None:
    connected, per_number = CN.caps
    now = dt.datetime(2026, 3, 2, 8, tzinfo=dt.UTC)  # 16:00 in Shanghai
    shanghai = zoneinfo.ZoneInfo("Asia/Shanghai")
    talks = [Attempt(now - dt.timedelta(hours=h), "phone", "+8613800000001", True) for h in (1, 2, 3)]
    assert caps.cap_reached(connected, talks, now, shanghai)
    assert not caps.cap_reached(connected, [*talks[:2], Attempt(now, "phone", connected=False)], now, shanghai)
    # Yesterday's calls (before local midnight) do not count today.
    assert not caps.cap_reached(connected, talks, now + dt.timedelta(hours=9), shanghai)
    rings = [Attempt(now - dt.timedelta(minutes=m), "phone", "+8613800000001", False) for m in range(6)]
    assert caps.cap_reached(per_number, rings, now, shanghai, numbers=["+8613800000001"])
    assert not caps.cap_reached(per_number, rings, now, shanghai, numbers=["+8613800000001", "+8613800000002"])


def test_profiles_are_tuned_in_config_and_bad_keys_are_named() -> None:
    profile = parse_compliance({"profile": "cn", "windows": {"phone": ["09:00", "20:00"], "email": False},
                                "promise_max_days": 3, "caps": [{"channel": "sms", "max": 2, "per": "7d"}]}, "x.toml")
    # false: no window for email at all (not even the medium's)
    assert profile.windows["phone"] == Window(dt.time(9), dt.time(20)) and profile.windows["email"] is None
    assert profile.promise_max_days == 3 and profile.caps[0].channel == "sms"
    assert parse_compliance({}, "x.toml") is DEFAULT
    for table, key in [
        ({"profile": "mars"}, "compliance.profile"),
        ({"windows": {"phone": ["9", "20"]}}, "compliance.windows.phone"),
        ({"caps": [{"channel": "sms", "max": 2, "per": "week"}]}, "compliance.caps[0].per"),
        ({"caps": [{"channel": "sms", "max": 2, "colour": "red"}]}, "compliance.caps[0].colour"),
        ({"quiet_days": 3}, "compliance.quiet_days"),
        # Found as a new user: a misspelt channel was ignored and 25:00 was a traceback.
        ({"windows": {"phon": ["09:00", "20:00"]}}, "compliance.windows.phon"),
        ({"windows": {"call": ["08:00", "25:00"]}}, "compliance.windows.call"),
        ({"caps": [{"channel": "texts", "max": 2}]}, "compliance.caps[0].channel"),
        ({"working_days_only": ["cal"]}, "compliance.working_days_only[0]"),
        ({"binds_companies": "yes"}, "compliance.binds_companies"),
    ]:
        with pytest.raises(ComplianceError) as info:
            parse_compliance(table, "x.toml")
        assert f"'{key}'" in str(info.value)


def test_the_debtors_zone_comes_from_them_then_their_number_then_the_business() -> None:
    default = zoneinfo.ZoneInfo("UTC")
    own = Debtor(id="D", name="x", timezone="Asia/Tokyo")
    assert debtor_zones(own, [], default) == (zoneinfo.ZoneInfo("Asia/Tokyo"),)
    number = [Contact(debtor_id="D", kind="work", value="+1 212 555 0100")]
    assert debtor_zones(Debtor(id="D", name="x"), number, default) == (NEW_YORK,)
    # A range the numbering plan does not place (the UK's drama numbers) falls back to its country.
    drama = [Contact(debtor_id="D", kind="mobile", value="+44 7700 900123")]
    assert debtor_zones(Debtor(id="D", name="x"), drama, default) == (LONDON,)
    assert debtor_zones(Debtor(id="D", name="x"), [], default) == (default,)


def test_risk_classes_follow_days_past_due_promises_contact_and_signals() -> None:
    today = dt.date(2026, 6, 1)

    def case(dpd: int, **kw: object) -> Case:
        return Case(
            id=1, debtor_id="D", currency="EUR", balance=100, anchor_due_on=today - dt.timedelta(days=dpd), **kw
        )

    assert risk_class(case(-3), today) is Risk.NOT_YET_DUE
    assert risk_class(case(10, last_contact_on=today), today) is Risk.IN_COLLECTION
    assert risk_class(case(10, broken_promises=2, last_contact_on=today), today) is Risk.DOUBTFUL
    assert risk_class(case(95, last_contact_on=today), today) is Risk.DOUBTFUL
    assert risk_class(case(40), today) is Risk.DOUBTFUL  # never reached in over a month
    assert risk_class(case(20, signals=("business_closed",), last_contact_on=today), today) is Risk.BAD_DEBT
    assert risk_class(case(200, last_contact_on=today), today) is Risk.BAD_DEBT
    assert risk_class(case(400, last_contact_on=today - dt.timedelta(days=300)), today) is Risk.DORMANT


def test_preferred_slots_favour_mornings_mondays_and_the_start_of_the_month() -> None:
    from dunning.compliance import slots

    monday_morning = local(LONDON, 2026, 6, 1, 9, 30)  # Monday 1 June
    assert slots.preference(monday_morning) > slots.preference(local(LONDON, 2026, 6, 1, 15))
    assert slots.preference(local(LONDON, 2026, 6, 10, 12, 30)) < slots.preference(local(LONDON, 2026, 6, 10, 15))
    assert slots.preference(local(LONDON, 2026, 6, 10, 17, 30)) < slots.preference(local(LONDON, 2026, 6, 10, 16))
    assert slots.preference(local(LONDON, 2026, 6, 30, 10)) < slots.preference(local(LONDON, 2026, 6, 10, 10))
    assert slots.best_slot(dt.date(2026, 6, 10), LONDON) == "morning"
    assert slots.best_slot(dt.date(2026, 6, 10), LONDON, ("afternoon", "evening")) == "afternoon"
