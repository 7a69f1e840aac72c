"""``dunning legal ...``: matters and milestones, acknowledgements, limitation, evidence bundles, tasks."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import click

from dunning import PluginContext, calendar, money
from dunning.plugins.legal import bundle, records, tasks
from dunning.plugins.legal.matters import acknowledge, case_limitation, costs_of, log_milestone
from dunning.plugins.legal.milestones import MILESTONES
from dunning.plugins.legal.records import Matter
from dunning.plugins.legal.settings import LegalSettings, parse_settings
from dunning.output import print_json, print_table


def _open(state: Any) -> tuple[PluginContext, LegalSettings]:
    rt = state.plugin_context()
    if "legal" not in rt.enabled:
        raise click.ClickException('the legal channel is not enabled: add "legal" to [channels] enabled in '
                                   "dunning.toml and name the law firm in [channels.legal]")
    # Bankruptcy signals recorded since the last look open their tasks now.
    tasks.open_from_signals(rt)
    return rt, parse_settings(rt.config.settings_for("legal"))


def _case_id(text: str) -> int:
    if not (text.isascii() and text.isdigit()):
        raise click.ClickException(f"case id must be a number, got {text!r}")
    return int(text)


def _day(value: dt.datetime | None, rt: PluginContext, now: dt.datetime) -> dt.date:
    return value.date() if value else rt.today(now)


def matter_json(rt: PluginContext, matter: Matter) -> dict[str, Any]:
    cur = matter.currency
    steps = records.milestones(rt.db, matter.id)
    case = rt.store.case(matter.case_id)
    debtor = rt.store.debtor(case.debtor_id)
    return {
        "id": matter.id,
        "case_id": matter.case_id,
        "debtor_id": case.debtor_id,
        "debtor_name": debtor.name if debtor else None,
        "status": matter.status,
        "firm": matter.firm,
        "lawyer": matter.lawyer,
        "court": matter.court,
        "case_number": matter.case_number,
        "opened_on": matter.opened_on,
        "closed_on": matter.closed_on,
        "currency": cur,
        "balance": money.format_minor(case.balance, cur),
        "awarded": None if matter.awarded is None else money.format_minor(matter.awarded, cur),
        "costs": money.format_minor(costs_of(rt.db, matter.id), cur),
        "last_milestone": steps[-1].milestone if steps else None,
        "last_milestone_on": steps[-1].on if steps else None,
        "milestones": [
            {"milestone": m.milestone, "on": m.on,
             "amount": None if m.amount is None else money.format_minor(m.amount, cur),
             "cost": None if m.cost is None else money.format_minor(m.cost, cur),
             "note": m.note, "court": m.court, "case_number": m.case_number}
            for m in steps
        ],
    }


def _list(state: Any, as_json: bool, open_only: bool = False) -> None:
    rt, _ = _open(state)
    found = [matter_json(rt, m) for m in records.matters(rt.db, open_only=open_only)]
    if as_json:
        print_json(found)
        return
    print_table([[m["id"], m["case_id"], m["debtor_name"], m["status"], m["firm"], m["court"], m["case_number"],
             f"{m['last_milestone'] or ''} {m['last_milestone_on'] or ''}".strip(), m["awarded"], m["costs"]]
            for m in found],
           ["matter", "case", "debtor", "status", "firm", "court", "case no.", "last milestone", "awarded", "costs"])


@click.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def legal(ctx: click.Context, as_json: bool) -> None:
    """Litigation: legal matters and milestones, limitation periods, evidence bundles, claim tasks.

    Without a subcommand, lists the legal matters (as `dunning legal list`).
    """
    if ctx.invoked_subcommand is None:
        _list(ctx.obj, as_json)


@legal.command(name="list")
@click.option("--open", "open_only", is_flag=True, help="Only matters still open.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_obj
def list_command(state: Any, open_only: bool, as_json: bool) -> None:
    """List legal matters: firm, court, case number, last milestone, amount awarded, costs."""
    _list(state, as_json, open_only)


@legal.command()
@click.argument("case_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.pass_obj
def show(state: Any, case_id: str, as_json: bool) -> None:
    """Show a case's legal matter with its milestones and costs, its limitation period and tasks."""
    rt, settings = _open(state)
    now = state.now()
    case = rt.store.case(_case_id(case_id))
    matter = records.matter_of(rt.db, case.id)
    data: dict[str, Any] = {"case_id": case.id, "matter": matter_json(rt, matter) if matter else None,
                            "limitation": _limitation_json(rt, settings, case, now),
                            "tasks": [_task_json(t) for t in records.tasks(rt.db, include_done=True,
                                                                          case_id=case.id)]}
    if as_json:
        print_json(data)
        return
    lim = data["limitation"]
    if matter is None:
        click.echo(f"case {case.id}: no legal matter (one opens when the case enters litigation)")
    else:
        m = data["matter"]
        click.echo(f"case {case.id}: matter {m['id']} ({m['status']}), {m['firm']}"
                   + (f", {m['lawyer']}" if m["lawyer"] else ""))
        click.echo(
            f"  court {m['court'] or '-'}, case number {m['case_number'] or '-'}; awarded {m['awarded'] or '-'}; "
            f"costs {m['currency']} {m['costs']}"
        )
        print_table([[s["on"], s["milestone"], s["amount"], s["cost"], s["note"]] for s in m["milestones"]],
               ["on", "milestone", "amount", "cost", "note"])
    if lim["time_barred_on"] is None:
        click.echo("limitation: nothing unpaid")
    else:
        state_text = "TIME-BARRED" if lim["time_barred"] else "running"
        click.echo(f"limitation ({lim['jurisdiction']}, {lim['years']} years): {state_text}, "
                   f"time-barred from {lim['time_barred_on']}")
    for task in data["tasks"]:
        click.echo(f"task {task['id']}: {task['kind']} ({task['status']}) - {task['note']}")


