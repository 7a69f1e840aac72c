"""What every report is asked: the day, the zone days are counted in, the filters, the buckets; where rows come from."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterable, Iterator
from typing import Protocol

import attrs

from dunning.reports.buckets import Buckets
from dunning.reports.history import CaseBook, CaseFacts, Filters, case_books, case_facts, day_start
from dunning.store.reports import (
    AttemptGroup,
    CaseRow,
    EventGroup,
    FactRow,
    ObligationRow,
    PaymentContactRow,
    PaymentRow,
    PromiseRow,
)
from dunning.store.strategies import StrategyRow


class ReportSource(Protocol):
    """The store's ReportRows part, or any object with the same plain-row methods (a test's lists)."""

    def report_cases(self) -> Iterable[CaseRow]: ...
    def report_obligations(self) -> Iterable[ObligationRow]: ...
    def report_payments(self, until: str) -> Iterable[PaymentRow]: ...
    def report_case_facts(self, until: str, *, stages: bool = True, calls: bool = True, placements: bool = True
                          ) -> Iterable[FactRow]: ...
    def report_promises(self, until: str) -> Iterable[PromiseRow]: ...
    def report_attempt_groups(self, until: str, since: str = "", case_ids: Collection[int] | None = None
                              ) -> Iterable[AttemptGroup]: ...
    def report_event_groups(self, kinds: Iterable[str], until: str, since: str = "",
                            case_ids: Collection[int] | None = None) -> Iterable[EventGroup]: ...
    def report_payment_contacts(self, until: str, window_days: int, case_ids: Collection[int] | None = None
                                ) -> Iterable[PaymentContactRow]: ...
    def report_case_strategies(self) -> Iterable[StrategyRow]: ...


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
    default_policy: str = "trade-receivables"  # the config's: what a case without a strategy runs under

    @property
    def until(self) -> str:
        """The first moment after the report's day, as stored text: what happened before it counts."""
        return day_start(self.as_of + dt.timedelta(days=1), self.zone)


def books_and_facts(source: ReportSource, params: Params, *, facts_needed: bool = False, open_only: bool = False
                    ) -> tuple[Iterator[CaseBook], CaseFacts]:
    """The cases the filters accept, each with its obligations and payments up to the report's day.

    The events are read for the facts only when the filters or the report need them; ``open_only`` leaves
    out the cases not open at the end of the day.
    """
    facts = facts_for(source, params) if facts_needed or needs_facts(params.filters) else CaseFacts()
    with_strategies(source, params, facts)
    until = params.until
    books = case_books(source.report_cases(), source.report_obligations(), source.report_payments(until), params.zone,
                       open_on=params.as_of if open_only else None)
    if not params.filters.given():
        return books, facts
    accepted = (book for book in books
                if params.filters.accepts(book.id, book.currency, book.stage, facts, until))
    return accepted, facts


def needs_facts(filters: Filters) -> bool:
    return any(value is not None for value in (filters.stage, filters.collector, filters.agency))


def accepted_ids(source: ReportSource, params: Params, facts: CaseFacts | None = None) -> set[int] | None:
    """The ids of the cases the filters accept, for reports that read rows other than the cases' own.

    None when no filter is given: every case, without reading them.
    """
    filters = params.filters
    if not filters.given():
        return None
    if facts is None:
        facts = facts_for(source, params) if needs_facts(filters) else CaseFacts()
    with_strategies(source, params, facts)
    until = params.until
    return {case_id for case_id, currency, _opened, _status, _resolved, stage in source.report_cases()
            if filters.accepts(case_id, currency, stage, facts, until)}


def with_strategies(source: ReportSource, params: Params, facts: CaseFacts) -> None:
    """Add to ``facts`` which cases run which strategy and policy, when a filter asks (else nothing is read)."""
    if params.filters.by_strategy() and not facts.strategies:
        facts.strategies = {case_id: (strategy, policy) for case_id, strategy, policy
                            in source.report_case_strategies()}
        facts.default_policy = params.default_policy


def case_filter(ids: set[int] | None) -> Callable[[int | None], bool]:
    if ids is None:
        return lambda case_id: True
    return lambda case_id: case_id in ids


def facts_for(source: ReportSource, params: Params, *, calls_only: bool = False) -> CaseFacts:
    """What the events say about the cases; with ``calls_only``, only who logged calls (unless a filter needs more)."""
    filters = params.filters
    if calls_only:
        return case_facts(source.report_case_facts(params.until, stages=filters.stage is not None,
                                                   placements=filters.agency is not None))
    return case_facts(source.report_case_facts(params.until))
