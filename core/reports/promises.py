"""``promises``: promises to pay made, kept, broken and still pending, by collector, by bucket and by month due.

A promise counts as kept or broken once settled by the end of the report's
day; until then it is pending. The kept rate is kept / (kept + broken). The
collector is whoever logged the last call on the case at or before the
promise was made, within a day (a promise taken on a call is logged with
it); the bucket is the case's days past due when the promise was made.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable

from dunning import calendar
from dunning.reports.buckets import ordered
from dunning.reports.history import CaseFacts, local_day
from dunning.reports.model import Report, Table, rate
from dunning.reports.params import Params, ReportSource, accepted_ids, case_filter, facts_for
from dunning.store.reports import PromiseRow

NO_CALL = "(no call)"
NOTES = (
    "Kept or broken once settled by the end of the day, else pending; kept rate = kept / (kept + broken).",
    "Collector: whoever logged the last call on the case at most a day before the promise was made.",
    "Bucket: the case's days past due when the promise was made.",
)
COLUMNS = ("made", "kept", "broken", "pending", "kept_rate")


def compute(promises: Iterable[PromiseRow], facts: CaseFacts, accepts: Callable[[int | None], bool],
            params: Params) -> Report:
    until = params.until
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for _promise_id, case_id, _amount, due_at, status, created_at, settled_at, dpd in promises:
        if not accepts(case_id):
            continue
        outcome = status if settled_at is not None and settled_at < until and status in ("kept", "broken") \
            else "pending"
        slot = 1 + ("kept", "broken", "pending").index(outcome)
        for table, key in (("by_collector", _collector(facts, case_id, created_at)),
                           ("by_bucket", params.buckets.label(dpd) if dpd is not None else "(unknown)"),
                           ("by_month", local_day(due_at, params.zone).strftime("%Y-%m"))):
            entry = counts[table, key]
            entry[0] += 1
            entry[slot] += 1

    def rows(table: str, keys: list[str]) -> tuple[tuple[object, ...], ...]:
        return tuple((key, *counts[table, key], rate(counts[table, key][1], counts[table, key][1]
                                                       + counts[table, key][2])) for key in keys)

    def keys(table: str) -> list[str]:
        return [key for name, key in counts if name == table]

    return Report(
        name="promises", as_of=params.as_of, filters=params.filters.given(), notes=NOTES,
        tables=(
            Table("by_collector", "By collector", ("collector", *COLUMNS),
                  rows("by_collector", sorted(keys("by_collector"))), rates=frozenset({"kept_rate"})),
            Table("by_bucket", "By bucket when made", ("bucket", *COLUMNS),
                  rows("by_bucket", ordered(keys("by_bucket"), params.buckets)), rates=frozenset({"kept_rate"})),
            Table("by_month", "By month due", ("month", *COLUMNS), rows("by_month", sorted(keys("by_month"))),
                  rates=frozenset({"kept_rate"})),
        ))


def _collector(facts: CaseFacts, case_id: int, made: str) -> str:
    earliest = calendar.to_text(calendar.from_text(made) - dt.timedelta(days=1))
    found = NO_CALL
    for at, who in facts.calls.get(case_id, ()):
        if at > made:
            break
        if at >= earliest:
            found = who
    return found


def build(source: ReportSource, params: Params) -> Report:
    facts = facts_for(source, params, calls_only=True)
    accepts = case_filter(accepted_ids(source, params, facts))
    return compute(source.report_promises(params.until), facts, accepts, params)
