"""``activity``: per day, what the engine and people did: sent by channel, approvals, stage changes, payments.

Read from the events alone, by the day (in the business's zone) each was
recorded for; payments by the day they were recorded, with their amounts.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from dunning.reports.history import day_start, quarter_local
from dunning.reports.model import Report, Table
from dunning.reports.params import Params, ReportSource, accepted_ids
from dunning.store.reports import CALL_LOGGED, EventGroup

# Event kind -> column of the daily table.
COUNTED = {"sent": "sent", "approved": "approved", "rejected": "rejected", "stage_changed": "stage_changes",
           "promise": "promises", CALL_LOGGED: "calls", "blocked": "blocked", "deferred": "deferred",
           "payment": "payments"}
NOTES = ("Days in the business's time zone; each event on the day it was recorded for (its `at`).",)


def compute(events: Iterable[EventGroup], params: Params) -> Report:
    first = params.as_of - dt.timedelta(days=params.days - 1)
    daily: dict[tuple[dt.date, str], int] = defaultdict(int)
    sent: dict[tuple[dt.date, str], int] = defaultdict(int)
    collected: dict[tuple[dt.date, str], list[int]] = defaultdict(lambda: [0, 0])
    for kind, channel, quarter, _rule, currency, count, amount in events:
        day = quarter_local(quarter, params.zone).date()
        if not first <= day <= params.as_of:
            continue
        daily[day, COUNTED[kind]] += count
        if kind == "sent":
            sent[day, channel or ""] += count
        elif kind == "payment":
            entry = collected[day, currency or ""]
            entry[0] += count
            entry[1] += int(amount or 0)
    columns = tuple(dict.fromkeys(COUNTED.values()))
    days = [first + dt.timedelta(days=n) for n in range(params.days)]
    return Report(
        name="activity", as_of=params.as_of, filters={**params.filters.given(), "days": str(params.days)},
        notes=NOTES,
        tables=(
            Table("days", "Per day", ("day", *columns),
                  tuple((day.isoformat(), *(daily[day, c] for c in columns)) for day in days)),
            Table("sent", "Sent per day and channel", ("day", "channel", "sent"),
                  tuple((d.isoformat(), c, n) for (d, c), n in sorted(sent.items()))),
            Table("collected", "Payments recorded per day", ("day", "currency", "payments", "amount"),
                  tuple((d.isoformat(), c, *v) for (d, c), v in sorted(collected.items())),
                  money=frozenset({"amount"})),
        ))


def build(source: ReportSource, params: Params) -> Report:
    since = day_start(params.as_of - dt.timedelta(days=params.days - 1), params.zone)
    return compute(source.report_event_groups(COUNTED, params.until, since, accepted_ids(source, params)), params)
