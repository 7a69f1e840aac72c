"""Dates and times in the right zone. Pure functions.

Times are stored in UTC; days past due count in the business's zone; a
slot such as "09:30" means 09:30 where the debtor lives.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from functools import lru_cache

UTC = dt.UTC


@lru_cache(maxsize=512)
def zone(name: str | None, fallback: str = "UTC") -> zoneinfo.ZoneInfo:
    """The zone called ``name``, or ``fallback`` when it is empty or unknown."""
    for candidate in (name, fallback, "UTC"):
        if not candidate:
            continue
        try:
            return zoneinfo.ZoneInfo(candidate)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            continue
    return zoneinfo.ZoneInfo("UTC")


def local_date(moment: dt.datetime, tz: dt.tzinfo) -> dt.date:
    return moment.astimezone(tz).date()


def days_past_due(due_on: dt.date, today: dt.date) -> int:
    return (today - due_on).days


def local_moment(day: dt.date, at: dt.time | None, tz: dt.tzinfo) -> dt.datetime:
    """``day`` at ``at`` (midnight if None) in ``tz``, as an aware UTC datetime.

    A wall time that a DST change skips is moved forward by the gap, as
    zoneinfo's fold=0 does; that keeps it within the intended part of the day.
    """
    wall = dt.datetime.combine(day, at or dt.time(0, 0), tzinfo=tz)
    return wall.astimezone(UTC)


def parse_moment(text: str, tz: dt.tzinfo) -> dt.datetime:
    """ISO-8601 date or datetime; a naive one is read in ``tz``. Returns UTC."""
    text = text.strip()
    try:
        if len(text) == 10:
            moment = dt.datetime.combine(dt.date.fromisoformat(text), dt.time(0, 0))
        else:
            moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"not an ISO-8601 date or time: {text!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(UTC)


def utc_now() -> dt.datetime:
    return dt.datetime.now(UTC)


def to_text(moment: dt.datetime) -> str:
    """The stored form: UTC, seconds, 'Z' - sorts as text in time order."""
    # Hot (every action delivered reads and writes several): a run's moments
    # repeat, so each is formatted once. Equal aware datetimes are the same
    # instant, whatever their zone, so they share their text.
    text = _TEXTS.get(moment) if moment.tzinfo is not None else None
    if text is None:
        utc = moment.astimezone(UTC)
        # isoformat is faster than strftime, and gives the same text from year 1000 on.
        text = utc.strftime("%Y-%m-%dT%H:%M:%SZ") if utc.year < 1000 else f"{utc.isoformat(timespec='seconds')[:19]}Z"
        if moment.tzinfo is not None:
            if len(_TEXTS) >= 4096:
                _TEXTS.clear()
            _TEXTS[moment] = text
    return text


_TEXTS: dict[dt.datetime, str] = {}


def from_text(text: str) -> dt.datetime:
    """A stored moment back as an aware UTC datetime (only the stored form is accepted)."""
    moment = _MOMENTS.get(text)
    if moment is None:
        # fromisoformat is many times faster than strptime; the length and the
        # 'Z' keep it as strict as the format (anything else goes through strptime, which refuses it).
        if len(text) == 20 and text[19] == "Z" and text[10] == "T" and text[4] == text[7] == "-":
            moment = dt.datetime.fromisoformat(text)
        else:
            moment = dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        if len(_MOMENTS) >= 4096:
            _MOMENTS.clear()
        _MOMENTS[text] = moment
    return moment


# Stored moments repeat (a run's actions share their not_before): each is parsed once. Datetimes are immutable.
_MOMENTS: dict[str, dt.datetime] = {}
