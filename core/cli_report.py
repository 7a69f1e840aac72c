"""``dunning report NAME``: the portfolio reports (dunning.reports) as a table, JSON or CSV, and the HTML page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from dunning import money
from dunning.models import Stage
from dunning.output import print_json, print_table
from dunning.reports import REPORTS, Params, Report, run
from dunning.reports.buckets import Buckets, parse_bounds
from dunning.reports.history import Filters
from dunning.reports.model import as_csv, as_json, as_text
from dunning.reports.params import PERIODS

F = TypeVar("F", bound=Callable[..., Any])


class ReportError(click.ClickException):
    exit_code = 1


def _common(fn: F) -> F:
    """The options every report takes: the day, the filters, the buckets."""
    for option in reversed([
        click.option("--as-of", "as_of", metavar="DATE", help="The day the report is for (default: today)."),
        click.option("--currency", help="Only cases in this currency (ISO 4217)."),
        click.option("--stage", help="Only cases in this stage on that day (internal, onsite, agency, litigation)."),
        click.option("--collector", help="Only cases whose latest call by that day was logged by this collector."),
        click.option("--agency", help="Only cases placed with this agency (its id) by that day."),
        click.option("--strategy", metavar="NAME",
                     help="Only cases assigned this strategy ([[strategies]]; '(none)': cases assigned none)."),
        click.option("--policy", metavar="NAME",
                     help="Only cases running under this policy (their strategy's, else the config's)."),
        click.option("--buckets", "bounds", default="30,60,90,180", show_default=True, metavar="DAYS,...",
                     help="Upper bounds of the days-past-due buckets."),
    ]):
        fn = option(fn)
    return fn


def params_from(state: Any, as_of: str | None, currency: str | None, stage: str | None, collector: str | None,
                agency: str | None, bounds: str, strategy: str | None = None, policy: str | None = None,
                **extra: Any) -> Params:
    """The report's parameters from the command line; a bad value stops with one line, exit code 1."""
    zone = state.config.zone
    if as_of:
        try:
            day = dt.date.fromisoformat(as_of)
        except ValueError:
            raise ReportError(f"--as-of must be a date such as 2026-03-31, got {as_of!r}") from None
    else:
        day = state.now().astimezone(zone).date()
    if currency is not None:
        currency = currency.upper()
        if currency not in money.currencies():
            raise ReportError(f"--currency: unknown currency {currency!r}")
    if stage is not None and stage not in {s.value for s in Stage}:
        raise ReportError(f"--stage: unknown stage {stage!r}; stages: {', '.join(s.value for s in Stage)}")
    try:
        buckets: Buckets = parse_bounds(bounds)
    except ValueError as exc:
        raise ReportError(str(exc)) from None
    if strategy is not None or policy is not None:
        _check_strategy_filters(state, strategy, policy)
    return Params(as_of=day, zone=zone, filters=Filters(currency=currency, stage=stage, collector=collector,
                                                        agency=agency, strategy=strategy, policy=policy),
                  buckets=buckets, default_policy=state.config.policy, **extra)


def _check_strategy_filters(state: Any, strategy: str | None, policy: str | None) -> None:
    """A --strategy or --policy no case can have is a typo: say which there are."""
    from dunning.strategies import NO_STRATEGY

    store = state.runtime().store
    declared = state.config.sections.strategies
    if strategy is not None:
        known = [*dict.fromkeys([*(s.name for s in declared), *store.strategy_names()]), NO_STRATEGY]
        if strategy not in known:
            raise ReportError(f"--strategy: no strategy {strategy!r}; strategies: {', '.join(known)}")
    if policy is not None:
        known = list(dict.fromkeys([state.config.policy, *(s.policy for s in declared)]))
        if policy not in known and not store.runs_policy(policy):
            raise ReportError(f"--policy: no case runs under {policy!r}; policies: {', '.join(known)}")


