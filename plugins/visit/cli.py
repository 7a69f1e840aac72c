"""``dunning visits``: the field collectors' list, the route sheet, and logging what a visit found."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import click

from dunning import NotFound, PluginContext, money
from dunning.operations import OperationError
from dunning.output import print_json, print_table
from dunning.plugins.visit.areas import one_line
from dunning.plugins.visit.outcomes import VisitLog, log_visit
from dunning.plugins.visit.queue import AreaGroup, work_list
from dunning.plugins.visit.sheet import route_sheets
from dunning.plugins.visit.store import OUTCOMES

ADDRESS_WIDTH = 40


class VisitsGroup(click.Group):
    """Refusals become a clear message and exit code 1, as in the core's commands."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (OperationError, NotFound) as exc:
            raise click.ClickException(str(exc)) from None


def _runtime(state: Any) -> PluginContext:
    rt: PluginContext = state.plugin_context()
    if "visit" not in rt.enabled:
        where = f" in {rt.config.path}" if rt.config.path else ""
        raise click.ClickException(f"the visit channel is not enabled{where}: add \"visit\" to [channels] enabled")
    return rt


def _day(rt: PluginContext, state: Any, date: dt.datetime | None) -> dt.date:
    return date.date() if date is not None else rt.today(state.now())


def _one_line(address: str | None) -> str:
    text = one_line(address)
    return text if len(text) <= ADDRESS_WIDTH else text[:ADDRESS_WIDTH - 3] + "..."


def _print_groups(groups: Sequence[AreaGroup], day: dt.date, everything: bool) -> None:
    if not groups:
        click.echo("no open visits" + ("" if everything else f" due by {day.isoformat()}"))
        return
    for number, group in enumerate(groups):
        if number:
            click.echo("")
        who = f", collector {group.collector}" if group.collector else ""
        workable = [i for i in group.items if i.not_workable is None]
        others = len(group.items) - len(workable)
        count = f"{len(workable)} visit{'s' if len(workable) != 1 else ''}"
        if others:
            count += f" to make, {others} not workable"
        click.echo(f"{group.area}{who}: {count}")
        headers = ["case", "debtor", "address", "balance", "dpd", "due", "reason"]
        rows = [[i.case.id, i.debtor_name, _one_line(i.task.address), money.display(i.case.balance, i.case.currency),
                 i.dpd, i.task.due_on.isoformat(), i.reason] for i in group.items]
        if everything:
            # --all: each row says whether the visit is to be made, and if not, why.
            headers.append("workable")
            for row, item in zip(rows, group.items, strict=False):
                row.append("yes" if item.not_workable is None else f"no: {item.not_workable}")
        print_table(rows, headers, indent="  ")


DATE = click.DateTime(formats=["%Y-%m-%d"])


