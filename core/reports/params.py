"""What every report is asked: the day, the zone days are counted in, the filters, the buckets; where rows come from."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from typing import Protocol

import attrs

from dunning.reports.buckets import Buckets
from dunning.reports.history import CaseBook, CaseFacts, Filters, case_books, case_facts, day_start
from dunning.store.reports import AttemptRow, CaseRow, EventRow, ObligationRow, PaymentRow, PromiseRow


# The events that say where a case stood and who worked it (CaseFacts).
_FACT_KINDS = ("agency_placed", "agency_placement_ended", "call_logged", "case_opened", "stage_changed")


class ReportSource(Protocol):
    """The store's ReportRows part, or any object with the same plain-row methods (a test's lists)."""

    def report_cases(self) -> Iterable[CaseRow]: ...
    def report_obligations(self) -> Iterable[ObligationRow]: ...
    def report_payments(self, until: str) -> Iterable[PaymentRow]: ...
    def report_events(self, kinds: Iterable[str], until: str, since: str = "") -> Iterable[EventRow]: ...
    def report_promises(self, until: str) -> Iterable[PromiseRow]: ...
    def report_attempts(self, until: str, since: str = "") -> Iterable[AttemptRow]: ...


PERIODS = ("month", "week")


@attrs.frozen
class Params:
    as_of: dt.date
    zone: dt.tzinfo
    filters: Filters = attrs.field(factory=Filters)
    buckets: Buckets = attrs.field(factory=Buckets)
    period: str = "month"  # roll-rates: month or week
    periods: int = 12  # roll-rates: how many periods back; recovery: months of the curves
    days: int = 30  # activity: days up to as_of

    @property
    def until(self) -> str:
        """The first moment after the report's day, as stored text: what happened before it counts."""
        return day_start(self.as_of + dt.timedelta(days=1), self.zone)


def books_and_facts(source: ReportSource, params: Params) -> tuple[Iterator[CaseBook], CaseFacts]:
    """The cases the filters accept, each with its obligations and payments up to the report's day."""
    facts = facts_for(source, params)
    until = params.until
    books = case_books(source.report_cases(), source.report_obligations(), source.report_payments(until), params.zone)
    accepted = (book for book in books
                if params.filters.accepts(book.id, book.currency, book.stage, facts, until))
    return accepted, facts


def case_filter(source: ReportSource, params: Params, facts: CaseFacts) -> Callable[[int | None], bool]:
    """A test of a case id by the filters, for reports that read rows other than the cases' own.

    With no filter given it accepts everything without reading the cases.
    """
    filters = params.filters
    if not filters.given():
        return lambda case_id: True
    until = params.until
    accepted = {case_id for case_id, currency, _opened, _status, _resolved, stage in source.report_cases()
                if filters.accepts(case_id, currency, stage, facts, until)}
    return lambda case_id: case_id in accepted


def facts_for(source: ReportSource, params: Params) -> CaseFacts:
    return case_facts(source.report_events(_FACT_KINDS, params.until))