def show(report: Report, as_json_: bool, as_csv_: bool) -> None:
    if as_json_ and as_csv_:
        raise ReportError("choose --json or --csv, not both")
    if as_json_:
        print_json(as_json(report))
        return
    if as_csv_:
        click.echo(as_csv(report), nl=False)
        return
    filters = ", ".join(f"{k} {v}" for k, v in report.filters.items())
    click.echo(f"{report.name} as of {report.as_of.isoformat()}" + (f" ({filters})" if filters else ""))
    for title, headers, rows in as_text(report):
        click.echo("")
        click.echo(title)
        print_table(rows, headers, indent="  ")
    click.echo("")
    for note in report.notes:
        click.echo(f"* {note}")


@click.group(name="report")
def report() -> None:
    """The portfolio as a collections manager reads it: aging, roll rates, recovery, promises, contacts, activity.

    Every figure is computed from the obligations, payments, promises,
    contact log and events in the database, as they stood at the end of
    --as-of; the same database and day always give the same report. Amounts
    are per currency. `dunning report html --out FILE` puts them all on one page.
    """


def _report_command(name: str, summary: str) -> click.Command:
    extra_options: list[Callable[[F], F]] = []
    if name == "roll-rates":
        extra_options = [
            click.option("--period", type=click.Choice(PERIODS), default="month", show_default=True,
                         help="Compare month ends or week ends."),
            click.option("--periods", type=click.IntRange(1, 60), default=12, show_default=True,
                         help="How many periods back from --as-of."),
        ]
    elif name == "recovery":
        extra_options = [click.option("--periods", type=click.IntRange(1, 60), default=12, show_default=True,
                                      help="Months since opening shown on the recovery curves.")]
    elif name == "activity":
        extra_options = [click.option("--days", type=click.IntRange(1, 366), default=30, show_default=True,
                                      help="Days up to --as-of.")]

    def command(state: Any, as_json_: bool, as_csv_: bool, no_split: bool, **options: Any) -> None:
        from dunning.reports.by_strategy import run_split

        params = params_from(state, **options)
        store = state.runtime().store
        show(run(name, store, params) if no_split else run_split(name, store, params), as_json_, as_csv_)

    command.__doc__ = summary[0].upper() + summary[1:] + "."
    fn: Any = click.pass_obj(command)
    for option in [*extra_options,
                   click.option("--no-split", "no_split", is_flag=True,
                                help="Where cases have strategies, one set of figures for all of them "
                                     "instead of a strategy column."),
                   click.option("--csv", "as_csv_", is_flag=True, help="Print CSV (amounts in major units)."),
                   click.option("--json", "as_json_", is_flag=True, help="Print JSON (amounts in minor units).")]:
        fn = option(fn)
    return click.command(name=name)(_common(fn))


for _name, (_build, _summary) in REPORTS.items():
    report.add_command(_report_command(_name, _summary))


@report.command(name="html")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The HTML file to write.")
@click.option("--no-split", "no_split", is_flag=True,
              help="Where cases have strategies, one set of figures for all of them instead of a section per "
                   "strategy.")
@_common
@click.pass_obj
def html(state: Any, out: Path, no_split: bool, **options: Any) -> None:
    """One self-contained page with every report's tables and charts (no network needed to view it).

    Where cases run under several strategies, the page compares them, then
    shows every report for each strategy in turn. It holds figures only: no
    debtor's name, address or number.
    """
    import attrs

    from dunning.reports.by_strategy import recovery_by_strategy, strategies_of
    from dunning.reports.html import render, render_by_strategy

    params = params_from(state, **options)
    store = state.runtime().store
    groups = [] if no_split or params.filters.strategy is not None else strategies_of(store)
    if groups:
        parts = [(group, {name: run(name, store, attrs.evolve(params, filters=attrs.evolve(params.filters,
                                                                                          strategy=group)))
                          for name in REPORTS}) for group in groups]
        page = render_by_strategy(parts, recovery_by_strategy(store, params), params)
    else:
        page = render({name: run(name, store, params) for name in REPORTS}, params)
    out.write_text(page, encoding="utf-8")
    click.echo(f"wrote {out} (as of {params.as_of.isoformat()})")