@click.group(name="visits", cls=VisitsGroup, invoke_without_command=True)
@click.option("--area", help="Only this area (a postal district such as SW1A, or a city).")
@click.option("--date", "date", type=DATE, metavar="YYYY-MM-DD", help="List visits due by this day (default: today).")
@click.option("--all", "everything", is_flag=True,
              help="Every open visit task, whatever its due day, and those not to be made, each with the reason.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def visits(ctx: click.Context, area: str | None, date: dt.datetime | None, everything: bool, as_json: bool) -> None:
    """List the visits to make by a day, grouped by area, the most urgent case first.

    Each line shows the case, the debtor, the address, the balance, the days
    past due and why the visit is on the list (the policy step and the facts
    that raise the case's priority). A visit is left out once its case is
    resolved, on hold, placed with an agency or moved to another stage after
    the visit was planned; --all lists those too, each with the reason in the
    "workable" column. `dunning visits sheet` prints the list as route sheets
    with the visit script; `dunning visits log` records a visit.
    """
    if ctx.invoked_subcommand is not None:
        return
    state = ctx.obj
    rt = _runtime(state)
    day = _day(rt, state, date)
    groups = work_list(rt, day, area=area, everything=everything)
    if as_json:
        print_json([group.as_json() for group in groups])
        return
    _print_groups(groups, day, everything)


@visits.command(name="sheet", short_help="Print route sheets with the visit scripts.")
@click.option("--area", help="Only this area (default: one sheet per area, each on its own page).")
@click.option("--date", "date", type=DATE, metavar="YYYY-MM-DD", help="Visits due by this day (default: today).")
@click.pass_obj
def sheet(state: Any, area: str | None, date: dt.datetime | None) -> None:
    """Print the route sheet for an area: addresses, amounts, the visit script and boxes to tick.

    The script is rendered from the visit step's template in the debtor's
    language, with the case as it stands on the day.
    """
    rt = _runtime(state)
    day = _day(rt, state, date)
    groups = work_list(rt, day, area=area)
    if not groups:
        where = f" in area {area}" if area else ""
        click.echo(f"no open visits due by {day.isoformat()}{where}")
        return
    click.echo(route_sheets(rt, groups, day), nl=False)


@visits.command(name="log", short_help="Record what a visit to a case found.")
@click.argument("case_id", metavar="CASE")
@click.option("--outcome", required=True, type=click.Choice(OUTCOMES),
              help="What the visit found: met the debtor, nobody found, the debtor moved, refused to pay, "
                   "promised to pay, or paid on site.")
@click.option("--note", help="What was seen or said (kept as evidence).")
@click.option("--closed", is_flag=True,
              help="The business looks closed (shutters down, equipment gone): records a business_closed signal.")
@click.option("--promise", "promise_amount", metavar="AMOUNT", help="With --outcome promise: the amount promised.")
@click.option("--due", "due_text", metavar="DATETIME", help="With --outcome promise: when the debtor will pay.")
@click.option("--approved-by", "approved_by", metavar="NAME",
              help="With --outcome promise: the supervisor who agreed to a date past the promise limit.")
@click.option("--amount", metavar="AMOUNT", help="With --outcome paid (or promise): the sum collected on site.")
@click.option("--collector", help="Who made the visit.")
@click.option("--json", "as_json", is_flag=True, help="Print what was recorded as JSON.")
@click.pass_obj
def log(state: Any, case_id: str, outcome: str, note: str | None, closed: bool, promise_amount: str | None,
        due_text: str | None, approved_by: str | None, amount: str | None, collector: str | None,
        as_json: bool) -> None:
    """Record a visit to CASE on its open visit task (or as an ad-hoc visit).

    A `visit:logged` event is written with the task's update in one
    transaction, together with what the outcome implies: `moved` records a
    relocation signal, --closed a business_closed signal, `promise` a
    promise, `paid` the payment (reference visit:<task id>). If any part is
    refused, nothing is written.
    """
    if not (case_id.isascii() and case_id.isdigit()):
        raise click.ClickException(f"case id must be a number, got {case_id!r}")
    rt = _runtime(state)
    now = state.now()
    due = state.now(due_text) if due_text else None
    result = log_visit(rt, int(case_id), outcome, now=now, note=note, closed=closed, promise_amount=promise_amount,
                       promise_due=due, amount=amount, collector=collector, approved_by=approved_by)
    if as_json:
        print_json(_log_json(result))
        return
    click.echo(_log_text(result))


def _log_json(result: VisitLog) -> dict[str, Any]:
    payment = result.payment
    return {
        "case_id": result.case_id,
        "outcome": result.outcome,
        "task_ids": list(result.task_ids),
        "adhoc": result.adhoc,
        "area": result.area,
        "signals": [{"signal": kind, "signal_id": signal_id} for kind, signal_id in result.signals],
        "promise_id": result.promise_id,
        "payment": None if payment is None else {
            "amount": money.format_minor(payment.amount, payment.case.currency),
            "balance_after": money.format_minor(payment.case.balance, payment.case.currency),
            "case_status": payment.case.status.value,
        },
    }


def _log_text(result: VisitLog) -> str:
    where = "an ad-hoc visit" if result.adhoc else "task " + ", ".join(str(i) for i in result.task_ids)
    parts = [f"case {result.case_id}: visit logged ({result.outcome}) as {where}, area {result.area}"]
    parts += [f"{kind} signal recorded" for kind, _ in result.signals]
    if result.promise_id is not None:
        parts.append(f"promise {result.promise_id} recorded")
    if result.payment is not None:
        p = result.payment
        parts.append(f"paid {money.display(p.amount, p.case.currency)}, balance "
                     f"{money.display(p.case.balance, p.case.currency)}"
                     + ("; case resolved as paid" if p.case.balance == 0 else ""))
    return "; ".join(parts)


def add_commands(cli: click.Group) -> None:
    cli.add_command(visits)
