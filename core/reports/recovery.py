"""``recovery``: what was collected against what was placed, by stage, agency, channel and collector; and curves.

Payments are the store's payments, at the moment they were made. Placed
means: for the internal stage, every obligation of the case; for a later
stage, the balance when the case first entered it; for an agency, the balance
the placement handed over. A stage or agency is credited with the payments
made while the case was in it.

Channel and collector credit follow one rule, stated in the notes: a payment
goes to the channel of the last contact with the case (a message sent, a call
or a visit logged) at or before the payment and at most ATTRIBUTION_DAYS
before it; to the collector who logged the last call in that window.

Two ways to the same figures: case by case from the events (``compute``), or,
from a store that keeps each case's stage moves and each payment's contacts
(migration m027, ``dunning.store.report_case_facts``), over arrays with no
Python object per case (``dunning.reports.recovery_arrays``); both end in
``report`` and ``_attribute``, and tests/core/test_recovery_kept.py keeps them
equal.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator

from dunning.reports.history import CaseBook, CaseFacts, local_day
from dunning.reports.model import Report, Table, rate
from dunning.reports.params import Params, ReportSource, accepted_ids, books_and_facts
from dunning.reports.recovery_sums import Credit, Sums
from dunning.store.reports import PaymentContactRow

ATTRIBUTION_DAYS = 30
NO_CONTACT = "(no contact)"
NO_CALL = "(no call)"
NOTES = (
    "Placed: every obligation for the internal stage; the balance on first entering a later stage; the balance "
    "handed to an agency. Collected: payments made while the case was in that stage or with that agency.",
    f"Channel: a payment is credited to the channel of the last contact (message sent, call or visit logged) at or "
    f"before it and at most {ATTRIBUTION_DAYS} days before it; collector: to whoever logged the last call in "
    "that window.",
    "Curves: cumulative collected / placed by whole calendar months since the case opened, per month of opening.",
)


def _months_between(start: dt.date, end: dt.date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month


def compute(books: Iterable[CaseBook], facts: CaseFacts, payment_contacts: Iterable[PaymentContactRow],
            params: Params) -> Report:
    sums = Sums()
    stage_placed, stage_collected, stage_cases = sums.stage_placed, sums.stage_collected, sums.stage_cases
    agency_placed, agency_collected, agency_cases = sums.agency_placed, sums.agency_collected, sums.agency_cases
    cohort_placed, cohort_cases, cohort_collected = sums.cohort_placed, sums.cohort_cases, sums.cohort_collected
    # The currency of each counted case that paid, for attribution.
    paying: dict[int, str] = {}
    for book in books:
        if book.opened_on > params.as_of:
            continue
        currency = book.currency
        timeline = facts.stage_timeline(book)
        entered: set[str] = set()
        for index, (at, stage) in enumerate(timeline):
            left = timeline[index + 1][0] if index + 1 < len(timeline) else "~"
            if stage not in entered:
                entered.add(stage)
                stage_cases[currency, stage] += 1
                stage_placed[currency, stage] += (book.placed if index == 0 else
                                                  book.balance_before(at, local_day(at, params.zone)))
            stage_collected[currency, stage] += sum(a for a, paid_at, _ in book.payments if at <= paid_at < left)
        ends = facts.placement_ends.get(book.id, [])
        for at, agency, balance in facts.placements.get(book.id, ()):
            ended = next((end for end in ends if end >= at), "~")
            agency_cases[currency, agency] += 1
            agency_placed[currency, agency] += balance
            agency_collected[currency, agency] += sum(a for a, paid_at, _ in book.payments if at <= paid_at < ended)
        opened = (currency, f"{book.opened_on.year:04d}-{book.opened_on.month:02d}")
        cohort_cases[opened] += 1
        cohort_placed[opened] += book.placed
        for amount, _, paid_on in book.payments:
            cohort_collected[(*opened, _months_between(book.opened_on, paid_on))] += amount
        if book.payments:
            paying[book.id] = currency
    return report(sums, _attribute(_credits(paying, payment_contacts)), params)


def report(sums: Sums, credited: tuple[Rows, Rows], params: Params) -> Report:
    """The report's tables from the sums and the payments' credit, however they were worked out."""
    stage_cases, stage_placed, stage_collected = sums.stage_cases, sums.stage_placed, sums.stage_collected
    agency_cases, agency_placed, agency_collected = sums.agency_cases, sums.agency_placed, sums.agency_collected
    cohort_cases, cohort_placed = sums.cohort_cases, sums.cohort_placed
    cohort_collected: dict[tuple[str, str, int], int] = defaultdict(int, sums.cohort_collected)
    by_channel, by_collector = credited
    stage_rows = tuple((c, s, stage_cases[c, s], stage_placed[c, s], stage_collected[c, s],
                        rate(stage_collected[c, s], stage_placed[c, s])) for c, s in sorted(stage_cases))
    agency_rows = tuple((c, a, agency_cases[c, a], agency_placed[c, a], agency_collected[c, a],
                         rate(agency_collected[c, a], agency_placed[c, a])) for c, a in sorted(agency_cases))
    curve_columns = tuple(f"m{k}" for k in range(params.periods))
    curves = []
    for currency, cohort in sorted(cohort_cases):
        start = dt.date.fromisoformat(cohort + "-01")
        running = 0
        points: list[float | None] = []
        for k in range(params.periods):
            running += cohort_collected[currency, cohort, k]
            reached = _months_between(start, params.as_of) >= k
            points.append(rate(running, cohort_placed[currency, cohort]) if reached else None)
        curves.append((currency, cohort, cohort_cases[currency, cohort], cohort_placed[currency, cohort], *points))
    money_columns = frozenset({"placed", "collected"})
    return Report(
        name="recovery", as_of=params.as_of, filters=params.filters.given(), notes=NOTES,
        tables=(
            Table("by_stage", "By stage", ("currency", "stage", "cases", "placed", "collected", "rate"), stage_rows,
                  money=money_columns, rates=frozenset({"rate"})),
            Table("by_agency", "By agency", ("currency", "agency", "placements", "placed", "collected", "rate"),
                  agency_rows, money=money_columns, rates=frozenset({"rate"})),
            Table("by_channel", f"By channel (last contact within {ATTRIBUTION_DAYS} days before the payment)",
                  ("currency", "channel", "payments", "collected", "share"), by_channel, money=money_columns,
                  rates=frozenset({"share"})),
            Table("by_collector", f"By collector (last call within {ATTRIBUTION_DAYS} days before the payment)",
                  ("currency", "collector", "payments", "collected", "share"), by_collector, money=money_columns,
                  rates=frozenset({"share"})),
            Table("curves", "Recovery curves: cumulative collected / placed by months since opening",
                  ("currency", "cohort", "cases", "placed", *curve_columns), tuple(curves),
                  money=frozenset({"placed"}), rates=frozenset(curve_columns)),
        ))


Rows = tuple[tuple[object, ...], ...]


def _credits(paying: dict[int, str], payment_contacts: Iterable[PaymentContactRow]) -> Iterator[Credit]:
    """Each payment of a counted case that paid, as a credit of one payment (see ``_attribute``)."""
    for case_id, amount, _at, contact_at, kind, channel, _call_at, collector in payment_contacts:
        currency = paying.get(case_id)
        if currency is not None:  # else a case the filters leave out, or a payment after the report's day
            yield currency, contact_at, kind, channel, collector, 1, amount


def _attribute(credits: Iterable[Credit]) -> tuple[Rows, Rows]:
    """Credit the payments to their last contact's channel and their last call's collector (see NOTES).

    The store hands each payment (or each group of payments alike) with whether its case had a contact in the
    ATTRIBUTION_DAYS before it, that contact's kind and channel, and who logged the last call in that window.
    """
    channel_sum: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    collector_sum: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    totals: dict[str, int] = defaultdict(int)
    for currency, contact_at, kind, channel, collector, payments, amount in credits:
        totals[currency] += amount
        credited = (channel or kind or NO_CONTACT) if contact_at else NO_CONTACT
        for sums, name in ((channel_sum, credited), (collector_sum, str(collector) if collector else NO_CALL)):
            entry = sums[currency, name]
            entry[0] += payments
            entry[1] += amount

    def rows(sums: dict[tuple[str, str], list[int]]) -> Rows:
        return tuple((c, name, n, amount, rate(amount, totals[c])) for (c, name), (n, amount) in sorted(sums.items()))

    return rows(channel_sum), rows(collector_sum)


def build(source: ReportSource, params: Params) -> Report:
    fast = _from_kept_figures(source, params)
    if fast is not None:
        return fast
    books, facts = books_and_facts(source, params, facts_needed=True)
    # The books stream first (they tell which counted cases paid); the payments' contacts after, when iterated.
    contacts = _Later(lambda: source.report_payment_contacts(params.until, ATTRIBUTION_DAYS))
    return compute(books, facts, contacts, params)


def _from_kept_figures(source: ReportSource, params: Params) -> Report | None:
    """The report over arrays from the store's kept moves and payment contacts (m027), or None where the source
    has none (a test's lists), the store is to read the events (``report_counts`` False) or a payment has no kept
    contact."""
    read = getattr(source, "report_recovery_rows", None)
    rows = read(params.until, ATTRIBUTION_DAYS) if read is not None else None
    if rows is None:
        return None
    from dunning.reports import recovery_arrays  # numpy, imported only for this report

    worked_out = recovery_arrays.sums(rows, accepted_ids(source, params), params)
    if worked_out is None:
        return None
    sums, credits = worked_out
    return report(sums, _attribute(credits), params)


class _Later:
    """Rows read only when iterated, so that the books stream before the payments' contacts do."""

    def __init__(self, read: Callable[[], Iterable[PaymentContactRow]]):
        self.read = read

    def __iter__(self) -> Iterator[PaymentContactRow]:
        return iter(self.read())
