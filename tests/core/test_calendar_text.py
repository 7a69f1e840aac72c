"""The stored form of a moment: the fast ``to_text``/``from_text`` give what strftime/strptime gave."""

from __future__ import annotations

import datetime as dt
import random
import zoneinfo

import pytest

from dunning import calendar

FORMAT = "%Y-%m-%dT%H:%M:%SZ"
ZONES = [dt.UTC, zoneinfo.ZoneInfo("Europe/Berlin"), zoneinfo.ZoneInfo("America/New_York"),
         zoneinfo.ZoneInfo("UTC"), dt.timezone(dt.timedelta(hours=5, minutes=30))]


def test_the_text_and_the_moment_read_back_are_those_of_strftime_and_strptime():
    rng = random.Random(7)
    for _ in range(20_000):
        moment = dt.datetime(rng.randint(1, 9998), rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23),
                             rng.randint(0, 59), rng.randint(0, 59), rng.randint(0, 999_999), tzinfo=rng.choice(ZONES))
        text = calendar.to_text(moment)
        assert text == moment.astimezone(dt.UTC).strftime(FORMAT)
        assert calendar.to_text(moment) == text  # the second time from the cache
        if moment.year >= 1000:
            back = calendar.from_text(text)
            assert back == dt.datetime.strptime(text, FORMAT).replace(tzinfo=dt.UTC)
            assert back.tzinfo is dt.UTC


def test_the_same_instant_in_two_zones_has_one_text():
    berlin = dt.datetime(2026, 3, 29, 3, 30, tzinfo=zoneinfo.ZoneInfo("Europe/Berlin"))
    assert calendar.to_text(berlin) == "2026-03-29T01:30:00Z"
    assert calendar.to_text(berlin.astimezone(dt.UTC)) == "2026-03-29T01:30:00Z"


@pytest.mark.parametrize("text", ["2026-03-02", "2026-03-02T09:00:00", "2026-03-02T09:00:00+00:00",
                                  "2026-03-02 09:00:00Z", "2026-13-02T09:00:00Z", "2026-W10-1T09:00:00Z", "x" * 20])
def test_only_the_stored_form_is_read(text):
    with pytest.raises(ValueError):
        calendar.from_text(text)
