"""The ledger's commands: `dunning rates`, `dunning waive`, `dunning offer`; and the figures `cases show` adds."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

import click

from dunning import money
from dunning.ledger.rates import REFERENCE_RATES
from dunning.ledger.settlement import SettlementError, offer as make_offer
from dunning.ledger.waiver import WaiverError, waive as waive_charges
from dunning.output import print_json, print_table
from dunning.runtime import Runtime

pass_state = click.pass_obj
_DATE = click.DateTime(formats=["%Y-%m-%d"])


def _case_id(value: str) -> int:
    if not (value.isascii() and value.isdigit()):
        raise click.ClickException(f"case id must be a number, got {value!r}")
    return int(value)


# --- rates ------------------------------------------------------------------------------------


@click.group()
def rates() -> None:
    """Reference rates the interest rules read (Bank of England, ECB, Basiszinssatz), each with the day it
    took effect."""


@rates.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@pass_state
def rates_list(state: Any, as_json: bool) -> None:
    """Every reference rate with the day it took effect and who recorded it."""
    rows = state.runtime().store.rate_rows()
    if as_json:
        print_json([{"name": n, "valid_from": d, "rate": str(r), "set_by": b, "set_at": a} for n, d, r, b, a in rows])
        return
    print_table([[n, d, f"{r}%", b] for n, d, r, b, _ in rows], ["name", "from", "rate", "set by"])


@rates.command(name="set")
@click.argument("name", metavar="NAME", type=click.Choice(sorted(REFERENCE_RATES)))
@click.option("--from", "valid_from", type=_DATE, required=True, help="The day the rate took effect (YYYY-MM-DD).")
@click.option("--rate", "rate_text", required=True, metavar="PCT", help="Percent a year, such as 3.75.")
@click.option("--by", required=True, help="Who records it (kept as evidence).")
@pass_state
def rates_set(state: Any, name: str, valid_from: dt.datetime, rate_text: str, by: str) -> None:
    """Record a reference rate from a day on (a central bank's new decision, or a correction).

    Interest already posted stays as it was; accrual from the next run on uses the new rate.
    """
    try:
        rate = Decimal(rate_text.strip().removesuffix("%"))
    except InvalidOperation:
        raise click.ClickException(f"--rate must be a percentage such as 3.75, got {rate_text!r}") from None
    if not rate.is_finite() or not Decimal(-5) <= rate <= Decimal(50):
        raise click.ClickException(f"--rate must be between -5 and 50 (percent a year), got {rate_text!r}")
    rt: Runtime = state.runtime()
    now = state.now()
    with rt.store.transaction():
        before = rt.store.set_rate(name, valid_from.date(), rate, by, now)
        rt.store.append_events([rt.event("rate_set", None, now, data={
            "name": name, "valid_from": valid_from.date().isoformat(), "rate": str(rate),
            "replaced": str(before) if before is not None else None, "by": by})])
    click.echo(f"{name}: {rate}% from {valid_from.date().isoformat()}"
               + (f" (was {before}%)" if before is not None else ""))


# --- waive --------------------------------------------------------------------------------------


@click.command()
@click.argument("case_id")
@click.option("--interest", is_flag=True, help="Waive the open interest.")
@click.option("--fees", is_flag=True, help="Waive the open fees and fixed compensation.")
@click.option("--by", required=True, help="Who waives (kept as evidence).")
@click.option("--reason", required=True, help="Why (kept as evidence).")
@click.option("--approved-by", help="The supervisor who approves a waiver above [ledger] waive_approval_above.")
@pass_state
def waive(state: Any, case_id: str, interest: bool, fees: bool, by: str, reason: str, approved_by: str | None) -> None:
    """Waive what is still open of a case's interest or fees (or both); the principal is untouched."""
    rt: Runtime = state.runtime()
    what = [w for w, on in (("interest", interest), ("fees", fees)) if on]
    case = rt.store.case(_case_id(case_id))
    try:
        amount = waive_charges(rt, case.id, what, by=by, reason=reason, now=state.now(), approved_by=approved_by)
    except WaiverError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"case {case.id}: waived {money.display(amount, case.currency)} of {' and '.join(what)}"
               + (f", approved by {approved_by}" if approved_by else ""))


# --- offer --------------------------------------------------------------------------------------


@click.command()
@click.argument("case_id")
@click.option("--settle", "amount", required=True, metavar="AMOUNT", help="What settles the case if paid in time.")
@click.option("--until", type=_DATE, required=True, help="The last day to pay (YYYY-MM-DD).")
@click.option("--instalments", type=int, default=1, show_default=True, help="Equal parts falling due up to --until.")
@click.option("--channel", help="letter or email (default: email if enabled, else letter).")
@click.option("--by", required=True, help="Who makes the offer (kept as evidence).")
@click.option("--approved-by", help="The supervisor who approves a discount above the stage's max_discount_percent.")
@pass_state
def offer(state: Any, case_id: str, amount: str, until: dt.datetime, instalments: int, channel: str | None, by: str,
          approved_by: str | None) -> None:
    """Offer to settle a case for less than it owes if paid by a date.

    Collection pauses until the date; the offer goes out with the
    settlement-offer template on the next run. Paid in time, the case
    resolves as settled; missed, the offer lapses and collection resumes.
    """
    rt: Runtime = state.runtime()
    now = state.now()
    case = rt.store.case(_case_id(case_id))
    try:
        offer_id = make_offer(rt, case.id, amount, until.date(), now=now, by=by, instalments=instalments,
                              approved_by=approved_by, channel=channel)
    except SettlementError as exc:
        raise click.ClickException(str(exc)) from None
    made = rt.store.open_settlement(case.id)
    assert made is not None and made.id == offer_id
    click.echo(f"case {case.id}: offer {offer_id} to settle {money.display(made.amount, case.currency)} of "
               f"{money.display(made.owed, case.currency)} by {made.until.isoformat()}"
               + (f" in {instalments} instalments" if instalments > 1 else "")
               + "; collection paused, the offer goes out on the next run")
