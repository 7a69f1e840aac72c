"""``dunning calls``: the day's call list, call scripts, logging calls, exporting for a dialer."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import attrs
import click

from dunning.output import print_json, print_json_array, print_rows
import jinja2

from dunning import ActionKey, calendar, spreadsheet
from dunning.channels import usable_contacts
from dunning.plugins.phone import calls as rules
from dunning.plugins.phone import numbers, scripts
from dunning.plugins.phone.calls import CallTask, PhoneSettings
from dunning.plugins.phone.outcomes import record_call
from dunning.plugins.phone.store import CallStore
from dunning.plugins.phone.worklist import call_list
from dunning.templates import TemplateMissing


def _setup(state: Any) -> tuple[Any, dt.datetime, PhoneSettings]:
    """The command's context, the moment (``--now`` or the clock) and ``[channels.phone]``; an error if phone is off."""
    rt = state.plugin_context()
    if "phone" not in rt.enabled:
        raise click.ClickException(
            'the phone channel is not enabled: add "phone" to [channels] enabled in dunning.toml'
        )
    try:
        settings = rules.phone_settings(rt.config.settings_for("phone"))
    except ValueError as exc:  # the core checked already; kept for a config changed under us
        raise click.ClickException(f"channels.phone: {exc}") from None
    return rt, state.now(), settings


def _day(rt: Any, now: dt.datetime, day: dt.datetime | None) -> dt.date:
    return day.date() if day else rt.today(now)


def _calls_table(rows: Iterable[Sequence[Any]], headers: Sequence[str]) -> None:
    print_rows(rows, headers, empty="(no calls)")


_date_option = click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="YYYY-MM-DD",
                            help="The day to list (default: today, the business date at --now or the clock).")
_collector_option = click.option("--collector", metavar="NAME", help="Only the calls assigned to this collector.")


@click.group(name="calls", invoke_without_command=True)
@_collector_option
@_date_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def calls(ctx: click.Context, collector: str | None, day: dt.datetime | None, as_json: bool) -> None:
    """The day's open phone calls, most urgent first.

    Each row is a call the policy asked for: the case and call ids, the
    debtor, the number to dial (E.164), its kind, the part of the day, days
    past due, the balance, the collector, the priority and why the call is
    on the list. Cases resolved, put on hold, opted out of phone calls or
    with a promise to pay on a later day since drop off.

    `dunning calls script CASE` prints what to say, `dunning calls log CASE`
    records how the call went, `dunning calls export` writes the list for a
    dialer.
    """
    if ctx.invoked_subcommand is not None:
        return
    rt, now, settings = _setup(ctx.obj)
    rows = call_list(rt, _day(rt, now, day), now, settings, collector)
    if as_json:
        print_json_array(row.as_json() for row in rows)
        return
    _calls_table(([r.case_id, r.call_id, r.debtor_name, r.number, r.kind, r.slot, r.dpd, r.balance,
                   r.collector or "-", f"{r.priority:g}", r.reason] for r in rows),
           ["case", "call", "debtor", "number", "kind", "slot", "dpd", "balance", "collector", "priority", "reason"])


@calls.command(name="script")
@click.argument("case_id", type=int)
@click.option("--call", "call_id", type=int, help="The call task to script (default: the case's first open call "
                                                     "today, else its latest).")
@click.option("--template", help="Render this script instead; audience and disclosure follow the policy step "
                                 "that uses it.")
@click.option("--locale", help="The script's language (default: the debtor's locale), e.g. en or zh_CN.")
@click.pass_obj
def script(state: Any, case_id: int, call_id: int | None, template: str | None, locale: str | None) -> None:
    """Print the call script for CASE: opening, the account, answers to common excuses, closing.

    A script for a third party (a relative, an employer) never states the
    debt unless the policy step discloses it.
    """
    rt, now, settings = _setup(state)
    case = rt.store.case(case_id)
    today = rt.today(now)
    task = _task_for_script(rt, case, today, settings, call_id, template)
    context = scripts.script_context(rt, case, task, today, settings, locale=locale)
    try:
        click.echo(scripts.render(rt, task.template or "", context), nl=False)
    except TemplateMissing as exc:
        raise click.ClickException(f"phone script: {exc}") from None
    except jinja2.UndefinedError as exc:
        hint = (" (a script for a third party cannot use debt details unless the step's disclosure is \"debt\")"
                if task.audience != "debtor" else "")
        raise click.ClickException(f"phone script {task.template}: {exc.message}{hint}") from None


def _task_for_script(rt: Any, case: Any, today: dt.date, settings: PhoneSettings, call_id: int | None,
                     template: str | None) -> CallTask:
    store = CallStore(rt.db)
    task: CallTask | None
    if call_id is not None:
        task = store.get(call_id)
        if task is None or task.case_id != case.id:
            raise click.ClickException(f"case {case.id} has no call {call_id}")
    else:
        task = rules.first_task(store.open_for_case(case.id, today)) or store.latest_for_case(case.id)
    if template is None:
        if task is None or not task.template:
            raise click.ClickException(f"case {case.id} has no call task with a script yet; name one with --template")
        return task
    step = next((s for s in rt.policy_for(case).steps if s.template == template and "phone" in s.channels), None)
    audience = step.audience if step else "debtor"
    if task is None or task.audience != audience:
        task = _unplanned_task(rt, case, today, settings, audience)
    return attrs.evolve(task, template=template, step=step.name if step else template, audience=audience,
                        disclosure=step.disclosure if step else "none")


