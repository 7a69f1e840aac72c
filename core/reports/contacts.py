"""``contacts``: attempts, right-party contacts and the contact rate, by channel, kind of number and time.

An attempt is a row of the contact log the frequency caps count; a
right-party contact is one that reached the debtor (connected, role debtor).
Times are the debtor's local time where the debtor has a time zone, else the
business's: morning before 12:00, afternoon before 17:00, evening after; the
day of the month in five-day spans. So the usual advice (mornings, Mondays,
the start of the month) can be checked against what happened. Actions the
contact rules blocked or deferred are counted by rule from the events.
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable

from dunning.reports.history import quarter_local
from dunning.reports.model import Report, Table, rate
from dunning.reports.params import Params, ReportSource, accepted_ids
from dunning.store.reports import AttemptGroup, EventGroup

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
SLOTS = ("morning", "afternoon", "evening")
SPANS = ("1-5", "6-10", "11-15", "16-20", "21-25", "26-31")
NOTES = (
    "Right-party contact: an attempt that reached the debtor; contact rate = right-party contacts / attempts.",
    "Time in the debtor's zone (else the business's): morning before 12:00, afternoon before 17:00, evening after.",
)


def slot(hour: int) -> str:
    return "morning" if hour < 12 else "afternoon" if hour < 17 else "evening"


def span(day: int) -> str:
    return SPANS[min((day - 1) // 5, 5)]


@functools.lru_cache(maxsize=1024)
def _zone(name: str | None, fallback: dt.tzinfo) -> dt.tzinfo:
    if not name:
        return fallback
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return fallback


def compute(attempts: Iterable[AttemptGroup], refusals: Iterable[EventGroup], params: Params) -> Report:
    groups: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for channel, contact_kind, zone_name, quarter, count, reached in attempts:
        local = quarter_local(quarter, _zone(zone_name, params.zone))
        for dimension, value in (("channel", channel), ("number_kind", f"{channel}/{contact_kind or 'unknown'}"),
                                 ("slot", slot(local.hour)), ("weekday", WEEKDAYS[local.weekday()]),
                                 ("day_of_month", span(local.day))):
            entry = groups[dimension, value]
            entry[0] += count
            entry[1] += reached or 0
    stopped: dict[tuple[str, str, str], int] = defaultdict(int)
    for kind, refused_on, _quarter, rule, _currency, count, _amount in refusals:
        stopped[kind, rule or "(none)", refused_on or ""] += count

    def table(dimension: str, title: str, order: tuple[str, ...] | None = None) -> Table:
        values = [v for d, v in groups if d == dimension]
        keys = [v for v in order if v in values] if order else sorted(values)
        return Table(dimension, title, (dimension, "attempts", "right_party", "contact_rate"),
                     tuple((v, *groups[dimension, v], rate(groups[dimension, v][1], groups[dimension, v][0]))
                           for v in keys), rates=frozenset({"contact_rate"}))

    return Report(
        name="contacts", as_of=params.as_of, filters=params.filters.given(), notes=NOTES,
        tables=(
            table("channel", "By channel"),
            table("number_kind", "By channel and kind of number or address"),
            table("slot", "By time of day", SLOTS),
            table("weekday", "By weekday", WEEKDAYS),
            table("day_of_month", "By day of the month", SPANS),
            Table("stopped", "Blocked or deferred by rule", ("outcome", "rule", "channel", "actions"),
                  tuple((*key, n) for key, n in sorted(stopped.items()))),
        ))


def build(source: ReportSource, params: Params) -> Report:
    ids = accepted_ids(source, params)
    until = params.until
    return compute(source.report_attempt_groups(until, case_ids=ids),
                   source.report_event_groups(("blocked", "deferred"), until, case_ids=ids), params)
