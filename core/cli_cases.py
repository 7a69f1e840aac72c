"""``dunning cases``: list cases and show one."""

from __future__ import annotations

import datetime as dt
from typing import Any

import click

from dunning import calendar, creditor_reference, money
from dunning.cli_records import action_json, case_json, cases_json, listing_scored_by_plugin
from dunning.cli_support import State, json_option, parse_case_id, pass_state
from dunning.models import Stage, Status
from dunning.output import print_json, print_json_array, print_json_records, print_rows, print_table
from dunning.owed import owed_on
from dunning.runtime import Runtime


@click.group()
def cases() -> None:
    """List and inspect cases."""


@cases.command(name="list")
@click.option("--stage", type=click.Choice([s.value for s in Stage]), help="Only cases at this stage.")
@click.option("--status", type=click.Choice([s.value for s in Status]), help="Only cases with this status.")
@click.option("--strategy", metavar="NAME", help="Only cases assigned this strategy ([[strategies]] in dunning.toml).")
@click.option("--limit", type=int, help="At most this many.")
@json_option
@pass_state
def cases_list(state: State, stage: str | None, status: str | None, strategy: str | None, limit: int | None,
               as_json: bool) -> None:
    """List cases, oldest first, each with what is overdue, what is not yet due and the balance today.

    Where cases have been assigned strategies, each case's strategy is shown too.
    """
    rt = state.runtime()
    if not listing_scored_by_plugin(rt):  # the usual case: plain rows, no object per case
        _list_fast(rt, state, stage, status, strategy, limit, as_json)
        return
    rows = cases_json(rt, state.now(), stage=stage, status=status, limit=limit,
                      strategy=strategy)  # read a page at a time
    if as_json:
        print_json_array(rows)
        return
    # The strategy column only where there are strategies (index cases_strategy: no scan to find out).
    split = bool(strategy) or rt.store.has_strategies()
    print_rows(([r["id"], r["debtor_id"], r["debtor_name"], r["stage"], r["status"],
                 *(money.display(r[f"{figure}_minor"], r["currency"])
                   for figure in ("overdue", "not_yet_due", "balance")),
                 r["dpd"], r["risk"] or "", *([r["strategy"] or ""] if split else [])] for r in rows),
               ["id", "debtor", "name", "stage", "status", "overdue", "not yet due", "balance", "dpd", "risk",
                *(["strategy"] if split else [])])


def _list_fast(rt: Runtime, state: State, stage: str | None, status: str | None, strategy: str | None,
               limit: int | None, as_json: bool) -> None:
    """``cases list`` from ``case_listing``'s records: what ``cases_json`` gives, a page per query."""
    from dunning import case_listing

    today = rt.today(state.now())
    zone = rt.config.zone
    # The next pages are read on a second connection while this one's are written out.
    pages = rt.store.read_ahead(lambda store: store.case_listing_pages(today, zone, stage=stage, status=status,
                                                                       strategy=strategy, limit=limit))
    if as_json:
        import json

        # The lines are each record's compact JSON: a short listing is indented from what they say.
        print_json_records(case_listing.json_lines(pages, today), str, json.loads)
        return
    records = case_listing.records(pages, today)
    display = money.display
    split = bool(strategy) or rt.store.has_strategies()  # the strategy column only where there are strategies
    print_rows(([r[0], r[1], r[2], r[3], r[4], display(r[8], r[11]), display(r[10], r[11]), display(r[6], r[11]),
                 r[13], r[17] or "", *([r[23] or ""] if split else [])] for r in records),
               ["id", "debtor", "name", "stage", "status", "overdue", "not yet due", "balance", "dpd", "risk",
                *(["strategy"] if split else [])])