def _limitation_json(rt: PluginContext, settings: LegalSettings, case: Any, now: dt.datetime) -> dict[str, Any]:
    today = rt.today(now)
    period, jurisdiction = case_limitation(rt.store, rt.db, settings, case, today, rt.config.zone)
    return {
        "jurisdiction": jurisdiction.code,
        "years": jurisdiction.limitation_years,
        "restarted_by": list(jurisdiction.restarted_by),
        "starts_on": period.starts_on if period else None,
        "restart": period.restarted_by if period else None,
        "time_barred_on": period.barred_on if period else None,
        "time_barred": period.is_barred(today) if period else False,
    }


@legal.command()
@click.argument("case_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.pass_obj
def limitation(state: Any, case_id: str, as_json: bool) -> None:
    """Show when a case's debt becomes (or became) time-barred, and why."""
    rt, settings = _open(state)
    case = rt.store.case(_case_id(case_id))
    data = {"case_id": case.id, **_limitation_json(rt, settings, case, state.now())}
    if as_json:
        print_json(data)
        return
    if data["time_barred_on"] is None:
        click.echo(f"case {case.id}: nothing unpaid")
        return
    since = f"the {data['restart']} of {data['starts_on']}" if data["restart"] else f"the due date {data['starts_on']}"
    if data["time_barred"]:
        click.echo(f"case {case.id}: time-barred since {data['time_barred_on']} ({data['years']}-year limitation "
                   f"in {data['jurisdiction']}, counted from {since})")
    else:
        click.echo(f"case {case.id}: time-barred from {data['time_barred_on']} ({data['years']}-year limitation "
                   f"in {data['jurisdiction']}, counted from {since})")


@legal.command(name="acknowledge")
@click.argument("case_id")
@click.option("--date", "on", required=True, type=click.DateTime(formats=["%Y-%m-%d"]),
              help="The date of the debtor's written acknowledgement.")
@click.option("--note", help="What was acknowledged and how (kept as evidence).")
@click.pass_obj
def acknowledge_command(state: Any, case_id: str, on: dt.datetime, note: str | None) -> None:
    """Record the debtor's written acknowledgement of the debt (it can restart the limitation period)."""
    rt, _ = _open(state)
    ack_id = acknowledge(rt, _case_id(case_id), on.date(), note, state.now())
    click.echo(f"acknowledgement {ack_id} of {on.date()} recorded on case {case_id}")


@legal.command(name="log")
@click.argument("case_id")
@click.option("--milestone", required=True, type=click.Choice(MILESTONES), help="What happened.")
@click.option("--date", "on", type=click.DateTime(formats=["%Y-%m-%d"]), help="When (default: today).")
@click.option("--amount", help="For a judgment: the amount awarded.")
@click.option("--cost", help="A cost incurred (court fee, lawyer's fee), tracked against the case.")
@click.option("--note", help="Free text kept with the milestone.")
@click.option("--court", help="The court (kept on the matter).")
@click.option("--case-number", help="The court's case number (kept on the matter).")
@click.pass_obj
def log_command(state: Any, case_id: str, milestone: str, on: dt.datetime | None, amount: str | None,
                cost: str | None, note: str | None, court: str | None, case_number: str | None) -> None:
    """Record a milestone of a case's legal matter (and any cost incurred)."""
    rt, _ = _open(state)
    now = state.now()
    matter = log_milestone(rt, _case_id(case_id), milestone, on=_day(on, rt, now), now=now, amount_text=amount,
                           cost_text=cost, note=note, court=court, case_number=case_number)
    click.echo(f"case {case_id}: {milestone} recorded on matter {matter.id}"
               + (" (matter closed)" if not matter.is_open else ""))


@legal.command(name="bundle")
@click.argument("case_id", required=False)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="The zip file to write.")
@click.option("--verify", "verify_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Check a bundle instead of making one.")
@click.option("--against-log", is_flag=True,
              help="With --verify: also compare the bundle's events with this database's evidence log.")
