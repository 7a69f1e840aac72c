"""``roll-rates``: how cases moved between buckets from one month (or week) end to the next.

Each case's state is rebuilt at every period end from its obligations, its
payment dates and its resolution (CaseBook.state_on); a transition counts a
case open at the start of a period with where it stood at the end. The cure
rate is the share of overdue cases back to current (nothing overdue, still
open) or paid; the path to write-off is, for each bucket, the share of the
cases seen in it at a period end that were written off by the report's day.
"""

from __future__ import annotations

import calendar as month_calendar
import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Iterable

import attrs

from dunning.reports.buckets import NOT_YET_DUE, PAID, SETTLED, WRITTEN_OFF, ordered
from dunning.reports.history import CaseBook
from dunning.reports.model import Report, Table, rate
from dunning.reports.params import Params, ReportSource, accepted_ids, books_and_facts

ENDED = (PAID, SETTLED, WRITTEN_OFF)
NOTES = (
    "A case's state at a period end is rebuilt from its obligations, payment dates and resolution.",
    "Cured: overdue at the start of a period, and at its end nothing overdue (still open) or paid in full.",
    "Path to write-off: of the cases seen in a bucket at any period end, the share written off by the report's day.",
)


def period_ends(as_of: dt.date, period: str, count: int) -> list[dt.date]:
    """``count`` + 1 period ends, oldest first, the last being ``as_of``.

    Months step back to the same day of the month (the 31st becomes the last
    day of a shorter month); weeks step back seven days.
    """
    ends = [as_of]
    for back in range(1, count + 1):
        if period == "week":
            ends.append(as_of - dt.timedelta(days=7 * back))
        else:
            month_index = as_of.year * 12 + as_of.month - 1 - back
            year, month = divmod(month_index, 12)
            last = month_calendar.monthrange(year, month + 1)[1]
            ends.append(dt.date(year, month + 1, min(as_of.day, last)))
    return sorted(ends)


@attrs.define
class Tally:
    """What roll-rates counts, whichever way the states were rebuilt (here per case, or dunning.reports.roll_states
    over arrays): the report is made from this alone."""

    matrix: dict[tuple[str, str, str], int] = attrs.field(factory=lambda: defaultdict(int))  # (currency, from, to)
    by_period: dict[tuple[dt.date, str, str], int] = attrs.field(factory=lambda: defaultdict(int))  # (end, from, to)
    seen: dict[tuple[str, str], int] = attrs.field(factory=lambda: defaultdict(int))  # (currency, bucket) -> cases
    written_off: dict[tuple[str, str], int] = attrs.field(factory=lambda: defaultdict(int))


def compute(books: Iterable[CaseBook], params: Params) -> Report:
    ends = period_ends(params.as_of, params.period, params.periods)
    buckets = params.buckets
    tally = Tally()
    matrix, by_period, seen, written_off = tally.matrix, tally.by_period, tally.seen, tally.written_off
    for book in books:
        states = book.states_on(ends, buckets)
        for start, (before, after) in enumerate(itertools.pairwise(states)):
            if before is None or before in ENDED or after is None:
                continue
            matrix[book.currency, before, after] += 1
            by_period[ends[start + 1], before, after] += 1
        in_buckets = {state for state in states if state is not None and state not in ENDED}
        for label in in_buckets:
            seen[book.currency, label] += 1
            if states[-1] == WRITTEN_OFF:
                written_off[book.currency, label] += 1
    return report(tally, params)


def report(tally: Tally, params: Params) -> Report:
    """The report's tables from the counts (zero counts left out of ``tally``)."""
    ends = period_ends(params.as_of, params.period, params.periods)
    buckets = params.buckets
    matrix: dict[tuple[str, str, str], int] = defaultdict(int, tally.matrix)
    by_period, seen = tally.by_period, tally.seen
    written_off: dict[tuple[str, str], int] = defaultdict(int, tally.written_off)
    rows = []
    for currency in sorted({c for c, _, _ in matrix}):
        labels = ordered([f for c, f, _ in matrix if c == currency] + [t for c, _, t in matrix if c == currency],
                         buckets)
        for source in labels:
            if source in ENDED:
                continue
            total = sum(matrix[currency, source, target] for target in labels)
            if total:
                for target in labels:
                    count = matrix[currency, source, target]
                    if count:
                        rows.append((currency, source, target, count, rate(count, total)))
    cures = []
    for end in ends[1:]:
        overdue = sum(n for (e, f, _), n in by_period.items() if e == end and buckets.is_overdue(f))
        cured = sum(n for (e, f, t), n in by_period.items()
                    if e == end and buckets.is_overdue(f) and t in (NOT_YET_DUE, PAID))
        cures.append((end.isoformat(), overdue, cured, rate(cured, overdue)))
    path = [(currency, label, seen[currency, label], written_off[currency, label],
             rate(written_off[currency, label], seen[currency, label]))
            for currency in sorted({c for c, _ in seen})
            for label in ordered([b for c, b in seen if c == currency], buckets)]
    return Report(
        name="roll-rates", as_of=params.as_of, filters={**params.filters.given(), "period": params.period}, notes=NOTES,
        tables=(
            Table("matrix", f"Transitions {params.period} over {params.period} ({ends[0]} to {ends[-1]})",
                  ("currency", "from", "to", "cases", "rate"), tuple(rows), rates=frozenset({"rate"})),
            Table("cure", "Cure rate by period end", ("period_end", "overdue", "cured", "cure_rate"), tuple(cures),
                  rates=frozenset({"cure_rate"})),
            Table("write_off_path", "Path to write-off", ("currency", "bucket", "cases", "written_off", "rate"),
                  tuple(path), rates=frozenset({"rate"})),
        ))


def build(source: ReportSource, params: Params) -> Report:
    # The store hands the rows as whole numbers for arrays (dunning.reports.roll_states: the same states, without a
    # Python object per case); a source without that method, or a store counting from the rows, goes case by case.
    columns = getattr(source, "report_roll_columns", None)
    rows = columns(params.until) if columns is not None else None
    if rows is not None:
        from dunning.reports import roll_states  # numpy, imported only for this report

        return report(roll_states.tally(rows, accepted_ids(source, params), params), params)
    books, _facts = books_and_facts(source, params)
    return compute(books, params)