@cases.command(name="show")
@click.argument("case_id")
@json_option
@pass_state
def cases_show(state: State, case_id: str, as_json: bool) -> None:
    """Show one case: what is overdue and not yet due, its payment reference, obligations, promises, holds and
    pending actions."""
    rt = state.runtime()
    now = state.now()
    case = rt.store.case(parse_case_id(case_id))
    obligations = rt.store.obligations(case.id)
    today = rt.today(now)
    owed = owed_on(obligations, today, case.currency)
    data = case_json(rt, case, now, owed)
    open_items = {i.reference: i for i in owed.items}  # paid obligations are neither overdue nor due later
    data["obligations"] = [
        {
            "reference": o.reference,
            "amount": money.format_minor(o.amount, o.currency),
            "paid": money.format_minor(o.paid, o.currency),
            "open": money.format_minor(o.open_amount, o.currency),
            "issued_on": o.issued_on,
            "due_on": o.due_on,
            "overdue": o.reference in open_items and open_items[o.reference].overdue,
            "days_overdue": open_items[o.reference].days_overdue if o.reference in open_items else 0,
        }
        for o in obligations
    ]
    data["payments"] = [
        {"amount": money.format_minor(p.amount, case.currency), "at": calendar.to_text(p.at), "reference": p.reference}
        for p in rt.store.payments(case.id)
    ]
    data["promises"] = [
        {
            "id": p.id,
            "amount": money.format_minor(p.amount, case.currency),
            "due_at": calendar.to_text(p.due_at),
            "status": p.status.value,
        }
        for p in rt.store.promises(case.id)
    ]
    data["holds"] = [{"id": h.id, "reason": h.reason.value, "since": calendar.to_text(h.since), "until": h.until,
                      "released_at": calendar.to_text(h.released_at) if h.released_at else None, "note": h.note}
                     for h in rt.store.holds(case.id)]
    data["pending_actions"] = [
        action_json(a) for a in rt.store.actions(case_id=case.id, statuses=["awaiting_approval", "pending", "sending"])
    ]
    data["credit_minor"] = rt.store.credit_balance(case.debtor_id, case.currency)  # the debtor's, from overpayments
    data["credit"] = money.format_minor(data["credit_minor"], case.currency)
    from dunning import case_figures  # the ledger's figures (dunning.case_figures), for `cases show` alone

    data |= case_figures.case_figures(rt, case.id)  # principal, interest, fees and total; postings; offers
    if as_json:
        print_json(data)
        return
    debtor = rt.store.debtor(case.debtor_id)
    click.echo(f"case {case.id}  {debtor.name if debtor else case.debtor_id}  ({case.debtor_id})")
    click.echo(f"  stage {case.stage}, {case.status}, balance {money.display(case.balance, case.currency)} "
               f"(overdue {money.display(owed.overdue, case.currency)}, "
               f"not yet due {money.display(owed.not_yet_due, case.currency)}), "
               f"{lateness_and_next_look(data['dpd'], case.next_action_on, today)}")
    click.echo(case_figures.case_figures_line(data))
    if case.strategy:
        click.echo(f"  strategy {case.strategy} (policy {case.policy})")
    if case.creditor_reference:
        click.echo(f"  payment reference {creditor_reference.printed(case.creditor_reference)}")
    if data["credit_minor"]:
        click.echo(f"  credit {money.display(data['credit_minor'], case.currency)} (paid beyond what was owed)")
    if case.is_open:
        click.echo(f"  risk {data['risk']}" + (f", signals: {', '.join(case.signals)}" if case.signals else "")
                   + (f", last conversation {case.last_contact_on}" if case.last_contact_on else ", never reached"))
    click.echo("obligations:")
    print_table([[o.reference, o.due_on, money.display(o.amount, o.currency), money.display(o.paid, o.currency),
             money.display(o.open_amount, o.currency), _obligation_state({**shown, "open_minor": o.open_amount})]
            for o, shown in zip(obligations, data["obligations"], strict=False)],
           ["reference", "due", "amount", "paid", "open", "state"])
    for title, key in (("promises", "promises"), ("holds", "holds"), ("payments", "payments"),
                       ("settlement offers", "settlements")):
        if data[key]:
            click.echo(f"{title}:")
            for item in data[key]:
                click.echo("  " + ", ".join(f"{k}={v}" for k, v in item.items() if v is not None))
    click.echo("pending actions:")
    print_table(
        [
            [a["id"], a["planned_for"], a["step"], a["channel"] or a["kind"], a["status"]]
            for a in data["pending_actions"]
        ],
        ["id", "for", "step", "channel", "status"],
    )


def lateness_and_next_look(dpd: int | None, next_look: dt.date | None, today: dt.date) -> str:
    """The end of ``cases show``'s stage line: how late the case is and when a run looks at it next.

    A closed case has no lateness and no next look; a case whose first item is not yet due says when it is;
    a next look on or before today means the next ``dunning run`` (imports wake cases early on purpose,
    so a date in the past is normal and would only puzzle the reader).
    """
    if dpd is None:
        lateness = "not late"
    elif dpd < 0:
        lateness = f"first due in {-dpd} day{'s' if dpd != -1 else ''}"
    else:
        lateness = f"{dpd} day{'s' if dpd != 1 else ''} past due"
    if not next_look:
        return f"{lateness}, no next look"
    if next_look <= today:
        return f"{lateness}, next look at the next run"
    return f"{lateness}, next look {next_look}"


def _obligation_state(item: dict[str, Any]) -> str:
    """``overdue 12d``, ``due later`` or ``paid``, for the obligations table of ``cases show``."""
    if item["overdue"]:
        return f"overdue {item['days_overdue']}d"
    return "paid" if item["open_minor"] == 0 else "due later"
