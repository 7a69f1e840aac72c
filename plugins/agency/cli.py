"""``dunning agency ...``: place, recall, import returns, report."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from dunning import PluginContext, calendar, money
from dunning.models import Stage
from dunning.plugins.agency import files, records, report, returns, upkeep
from dunning.plugins.agency.choice import why_not
from dunning.plugins.agency.placement import place
from dunning.plugins.agency.records import Placement
from dunning.plugins.agency.settings import AgencySettings, parse_settings
from dunning.output import print_json, print_json_array, print_rows, print_table


def _open(state: Any) -> tuple[PluginContext, AgencySettings]:
    rt = state.plugin_context()
    if "agency" not in rt.enabled:
        raise click.ClickException('the agency channel is not enabled: add "agency" to [channels] enabled in '
                                   "dunning.toml and describe the agencies in [channels.agency]")
    return rt, parse_settings(rt.config.settings_for("agency"))


def _case_id(text: str) -> int:
    if not (text.isascii() and text.isdigit()):
        raise click.ClickException(f"case id must be a number, got {text!r}")
    return int(text)


def _write_files(rt: PluginContext, settings: AgencySettings) -> list[files.WrittenFile]:
    return files.write_pending(rt.db, settings, rt.config.base_dir)


def _echo_files(written: Sequence[files.WrittenFile]) -> None:
    for item in written:
        click.echo(
            f"wrote {item.csv_path} ({item.rows} row{'s' if item.rows != 1 else ''}) and {item.manifest_path.name}"
        )


def placement_json(p: Placement) -> dict[str, Any]:
    return {
        "id": p.id, "case_id": p.case_id, "agency": p.agency, "status": p.status, "placed_on": p.placed_on,
        "expires_on": p.expires_on, "currency": p.currency,
        "balance_placed": money.format_minor(p.balance_placed, p.currency),
        "ended_on": p.ended_on, "end_kind": p.end_kind, "end_reason": p.end_reason,
        "placement_file": p.placement_file, "recall_file": p.recall_file,
    }


@click.group()
def agency() -> None:
    """Collection agencies: placements, return files, recalls and the agency report.

    Cases are placed when they enter the agency stage; the day's placement
    and recall files are written at the end of every `dunning run`. Run
    `dunning agency expire` daily after `dunning run` to recall placements
    whose period is over.
    """


@agency.command(name="place")
@click.argument("case_id")
@click.option("--agency", "agency_id", metavar="ID", help="This agency (default: chosen by rule).")
@click.pass_obj
def place_command(state: Any, case_id: str, agency_id: str | None) -> None:
    """Place a case at the agency stage that no agency could take when it got there."""
    rt, settings = _open(state)
    now = state.now()
    case = rt.store.case(_case_id(case_id))
    if not case.is_open or case.stage is not Stage.AGENCY:
        raise click.ClickException(f"case {case.id} is {case.status.value} at {case.stage.value}; only open cases "
                                   "at the agency stage are placed (move it with dunning escalate --to agency)")
    current = records.open_placement(rt.db, case.id)
    if current is not None:
        raise click.ClickException(f"case {case.id} is already placed with {current.agency} (placement {current.id})")
    if agency_id is not None:
        chosen = settings.agency(agency_id)
        if chosen is None:
            raise click.ClickException(f"unknown agency {agency_id!r} (configured: "
                                       f"{', '.join(a.id for a in settings.agencies)})")
        open_now = records.agency_records(rt.db, settings.recovery_window).get(agency_id)
        reason = why_not(chosen, case.balance, case.currency, open_now.open_placements if open_now else 0)
        if reason is not None:
            raise click.ClickException(f"{agency_id} cannot take case {case.id}: {reason}")
    debtor = rt.store.debtor(case.debtor_id)
    assert debtor is not None
    with rt.transaction():
        choice, placement_id = place(
            rt.db, settings, case=case, debtor=debtor, obligations=rt.store.obligations(case.id),
            contacts=rt.store.contacts(debtor.id), now=now, today=rt.today(now), only=agency_id,
            record=lambda kind, **data: rt.append_event(kind, case, now, channel="agency", data=data))
    if placement_id is None:
        reasons = "; ".join(f"{a}: {r}" for a, r in sorted(choice.refused.items()))
        raise click.ClickException(f"no agency can take case {case.id} ({reasons}); recorded as evidence")
    assert choice.agency is not None
    click.echo(f"case {case.id} placed with {choice.agency.id} (placement {placement_id})")
    _echo_files(_write_files(rt, settings))


@agency.command()
@click.argument("case_id")
@click.option("--reason", required=True, help="Why the case is taken back (kept as evidence, sent to the agency).")
@click.option("--by", default="operator", show_default=True, help="Who decided.")
@click.pass_obj
def recall(state: Any, case_id: str, reason: str, by: str) -> None:
    """Take a case back from its agency now; it goes into today's recall file."""
    rt, settings = _open(state)
    placement, back_to = upkeep.recall(rt, _case_id(case_id), reason=reason, by=by, now=state.now())
    click.echo(f"case {placement.case_id} recalled from {placement.agency}; it is back at {back_to.value}")
    _echo_files(_write_files(rt, settings))


