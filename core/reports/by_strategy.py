"""Every report split by strategy: champion and challenger side by side, and recovery per strategy.

Where cases have been assigned strategies (``[[strategies]]``), a report is
worked out once per strategy, each time with ``--strategy`` set to it, and
its tables are put together with ``strategy`` as their first column; the
cases assigned none (closed before the trial, say) are the strategy
``(none)``. Every figure of a strategy's rows is therefore exactly what
``--strategy NAME`` gives. ``recovery`` gains a ``by_strategy`` table:
everything placed and collected, per strategy.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Protocol

import attrs

from dunning.reports import Params, Report, run
from dunning.reports.model import Table, rate
from dunning.reports.params import ReportSource, books_and_facts
from dunning.strategies import NO_STRATEGY

SPLIT_NOTE = ("Split by strategy: each strategy's rows are the report for the cases assigned it (--strategy NAME); "
              f"{NO_STRATEGY}: cases assigned none.")
RECOVERY_NOTE = ("By strategy: placed is every obligation of the cases assigned it, collected every payment on "
                 "them by the day.")


class StrategySource(ReportSource, Protocol):
    """A report source that also tells which strategies cases are assigned (the store's CaseStrategies)."""

    def strategy_names(self) -> list[str]: ...
    def has_cases_without_strategy(self) -> bool: ...


def strategies_of(source: StrategySource) -> list[str]:
    """The strategies the report splits by: those cases are assigned, then (none) if some have none."""
    names = source.strategy_names()
    if names and source.has_cases_without_strategy():
        names.append(NO_STRATEGY)
    return names


def run_split(name: str, source: StrategySource, params: Params) -> Report:
    """The report ``name``, split by strategy where cases have strategies (else as ``run`` gives it)."""
    wanted = params.filters.strategy
    groups = [wanted] if wanted is not None else strategies_of(source)
    if not groups:
        return run(name, source, params)
    parts = [(group, run(name, source, attrs.evolve(params, filters=attrs.evolve(params.filters, strategy=group))))
             for group in groups]
    first = parts[0][1]
    tables = [
        Table(table.name, table.title, ("strategy", *table.columns),
              tuple((group, *row) for group, report in parts for row in report.tables[index].rows),
              money=table.money, rates=table.rates)
        for index, table in enumerate(first.tables)]
    notes = (*first.notes, SPLIT_NOTE)
    if name == "recovery":
        tables.insert(0, recovery_by_strategy(source, params))
        notes = (*notes, RECOVERY_NOTE)
    return Report(name=first.name, as_of=first.as_of, tables=tuple(tables), filters=params.filters.given(),
                  notes=notes)


def recovery_by_strategy(source: ReportSource, params: Params) -> Table:
    """Per currency and strategy: cases, everything placed, everything collected by the day, and the rate."""
    books, facts = books_and_facts(source, params)  # a stream: the assignments are read before it is
    if not facts.strategies:  # read even without a strategy filter: every case needs its strategy here
        facts.strategies = {case_id: (strategy, policy) for case_id, strategy, policy
                            in source.report_case_strategies()}
    cases: dict[tuple[str, str], int] = defaultdict(int)
    placed: dict[tuple[str, str], int] = defaultdict(int)
    collected: dict[tuple[str, str], int] = defaultdict(int)
    for book in books:
        if book.opened_on > params.as_of:
            continue
        key = (book.currency, facts.strategies.get(book.id, (NO_STRATEGY, None))[0])
        cases[key] += 1
        placed[key] += book.placed
        collected[key] += sum(amount for amount, _, _ in book.payments)
    # In the order of the split's parts: the strategies by name, then the cases with none.
    order = sorted(cases, key=lambda key: (key[1] == NO_STRATEGY, key[1], key[0]))
    rows = tuple((strategy, currency, cases[currency, strategy], placed[currency, strategy],
                  collected[currency, strategy], rate(collected[currency, strategy], placed[currency, strategy]))
                 for currency, strategy in order)
    return Table("by_strategy", "By strategy (every obligation placed, every payment collected)",
                 ("strategy", "currency", "cases", "placed", "collected", "rate"), rows,
                 money=frozenset({"placed", "collected"}), rates=frozenset({"rate"}))
