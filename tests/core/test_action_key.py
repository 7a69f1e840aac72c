"""``ActionKey``: an action's key read and written one way, and the same text in the database as before. Pure."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dunning import ActionKey
from dunning.models import ActionKind
from dunning.policy import Planned

NAME = st.text(st.characters(blacklist_characters=":", blacklist_categories=("Cs",)), min_size=1, max_size=20)


def test_a_key_reads_into_its_four_parts_and_back() -> None:
    key = ActionKey.parse("7:overdue-notice:email:2026-03-09")
    assert (key.case_id, key.step, key.channel, key.occurrence) == (7, "overdue-notice", "email", "2026-03-09")
    assert str(key) == "7:overdue-notice:email:2026-03-09"


def test_a_timed_occurrence_keeps_its_colon_and_gives_its_time() -> None:
    key = ActionKey.parse("5:daily-calls:phone:2026-03-09T09:30")
    assert (key.channel, key.occurrence, key.time) == ("phone", "2026-03-09T09:30", dt.time(9, 30))
    assert ActionKey.parse("5:daily-calls:phone:2026-03-09").time is None
    assert ActionKey.parse("5:promise-reminder:sms:12").time is None  # an id, not a date


def test_the_planner_writes_the_same_text_as_before() -> None:
    timed = Planned(kind=ActionKind.OUTREACH, step="daily-calls", dpd=3, day=dt.date(2026, 1, 5), channel="phone",
                    at=dt.time(9, 0))
    untimed = Planned(kind=ActionKind.ESCALATE, step="to-agency", dpd=60, day=dt.date(2026, 3, 1))
    assert timed.key(12) == "12:daily-calls:phone:2026-01-05T09:00" == f"12:{timed.key_tail()}"
    assert untimed.key(12) == "12:to-agency:escalate:2026-03-01" == f"12:{untimed.key_tail()}"
    assert str(ActionKey.for_day(12, "daily-calls", "phone", dt.date(2026, 1, 5), dt.time(9, 0))) == timed.key(12)


def test_a_fallback_is_the_same_occurrence_on_another_channel() -> None:
    key = ActionKey.parse("3:first-call:phone:2026-01-05T09:00")
    assert str(key.on_channel("letter")) == "3:first-call:letter:2026-01-05T09:00"
    assert key.without_occurrence == "3:first-call:phone:"


@pytest.mark.parametrize("text", ["", "k", "7:overdue-notice:email", "x:overdue-notice:email:2026-03-09",
                                  "-1:step:email:2026-03-09", "7::email:2026-03-09", "7:step::2026-03-09",
                                  "7:step:email:", "07:step:email:2026-03-09", "\u0663:step:email:2026-03-09"])
def test_what_is_not_a_key_is_refused_naming_the_text(text: str) -> None:
    with pytest.raises(ValueError, match="is not an action key"):
        ActionKey.parse(text)


def test_a_part_that_would_not_read_back_is_refused() -> None:
    with pytest.raises(ValueError, match="step must be non-empty and hold no colon"):
        ActionKey(1, "a:b", "email", "2026-03-09")
    with pytest.raises(ValueError, match="occurrence must not be empty"):
        ActionKey(1, "a", "email", "")


@given(case_id=st.integers(0, 10**9), step=NAME, channel=NAME, occurrence=st.text(min_size=1, max_size=30))
def test_every_key_reads_back_to_itself(case_id: int, step: str, channel: str, occurrence: str) -> None:
    key = ActionKey(case_id, step, channel, occurrence)
    assert ActionKey.parse(str(key)) == key


@given(st.text(alphabet=st.sampled_from("0123456789:aT-\u0663"), max_size=24))
def test_any_text_that_reads_as_a_key_is_written_back_unchanged(text: str) -> None:
    try:
        key = ActionKey.parse(text)
    except ValueError:
        return
    assert str(key) == text