@agency.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.pass_obj
def expire(state: Any, as_json: bool) -> None:
    """Recall placements whose period is over, end those of resolved cases, write due files.

    Meant for cron, after `dunning run`. Safe to repeat.
    """
    rt, settings = _open(state)
    now = state.now()
    ended = upkeep.reconcile(rt, now)
    recalled = upkeep.expire(rt, now)
    written = _write_files(rt, settings)
    if as_json:
        print_json({"recalled": [{"case_id": p.case_id, "agency": p.agency, "back_to": s.value} for p, s in recalled],
               "ended": [{"case_id": p.case_id, "agency": p.agency, "kind": p.end_kind} for p in ended],
               "files": [str(w.csv_path) for w in written]})
        return
    for p, stage in recalled:
        click.echo(f"case {p.case_id}: placement with {p.agency} ended on {p.expires_on}; back at {stage.value}")
    for p in ended:
        click.echo(f"case {p.case_id}: placement with {p.agency} ended ({p.end_reason})")
    _echo_files(written)
    if not (recalled or ended or written):
        click.echo("nothing to do")


@agency.command(name="import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file, write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.pass_obj
def import_returns(state: Any, file: Path, dry_run: bool, as_json: bool) -> None:
    """Import an agency's return file: payments, contacts, status updates, closures.

    Columns: agency, transaction_id, case_id, type (payment, contact, status,
    closure), date, amount, currency, detail. Every line is checked first;
    if any is bad, all problems are listed by line number and nothing is
    written.
    """
    rt, settings = _open(state)
    now = state.now()
    upkeep.reconcile(rt, now)
    try:
        checked = returns.check(rt, settings, file, now)
    except returns.ReturnFileError as exc:
        raise click.ClickException(str(exc)) from None
    if dry_run:
        if as_json:
            print_json({"agency": checked.agency.id, "lines": len(checked.lines), "dry_run": True})
        else:
            click.echo(f"{file.name}: {len(checked.lines)} lines from {checked.agency.id} are good; nothing written")
        return
    imported = returns.apply(rt, checked, file.name, now)
    written = _write_files(rt, settings)
    if as_json:
        print_json(imported.as_dict() | {"files": [str(w.csv_path) for w in written]})
        return
    collected = ", ".join(money.display(v, c) for c, v in sorted(imported.collected.items())) or "nothing"
    commission = ", ".join(money.display(v, c) for c, v in sorted(imported.commission.items())) or "none"
    click.echo(f"imported {file.name} from {imported.agency}: {imported.payments} payments ({collected}; "
               f"commission {commission}), {imported.contacts} contacts, {imported.status_updates} status updates, "
               f"{imported.closures} closures")
    _echo_files(written)


@agency.command(name="report")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_obj
def report_command(state: Any, as_json: bool) -> None:
    """Per agency: cases placed, balance placed, recovered, recovery rate, commission owed, days to first payment."""
    rt, settings = _open(state)
    now = state.now()
    upkeep.reconcile(rt, now)
    placements = records.placements(rt.db)
    lines = report.build(settings, placements, records.collected(rt.db), _direct_payments(rt, placements, now))
    if as_json:
        print_json([line.as_dict() for line in lines])
        return
    rows = []
    for line in lines:
        data = line.as_dict()
        cur = line.currency or ""
        rows.append([line.agency, cur, line.cases_placed, line.open_placements, data["balance_placed"],
                     data["recovered"], data["direct_payments"],
                     "" if data["recovery_rate"] is None else f"{data['recovery_rate']:.1f}%",
                     data["commission_owed"], data["average_days_to_first_payment"]])
    print_table(rows, ["agency", "currency", "placed", "open", "balance placed", "recovered", "direct", "rate",
                  "commission", "days to 1st"])


def _direct_payments(rt: PluginContext, placements: Sequence[Placement], now: dt.datetime) -> dict[int, int]:
    """Payments the creditor received while a case was placed, other than the agencies' own."""
    agency_refs = records.payment_references(rt.db)
    direct: dict[int, int] = {}
    for p in placements:
        start = calendar.from_text(p.placed_at)
        end = calendar.from_text(p.ended_at) if p.ended_at else now
        theirs = agency_refs.get(p.case_id, set())
        direct[p.id] = sum(pay.amount for pay in rt.store.payments(p.case_id)
                           if start <= pay.at <= end and (pay.reference or "") not in theirs)
    return direct


@agency.command(name="placements")
@click.option("--agency", "agency_id", metavar="ID", help="Only this agency.")
@click.option("--case", "case_id", type=int, help="Only this case.")
@click.option("--open", "open_only", is_flag=True, help="Only placements still open.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_obj
def placements_command(state: Any, agency_id: str | None, case_id: int | None, open_only: bool, as_json: bool) -> None:
    """List placements, oldest first."""
    rt, _ = _open(state)
    # Read and printed a page at a time.
    found = (p for page in records.placement_pages(rt.db, agency=agency_id, case_id=case_id, open_only=open_only)
             for p in page)
    if as_json:
        print_json_array(placement_json(p) for p in found)
        return
    print_rows(
        (
            [
                p.id,
                p.case_id,
                p.agency,
                p.status,
                p.placed_on,
                p.expires_on or "",
                money.display(p.balance_placed, p.currency),
                p.ended_on or "",
                p.end_kind or "",
            ]
            for p in found
        ),
        ["id", "case", "agency", "status", "placed", "expires", "balance placed", "ended", "how"],
    )


@agency.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_obj
def unplaced(state: Any, as_json: bool) -> None:
    """Open cases at the agency stage that no agency holds (they wait for a person)."""
    rt, _ = _open(state)
    cases = rt.store.cases(stage=Stage.AGENCY.value, status="open")
    placed = {p.case_id for p in records.placements(rt.db, case_ids=[c.id for c in cases], open_only=True)}
    waiting = [c for c in cases if c.id not in placed]
    if as_json:
        print_json([{"case_id": c.id, "debtor_id": c.debtor_id, "currency": c.currency,
                "balance": money.format_minor(c.balance, c.currency), "stage_entered_on": c.stage_entered_on}
               for c in waiting])
        return
    print_table([[c.id, c.debtor_id, money.display(c.balance, c.currency), c.stage_entered_on] for c in waiting],
           ["case", "debtor", "balance", "at agency stage since"])


@agency.command(name="files")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.pass_obj
def files_command(state: Any, as_json: bool) -> None:
    """Write placement and recall files that are due (a run does this at its end)."""
    rt, settings = _open(state)
    upkeep.reconcile(rt, state.now())
    written = _write_files(rt, settings)
    if as_json:
        print_json([{"agency": w.agency, "kind": w.kind, "date": w.day, "csv": str(w.csv_path),
                "manifest": str(w.manifest_path), "sha256": w.sha256, "rows": w.rows} for w in written])
        return
    _echo_files(written)
    if not written:
        click.echo("no files due")

