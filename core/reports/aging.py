"""``aging``: what is owed on the report's day, by days past due, per currency.

Amounts age obligation by obligation (an invoice 45 days late sits in 31-60
even if its case has an older one); a case counts once, in the bucket of its
oldest open obligation. Balances are rebuilt as of the day from the
obligations and the payments made by then, not read from today's balance:
without a filter the store sums them (``report_aging_groups``, the same rule
in SQL), with one each case's book is rebuilt here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from dunning.reports.buckets import NOT_YET_DUE, Buckets
from dunning.reports.history import CaseBook
from dunning.reports.model import Report, Table, rate
from dunning.reports.params import Params, ReportSource, books_and_facts
from dunning.store.reports import AgingGroup

NOTES = (
    "Amounts age by obligation; a case counts once, in the bucket of its oldest open obligation.",
    "Balances are as they stood at the end of the day: obligations issued by then less payments made by then.",
)


def compute(books: Iterable[CaseBook], params: Params) -> Report:
    buckets: Buckets = params.buckets
    amounts: dict[tuple[str, str], int] = defaultdict(int)
    cases: dict[tuple[str, str], int] = defaultdict(int)
    currencies: set[str] = set()
    day = params.as_of
    for book in books:
        if book.opened_on > day or (book.resolved_on is not None and book.resolved_on <= day):
            continue
        items = book.open_items(day)
        if not items:
            continue
        currencies.add(book.currency)
        for due_on, amount in items:
            amounts[book.currency, buckets.label((day - due_on).days)] += amount
        oldest = min(due_on for due_on, _ in items)
        cases[book.currency, buckets.label((day - oldest).days)] += 1
    return _report(amounts, cases, currencies, params)


def compute_from_groups(groups: Iterable[AgingGroup], params: Params) -> Report:
    """The same report from what the store summed by currency and days past due (no filter given)."""
    amounts: dict[tuple[str, str], int] = defaultdict(int)
    cases: dict[tuple[str, str], int] = defaultdict(int)
    currencies: set[str] = set()
    for currency, dpd, amount, oldest in groups:
        currencies.add(currency)
        label = params.buckets.label(dpd)
        amounts[currency, label] += amount
        cases[currency, label] += oldest
    return _report(amounts, cases, currencies, params)


def _report(amounts: dict[tuple[str, str], int], cases: dict[tuple[str, str], int], currencies: set[str],
            params: Params) -> Report:
    buckets, day = params.buckets, params.as_of
    rows = []
    totals = []
    for currency in sorted(currencies):
        balance = sum(amounts[currency, label] for label in buckets.labels)
        for label in buckets.labels:
            rows.append((currency, label, cases[currency, label], amounts[currency, label],
                         rate(amounts[currency, label], balance)))
        not_yet_due = amounts[currency, NOT_YET_DUE]
        totals.append((currency, sum(cases[currency, label] for label in buckets.labels), balance - not_yet_due,
                       not_yet_due, balance))
    return Report(
        name="aging", as_of=day, filters=params.filters.given(), notes=NOTES,
        tables=(
            Table("buckets", "Balance by days past due", ("currency", "bucket", "cases", "balance", "share"),
                  tuple(rows), money=frozenset({"balance"}), rates=frozenset({"share"})),
            Table("totals", "Overdue and not yet due", ("currency", "cases", "overdue", "not_yet_due", "balance"),
                  tuple(totals), money=frozenset({"overdue", "not_yet_due", "balance"})),
        ))


def build(source: ReportSource, params: Params) -> Report:
    # Without a filter the store sums the balances itself (the store's ReportRows; a plain-row source may not);
    # a filter needs each case's stage, collector or agency, so the cases are read one by one.
    summed = getattr(source, "report_aging_groups", None)
    groups = summed(params.as_of.isoformat(), params.until) if summed and not params.filters.given() else None
    if groups is not None:
        return compute_from_groups(groups, params)
    books, _facts = books_and_facts(source, params, open_only=True)
    return compute(books, params)