@click.option("--public-key", metavar="BASE64",
              help="With --verify: the evidence key's public key (`dunning evidence public-key`); the bundle's "
                   "signed checkpoint must be signed by it.")
@click.option("--allow-missing", is_flag=True, help="Make the bundle even if some sent letters cannot be found.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.pass_obj
def bundle_command(state: Any, case_id: str | None, out: Path | None, verify_path: Path | None, against_log: bool,
                   public_key: str | None, allow_missing: bool, as_json: bool) -> None:
    """Export a case's evidence bundle (CASE --out FILE.zip), or check one (--verify FILE.zip).

    The bundle holds a manifest of every event of the case with its hash
    chain, the letters sent, call and visit notes, payments and promises,
    and the statement of account, each with its SHA-256. --verify exits
    with code 1 and names every problem it finds; --against-log also
    compares the events with the database's log (an event left out, or
    rewritten together with its hash).
    """
    if verify_path is not None:
        if case_id or out:
            raise click.UsageError("--verify takes only the bundle file")
        manifest, problems = bundle.verify(verify_path, public_key)
        if against_log and manifest is not None:
            problems += bundle.check_against_log(manifest, state.plugin_context().store)
        summary = {"file": str(verify_path), "ok": not problems, "problems": problems,
                   "case_id": (manifest or {}).get("case", {}).get("id"),
                   "events": len((manifest or {}).get("events") or []),
                   "files": len((manifest or {}).get("files") or [])}
        if as_json:
            print_json(summary)
        elif not problems:
            click.echo(f"ok: {verify_path.name}: case {summary['case_id']}, {summary['events']} events, "
                       f"{summary['files']} files, every hash matches")
        if problems:
            raise click.ClickException(f"{verify_path.name}: {len(problems)} problem(s):\n"
                                       + "\n".join(f"  {p}" for p in problems))
        return
    if not case_id or out is None or against_log:
        raise click.UsageError("give CASE and --out FILE.zip to make a bundle, or --verify FILE.zip to check one")
    rt, _ = _open(state)
    built = bundle.build(rt, _case_id(case_id), out, state.now(), allow_missing=allow_missing)
    if as_json:
        print_json({"file": str(built.path), "events": built.events, "letters": built.letters, "files": built.files,
               "missing": list(built.missing)})
        return
    click.echo(f"wrote {built.path}: {built.events} events, {built.letters} letters, {built.files} files")
    for label in built.missing:
        click.echo(f"warning: letter not found: {label}", err=True)


def _task_json(task: records.Task) -> dict[str, Any]:
    return {"id": task.id, "case_id": task.case_id, "kind": task.kind, "status": task.status,
            "opened_at": task.opened_at, "note": task.note, "signal_event": task.source_seq,
            "done_at": task.done_at, "done_by": task.done_by, "done_note": task.done_note}


@legal.command(name="tasks")
@click.option("--all", "include_done", is_flag=True, help="Include tasks already done.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_obj
def tasks_command(state: Any, include_done: bool, as_json: bool) -> None:
    """List the legal team's tasks (a bankruptcy signal opens "file_claim")."""
    rt, _ = _open(state)
    found = [_task_json(t) for t in records.tasks(rt.db, include_done=include_done)]
    if as_json:
        print_json(found)
        return
    print_table([[t["id"], t["case_id"], t["kind"], t["status"], t["opened_at"], t["note"]] for t in found],
           ["task", "case", "kind", "status", "opened", "note"])


@legal.command(name="done")
@click.argument("task_id", type=int)
@click.option("--by", required=True, help="Who did it.")
@click.option("--note", help="What was done (the claim's reference, say).")
@click.pass_obj
def done_command(state: Any, task_id: int, by: str, note: str | None) -> None:
    """Mark a legal task done (recorded as evidence on its case)."""
    rt, _ = _open(state)
    now = state.now()
    task = records.task(rt.db, task_id)
    if task is None:
        raise click.ClickException(f"no legal task {task_id}")
    case = rt.store.case(task.case_id)
    with rt.transaction():
        if not records.finish_task(rt.db, task_id, at=calendar.to_text(now), by=by, note=note):
            raise click.ClickException(f"task {task_id} is already done")
        rt.append_event("legal:task_done", case, now, channel="legal", data={
            "task_id": task_id, "kind": task.kind, "by": by, "note": note})
    click.echo(f"task {task_id} ({task.kind}, case {task.case_id}) done")
