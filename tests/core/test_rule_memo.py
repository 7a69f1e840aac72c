"""The contact rules decide the same with answers kept for a run's moment as when each is worked out anew."""

from __future__ import annotations

import datetime as dt
import functools
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dunning.compliance import caps, rule_memo, rules
from dunning.compliance.caps import Attempt
from dunning.compliance.media import medium_of
from dunning.compliance.profiles import CN, DEFAULT, UK, US_REGF, Profile
from dunning.models import Case
from dunning.runtime import Runtime
from tests.conftest import ChannelsPlugin


@pytest.fixture
def dunning_runtime(dunning_database: str | Path, dunning_runtime: Callable[..., Runtime]) -> Callable[..., Runtime]:
    """Every runtime here opens its store on SQLite, then (the test's second run) on PostgreSQL. The database is
    asked for first, so it outlives the runtimes: they are closed before it is dropped."""
    return functools.partial(dunning_runtime, database=dunning_database)


UTC = dt.UTC
CHANNELS = ("phone", "email", "sms", "letter")
POLICY = """
name = "memo"
[[steps]]
name = "remind"
dpd = [1, 400]
channels = ["phone", "email", "sms", "letter"]
template = "reminder"
"""
JURISDICTIONS = """
[compliance]
profile = "default"
working_days_only = ["call", "email", "letter"]
[compliance.jurisdictions]
US = "us-regf"
CN = "cn"
GB = "uk"
"""
# (timezone, country, mobile, kind): zones of their own, zones from the number, none at all; several
# countries' holidays; consumers and companies (Reg F binds persons only).
DEBTORS = [
    ("Europe/London", "GB", "+44 7700 900123", "person"),
    ("Europe/London", "GB", None, "company"),
    ("Europe/London", "IE", None, "company"),  # the same clock, other holidays (17 March)
    (None, "US", "+1 212 555 0100", "person"),
    (None, "US", "+1 312 555 0100", "company"),
    ("America/Los_Angeles", "US", "+1 213 555 0100", "person"),
    ("Asia/Shanghai", "CN", "+86 138 0013 8000", "person"),
    ("Europe/Berlin", "DE", "+49 151 23456789", "person"),
    (None, None, None, "company"),
    ("Australia/Sydney", "AU", "+61 412 345 678", "person"),
]
# Weekday mornings and nights, weekends, the clocks changing, public holidays in several countries.
MOMENTS = [
    dt.datetime(2026, 3, 2, 9, 5, tzinfo=UTC),
    dt.datetime(2026, 3, 2, 13, 30, tzinfo=UTC),
    dt.datetime(2026, 3, 2, 23, 0, tzinfo=UTC),
    dt.datetime(2026, 3, 7, 11, 0, tzinfo=UTC),
    dt.datetime(2026, 3, 17, 10, 0, tzinfo=UTC),
    dt.datetime(2026, 3, 29, 7, 0, tzinfo=UTC),
    dt.datetime(2026, 7, 3, 16, 0, tzinfo=UTC),
    dt.datetime(2026, 10, 1, 2, 0, tzinfo=UTC),
    dt.datetime(2026, 12, 25, 10, 0, tzinfo=UTC),
    dt.datetime(2026, 12, 28, 15, 45, tzinfo=UTC),
]


def attempts_for(rt: Runtime, case: Case, moment: dt.datetime, n: int) -> None:
    """Some of the debtors have been tried already, on every channel, answered or not, recently or not."""
    with rt.store.transaction():
        for i in range(n):
            rt.store.record_attempt(debtor_id=case.debtor_id, case_id=case.id, channel=CHANNELS[i % 4],
                                    source=CHANNELS[i % 4], at=moment - dt.timedelta(hours=i + 1),
                                    connected=(None, True, False)[i % 3])


