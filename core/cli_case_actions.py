"""What an operator records on a case or a debtor: payments, promises, holds, stage moves, resolutions,
opt-outs, signals."""

from __future__ import annotations

import datetime as dt

import click

from dunning import money, operations
from dunning.cli_support import State, fail, parse_case_id, pass_state
from dunning.lifecycle import RESOLUTIONS
from dunning.models import SIGNAL_KINDS, HoldReason, Status


@click.command()
@click.argument("case_id")
@click.argument("amount")
@click.option("--at", "at_text", metavar="ISO-8601", help="When it was paid (default: now).")
@click.option("--reference", help="The payment's reference (bank transaction id); a duplicate is refused.")
@pass_state
def pay(state: State, case_id: str, amount: str, at_text: str | None, reference: str | None) -> None:
    """Record a payment; a zero balance resolves the case as paid."""
    rt = state.runtime()
    now = state.now()
    at = state.now(at_text) if at_text else now
    outcome = operations.pay(rt, parse_case_id(case_id), amount, at=at, now=now, reference=reference,
                             surplus_to_credit=True)
    case = outcome.case
    click.echo(
        f"case {case.id}: paid {money.display(outcome.amount, case.currency)}; "
        f"balance {money.display(case.balance, case.currency)}"
        + (f"; resolved as paid, {outcome.cancelled} planned actions cancelled" if case.status is Status.PAID else "")
        + (f"; {money.display(outcome.credit, case.currency)} beyond the balance is a credit" if outcome.credit else "")
    )


@click.command()
@click.argument("case_id")
@click.argument("amount")
@click.option("--due", "due_text", required=True, metavar="DATETIME", help="When the debtor promised to pay.")
@click.option("--then", "then", multiple=True, metavar="AMOUNT@DATETIME",
              help="A later instalment of a plan (repeat for each).")
@click.option("--approved-by", help="The supervisor who allows a date beyond the limit (2 days by default) or a plan.")
@pass_state
def promise(
    state: State, case_id: str, amount: str, due_text: str, then: tuple[str, ...], approved_by: str | None
) -> None:
    """Record a promise to pay (reminders pause until it falls due), or a plan of instalments."""
    rt = state.runtime()
    later: list[tuple[str, dt.datetime]] = []
    for item in then:
        text, sep, when = item.partition("@")
        if not sep or not text or not when:
            fail(f"--then {item!r}: expected AMOUNT@DATETIME, e.g. 250.00@2026-03-20T15:00")
        later.append((text, state.now(when)))
    promise_id = operations.promise(rt, parse_case_id(case_id), amount, state.now(due_text), now=state.now(),
                                    approved_by=approved_by, then=later)
    plan = f" (plan of {len(later) + 1} instalments)" if later else ""
    click.echo(f"promise {promise_id} recorded on case {case_id}{plan}")


@click.command()
@click.argument("case_id")
@click.option("--reason", required=True, type=click.Choice([r.value for r in HoldReason]), help="Why the case is held.")
@click.option("--until", "until", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Lift the hold by itself on this date (not a dispute: that needs `release --verification-sent`).")
@click.option("--note", help="Free text kept with the hold.")
@pass_state
def hold(state: State, case_id: str, reason: str, until: dt.datetime | None, note: str | None) -> None:
    """Stop all outreach to a case (its evidence is kept)."""
    rt = state.runtime()
    hold_id = operations.hold(
        rt, parse_case_id(case_id), reason, now=state.now(), until=until.date() if until else None, note=note
    )
    click.echo(f"hold {hold_id} on case {case_id} ({reason}{', until ' + until.date().isoformat() if until else ''})")


@click.command()
@click.argument("case_id")
@click.option("--by", default="operator", show_default=True, help="Who releases it.")
@click.option("--note", help="Why.")
@click.option("--verification-sent", is_flag=True, help="Verification of the debt was sent (needed to lift a dispute).")
@pass_state
def release(state: State, case_id: str, by: str, note: str | None, verification_sent: bool) -> None:
    """Lift a case's holds."""
    rt = state.runtime()
    released = operations.release(rt, parse_case_id(case_id), now=state.now(), by=by, note=note,
                                  verification_sent=verification_sent)
    click.echo(f"released {len(released)} hold(s) on case {case_id}")


@click.command()
@click.argument("case_id")
@click.option(
    "--as", "resolution", required=True, type=click.Choice([s.value for s in RESOLUTIONS]), help="How the case ended."
)
@click.option("--reason", default="", help="Why (kept as evidence).")
@pass_state
def resolve(state: State, case_id: str, resolution: str, reason: str) -> None:
    """Close a case as paid, settled or written off; cancels what was planned."""
    rt = state.runtime()
    cancelled = operations.resolve(rt, parse_case_id(case_id), resolution, now=state.now(), reason=reason)
    click.echo(f"case {case_id} resolved as {resolution}; {cancelled} planned actions cancelled")


@click.command(name="opt-out")
@click.argument("debtor_id")
@click.option("--channel", required=True,
              help="The enabled channel (email, sms, phone, ...) or the medium (call, text, email, letter, visit, "
                   "other) the debtor asked to stop.")
@click.option("--contact", help="Only this address or number (default: the whole channel).")
@click.option("--note", help="How the request came in (kept as evidence).")
@click.option("--withdraw", is_flag=True, help="The debtor takes the request back.")
@pass_state
def opt_out(state: State, debtor_id: str, channel: str, contact: str | None, note: str | None, withdraw: bool) -> None:
    """Record that a debtor asked not to be contacted through a channel (or one address on it)."""
    rt = state.runtime()
    result = operations.opt_out(rt, debtor_id, channel, now=state.now(), contact=contact, note=note, withdraw=withdraw)
    what = f"{channel}" + (f" at {contact}" if contact else "")
    if withdraw:
        click.echo(f"debtor {debtor_id}: opt-out of {what} withdrawn")
    else:
        click.echo(f"debtor {debtor_id}: opted out of {what} (opt-out {result})")


@click.command()
@click.argument("case_id")
@click.option("--kind", required=True, type=click.Choice(SIGNAL_KINDS), help="What was noticed.")
@click.option("--note", help="What was seen or heard (kept as evidence).")
@click.option("--source", default="operator", show_default=True, help="Who reports it.")
@pass_state
def signal(state: State, case_id: str, kind: str, note: str | None, source: str) -> None:
    """Record an abnormal signal about a case (moved, business closed, bankruptcy, ...)."""
    rt = state.runtime()
    signal_id = operations.signal(rt, parse_case_id(case_id), kind, now=state.now(), source=source, note=note)
    click.echo(f"signal {signal_id} ({kind}) recorded on case {case_id}"
               + ("; bankruptcy hold placed" if kind == "bankruptcy" else ""))
