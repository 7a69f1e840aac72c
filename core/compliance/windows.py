"""Contact windows, weekends and public holidays, in the debtor's local time.

Pure: a moment, the debtor's zones and the rules in; the next moment a
contact is allowed out (or None when it is allowed now). An action outside
its window is deferred to that moment, never dropped and never sent early.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable, Sequence
from functools import lru_cache

from dunning.compliance.profiles import Window

# A window can only be missed for so long (a holiday run, days off); beyond
# that the rules are contradictory and the action waits a week to be looked at.
MAX_DAYS_AHEAD = 31


def _at(day: dt.date, time: dt.time, zone: dt.tzinfo) -> dt.datetime:
    # fold=0: a wall time skipped by a DST change lands after the gap.
    wall = dt.datetime.combine(day, time, tzinfo=zone)
    return wall.astimezone(dt.UTC).astimezone(zone)


def next_allowed_in_zone(now: dt.datetime, zone: dt.tzinfo, window: Window | None, *,
                         working_days_only: bool = False, days_off: Sequence[int] = (),
                         is_holiday: Callable[[dt.date], bool] = lambda _day: False) -> dt.datetime | None:
    """None if ``now`` is inside the window on an allowed day in ``zone``; else the next allowed moment (UTC)."""
    local = now.astimezone(zone)
    for offset in range(MAX_DAYS_AHEAD + 1):
        day = local.date() + dt.timedelta(days=offset)
        if working_days_only and (day.weekday() in days_off or is_holiday(day)):
            continue
        start = _at(day, window.start, zone) if window else _at(day, dt.time(0, 0), zone)
        end = _at(day, window.end, zone) if window else _at(day + dt.timedelta(days=1), dt.time(0, 0), zone)
        if offset == 0:
            if local < start:
                return start.astimezone(dt.UTC)
            if local < end:
                return None
            continue
        return start.astimezone(dt.UTC)
    return (now + dt.timedelta(days=7)).astimezone(dt.UTC)


def next_allowed(
    now: dt.datetime, zones: Sequence[dt.tzinfo], window: Window | None, **rules: object
) -> dt.datetime | None:
    """Like ``next_allowed_in_zone``, but the debtor may be in any of ``zones``: all must allow it.

    Moves forward until one moment suits every zone (a number whose region
    spans zones is treated as the strictest of them).
    """
    if not rules:
        # The plain window is pure in its arguments, and a run asks it about the same moment and zones
        # for action after action: each answer is worked out once.
        return _next_allowed_plain(now, tuple(zones), window)
    return _next_allowed(now, zones, window, **rules)


@lru_cache(maxsize=1024)
def _next_allowed_plain(now: dt.datetime, zones: tuple[dt.tzinfo, ...], window: Window | None) -> dt.datetime | None:
    return _next_allowed(now, zones, window)


def _next_allowed(
    now: dt.datetime, zones: Sequence[dt.tzinfo], window: Window | None, **rules: object
) -> dt.datetime | None:
    moment = now
    for _ in range(MAX_DAYS_AHEAD * max(1, len(zones))):
        later = [t for zone in zones if (t := next_allowed_in_zone(moment, zone, window, **rules)) is not None]  # type: ignore[arg-type]
        if not later:
            return None if moment == now else moment
        moment = max(later)
    return moment


def zone_named(name: str | None) -> zoneinfo.ZoneInfo | None:
    if not name:
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None