def _unplanned_task(rt: Any, case: Any, today: dt.date, settings: PhoneSettings, audience: str) -> CallTask:
    """A stand-in task for a script asked for by name: the number the channel would choose today."""
    debtor = rt.store.debtor(case.debtor_id)
    key = str(ActionKey.for_day(case.id, "script", "phone", today))
    usable = usable_contacts(rt.store.contacts(case.debtor_id), numbers.PHONE_KINDS, audience)
    contact = numbers.choose_number(usable, key, settings.mix)
    return CallTask(
        key=key, case_id=case.id, debtor_id=case.debtor_id, due_on=today,
        number=numbers.dial_form(contact.value, debtor.country) if contact else "",
        slot=numbers.slot_for(key), contact_id=contact.id if contact else None,
        number_kind=contact.kind.value if contact else None, contact_name=contact.name if contact else None,
        contact_role=contact.role.value if contact else None, audience=audience,
        collector=rules.collector_for(case.id, settings.collectors),
    )


@calls.command(name="log")
@click.argument("case_id", type=int)
@click.option("--outcome", required=True, type=click.Choice(list(rules.OUTCOMES)), help="How the call went.")
@click.option("--note", help="What was said (kept as evidence).")
@click.option("--number", metavar="E164", help="The number dialled (default: the one on today's call task).")
@click.option("--promise", "promise_amount", metavar="AMOUNT", help="With --outcome promise: the amount promised.")
@click.option("--due", "due_text", metavar="DATETIME", help="With --outcome promise: when the debtor will pay.")
@click.option("--approved-by", metavar="NAME", help="With --outcome promise: the supervisor who allows a date "
                                                     "further out than the compliance profile's limit.")
@click.option("--collector", metavar="NAME", help="Who made the call (default: the case's collector).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a sentence.")
@click.pass_obj
def log(state: Any, case_id: int, outcome: str, note: str | None, number: str | None, promise_amount: str | None,
        due_text: str | None, approved_by: str | None, collector: str | None, as_json: bool) -> None:
    """Record how a call on CASE went, on its open call task for today.

    Outcomes: no_answer, busy, wrong_number (the number is marked bad),
    left_message, right_party, third_party, call_back (a third party asks to be
    called again), promise (records a promise to
    pay; needs --promise and --due), refused, disputed (places a dispute
    hold: outreach stops until it is released), paid_claimed. Each call is
    kept as a phone:call_logged event.
    """
    try:
        rules.check_log(outcome, promise_amount, due_text)
        if approved_by and outcome != "promise":
            raise ValueError("--approved-by goes with --outcome promise only")
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    rt, now, settings = _setup(state)
    due_at = None
    if due_text:
        try:
            due_at = calendar.parse_moment(due_text, rt.config.zone)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--due") from None
    logged = record_call(rt, case_id, outcome, now=now, settings=settings, note=note, number=number,
                         collector=collector, promise_amount=promise_amount, due_at=due_at, approved_by=approved_by)
    if as_json:
        print_json(logged.as_json())
        return
    call = logged.call
    parts = [f"case {case_id}: call {call.id} logged as {outcome}" + ("" if logged.planned else " (not on the list)")]
    if logged.promise_id is not None:
        parts.append(f"promise {logged.promise_id} recorded")
    if logged.hold_id is not None:
        parts.append(f"dispute hold {logged.hold_id} placed; outreach stops until it is released")
    if logged.marked_bad is not None:
        parts.append(f"contact {logged.marked_bad} marked bad")
    click.echo("; ".join(parts))


@calls.command(name="export")
@click.option("--format", "fmt", type=click.Choice(["csv"]), default="csv", show_default=True,
              help="The file format.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write here (default: standard output).")
@_date_option
@_collector_option
@click.pass_obj
def export(state: Any, fmt: str, out: Path | None, day: dt.datetime | None, collector: str | None) -> None:
    """Write the day's call list for a dialer to import, in priority order.

    Columns: phone_number (E.164), name, case_id, priority, slot,
    collector, key (the task's idempotency key, for matching results back).
    """
    rt, now, settings = _setup(state)
    rows = call_list(rt, _day(rt, now, day), now, settings, collector)

    def write(stream: Any) -> None:
        # Row by row: the list is held once (sorted), never a second time as one CSV text.
        writer = spreadsheet.dict_writer(stream, rules.CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow(rules.export_row(row))

    if out is None:
        write(sys.stdout)
        return
    # Written whole and then renamed, so a dialer polling the folder never reads half a file.
    partial = out.with_name(out.name + ".partial")
    with partial.open("w", encoding="utf-8", newline="") as stream:
        write(stream)
    partial.replace(out)
    click.echo(f"wrote {len(rows)} calls to {out}", err=True)