def test_kept_answers_decide_as_answers_worked_out_anew(dunning_runtime: Callable[..., Runtime],
                                                        dunning_case: Callable[..., Case],
                                                        dunning_contexts: Callable[..., Any]) -> None:
    rt = dunning_runtime(plugins=[ChannelsPlugin(*CHANNELS)], policy=POLICY, enabled=list(CHANNELS),
                         toml=JURISDICTIONS)
    cases = [dunning_case(rt, timezone=tz, country=country, mobile=mobile, kind=kind,
                          email=f"d{i}@example.com", due_on=dt.date(2026, 1, 15))
             for i, (tz, country, mobile, kind) in enumerate(DEBTORS)]
    for i, case in enumerate(cases):
        attempts_for(rt, case, MOMENTS[1], 5 * i)
    decisions: Counter[str] = Counter()
    for moment in MOMENTS:
        for n, case in enumerate(cases):
            for channel in CHANNELS:
                for audience in ("debtor", "contacts"):
                    made = dunning_contexts(rt, case, channel, "reminder", now=moment,
                                            options={"audience": audience,
                                                     "disclosure": ("none", "location", "debt")[n % 3]})
                    kept = rules.check_action(made.action, made.case, moment, made.rule)
                    anew = rules._contact_rules(made.action, made.case, moment, made.rule,
                                                rule_memo.RoundMemo(rt.config, moment, made.rule.media))
                    assert kept == anew, (moment, case.debtor_id, channel, audience)
                    assert kept is not None
                    decisions[f"{kept.decision.name.lower()}:{kept.rule.split(':')[0]}"] += 1
    # The inputs reached every kind of answer: allowed, deferred by the window and by days off, blocked by caps.
    assert {"allow:contact_rules", "defer:window", "defer:working_days"} <= set(decisions), decisions
    assert {"block:third_party_disclosure", "block:quiet_after_conversation"} <= set(decisions), decisions
    assert any(key.startswith(("block:regf", "block:cn", "block:daily_attempts")) for key in decisions), decisions


def test_the_memo_starts_again_for_another_moment_configuration_or_media(dunning_runtime: Callable[..., Runtime]
                                                                         ) -> None:
    rt = dunning_runtime()
    first = rule_memo.memo_for(rt.config, MOMENTS[0], {"phone": "call"})
    assert rule_memo.memo_for(rt.config, MOMENTS[0], {"phone": "call"}) is first
    assert first.answer("k", lambda: 1) == 1 and first.answer("k", lambda: 2) == 1
    assert rule_memo.memo_for(rt.config, MOMENTS[1], {"phone": "call"}) is not first
    second = rule_memo.memo_for(rt.config, MOMENTS[1], {"phone": "call"})
    assert rule_memo.memo_for(rt.config, MOMENTS[1], {"phone": "text"}) is not second
    other = dunning_runtime(timezone="Asia/Shanghai")
    third = rule_memo.memo_for(other.config, MOMENTS[1], {"phone": "text"})
    assert third.today == dt.date(2026, 3, 2) and third.zone == other.config.zone
    assert rule_memo.memo_for(rt.config, MOMENTS[1], {"phone": "text"}) is not third


RAW = st.tuples(
    st.datetimes(min_value=dt.datetime(2026, 2, 20), max_value=dt.datetime(2026, 3, 3), timezones=st.just(UTC)),
    st.sampled_from(["phone", "sms", "email", "letter", "visit", "robocall"]),
    st.sampled_from([None, "+447700900123", "+447700900456"]),
    st.sampled_from(["debtor", "contact"]),
    st.sampled_from([None, True, False]),
)


@given(raw=st.lists(RAW, max_size=12), profile=st.sampled_from([DEFAULT, US_REGF, CN, UK]),
       channel=st.sampled_from(["phone", "sms", "email", "letter", "visit", "robocall"]))
def test_the_attempts_left_out_are_never_counted(raw: list[tuple[Any, ...]], profile: Profile, channel: str) -> None:
    """Only the attempts some cap (or the quiet days) could count are built; every count is the same."""
    media = {"robocall": "call"}
    now = dt.datetime(2026, 3, 2, 12, tzinfo=UTC)
    medium, bound, _reasons, counts = rules._channel_rules(profile, channel, media)
    own, every = rules._counted_attempts(raw, media, counts)
    all_every = [Attempt(at, ch, contact, connected, medium_of(ch, media)) for at, ch, contact, _r, connected in raw]
    all_own = [a for a, r in zip(all_every, raw, strict=True) if r[3] == "debtor"]
    numbers = ["+447700900123", "+447700900456"]
    for cap in bound:
        since = caps.period_start(cap, now, UTC)
        for mine, whole in ((own, all_own), (every, all_every)):
            assert caps.cap_reached(cap, mine, now, UTC, numbers, since=since) \
                == caps.cap_reached(cap, whole, now, UTC, numbers)
    if profile.quiet_days_after_conversation:
        assert caps.conversation_within(own, "call", now, profile.quiet_days_after_conversation) \
            == caps.conversation_within(all_own, "call", now, profile.quiet_days_after_conversation)
    assert medium == medium_of(channel, media)

