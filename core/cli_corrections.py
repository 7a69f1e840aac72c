"""Corrections from the command line: ``debtors``, ``contacts``, ``adjust``, ``dispute``, ``escalate``, ``de-escalate``.

Each command is registered on the ``dunning`` group with one ``cli.add_command``
line; every change is an evidence event naming who (``--by``) and why (``--reason``).
"""

from __future__ import annotations

from typing import Any

import click

from dunning import calendar, corrections, log, money, stage_moves
from dunning.models import ContactKind, ContactRole, Stage
from dunning.output import print_json, print_table

_BY = click.option("--by", required=True, help="Who makes the change (kept as evidence).")
_REASON = click.option("--reason", required=True, help="Why (kept as evidence).")


def _case_id(value: str) -> int:
    if not (value.isascii() and value.isdigit()):
        raise click.ClickException(f"case id must be a number, got {value!r}")
    return int(value)


# --- debtors ---------------------------------------------------------------------------


@click.group()
def debtors() -> None:
    """Show a debtor, or correct its details (each change an event with who and why)."""


@debtors.command(name="show")
@click.argument("debtor_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.pass_obj
def debtors_show(state: Any, debtor_id: str, as_json: bool) -> None:
    """A debtor's details, every contact (inactive and bad ones marked) and its cases' items."""
    rt = state.runtime()
    debtor = rt.store.debtor(debtor_id)
    if debtor is None:
        raise corrections.OperationError(f"no debtor with id {debtor_id!r}")
    contacts = rt.store.all_contacts(debtor_id)
    cases = [c for c in rt.store.cases() if c.debtor_id == debtor_id]
    data = {
        "id": debtor.id, "name": debtor.name, "kind": debtor.kind.value, "country": debtor.country,
        "region": debtor.region, "timezone": debtor.timezone, "locale": debtor.locale,
        "contacts": [{"id": c.id, "kind": c.kind.value, "value": c.value, "role": c.role.value, "name": c.name,
                      "bad": c.bad, "active": active, "source": source} for c, active, source in contacts],
        "cases": [{"id": case.id, "stage": case.stage.value, "status": case.status.value,
                   "balance": money.format_minor(case.balance, case.currency), "balance_minor": case.balance,
                   "currency": case.currency,
                   "obligations": [_obligation_json(o) for o in rt.store.obligations(case.id)]} for case in cases],
    }
    if as_json:
        print_json(data)
        return
    click.echo(f"debtor {debtor.id}  {debtor.name}  ({debtor.kind})")
    click.echo("  " + ", ".join(f"{k} {data[k]}" for k in ("country", "region", "timezone", "locale") if data[k])
               or "  no country, time zone or language recorded")
    click.echo("contacts:")
    print_table([[c["id"], c["kind"], c["role"], c["value"], _contact_state(c), c["source"]] for c in data["contacts"]],
                ["id", "kind", "role", "value", "state", "source"])
    for case in data["cases"]:
        click.echo(f"case {case['id']}: {case['stage']}, {case['status']}, "
                   f"balance {money.display(case['balance_minor'], case['currency'])}")
        print_table([[o["reference"], o["due_on"], money.display(o["amount_minor"], case["currency"]),
                      money.display(o["open_minor"], case["currency"]), o["state"]] for o in case["obligations"]],
                    ["reference", "due", "amount", "open", "state"])


def _contact_state(contact: dict[str, Any]) -> str:
    if not contact["active"]:
        return "inactive"
    return "bad" if contact["bad"] else "active"


def _obligation_json(o: Any) -> dict[str, Any]:
    state = (f"closed ({o.closed_reason}, {o.closed_on})" if o.closed_reason
             else f"disputed since {o.disputed_on}" if o.disputed_on else "open" if o.open_amount else "paid")
    return {"reference": o.reference, "due_on": o.due_on.isoformat(),
            "amount": money.format_minor(o.amount, o.currency), "amount_minor": o.amount,
            "open": money.format_minor(o.open_amount, o.currency), "open_minor": o.open_amount, "state": state}


@debtors.command(name="edit")
@click.argument("debtor_id")
@click.option("--name", help="The debtor's name.")
@click.option("--address", help="The postal address (replaces the current one, which becomes inactive).")
@click.option("--timezone", help="IANA time zone (Europe/Berlin); empty to clear.")
@click.option("--locale", help="Language of messages (en, de, zh_CN); empty to clear.")
@click.option("--kind", type=click.Choice(["person", "company"]), help="Person or company.")
@click.option("--country", help="ISO 3166-1 country code.")
@click.option("--region", help="ISO 3166-2 subdivision (US-NY); empty to clear.")
@_BY
@_REASON
@click.pass_obj
def debtors_edit(state: Any, debtor_id: str, by: str, reason: str, **fields: str | None) -> None:
    """Correct a debtor's details, checked as an import checks them; a `debtor_changed` event names each field."""
    given = {k: v for k, v in fields.items() if v is not None}
    rt = state.runtime()
    changes = corrections.edit_debtor(rt, debtor_id, given, by=by, reason=reason, now=state.now())
    for change in changes:
        click.echo(f"debtor {debtor_id}: {change.field} {_shown(change.before)} -> {_shown(change.after)}")
    if "address" in given:
        click.echo(f"debtor {debtor_id}: postal address replaced")


def _shown(value: str | None) -> str:
    return "(none)" if value is None else repr(value)


# --- contacts --------------------------------------------------------------------------


@click.group()
def contacts() -> None:
    """Add, remove (make inactive) or mark bad a debtor's contacts; each change an event with who and why."""


@contacts.command(name="add")
@click.argument("debtor_id")
@click.argument("kind", type=click.Choice([k.value for k in ContactKind]))
@click.argument("value")
@click.option("--role", type=click.Choice([r.value for r in ContactRole]), default="debtor", show_default=True,
              help="Whose contact it is.")
@click.option("--name", help="The person's name (for a spouse, guarantor, employer, ...).")
@_BY
@_REASON
@click.pass_obj
def contacts_add(state: Any, debtor_id: str, kind: str, value: str, role: str, name: str | None, by: str,
                 reason: str) -> None:
    """Add a contact: an email address, a phone number (mobile, work, home) or a postal address."""
    contact_id = corrections.add_contact(state.runtime(), debtor_id, kind, value, role=role, name=name, by=by,
                                         reason=reason, now=state.now())
    click.echo(f"debtor {debtor_id}: contact {contact_id} added ({kind} {log.mask(value)})")


@contacts.command(name="remove")
@click.argument("debtor_id")
@click.argument("contact", metavar="CONTACT_ID_OR_VALUE")
@_BY
@_REASON
@click.pass_obj
def contacts_remove(state: Any, debtor_id: str, contact: str, by: str, reason: str) -> None:
    """Make a contact inactive: never used again, kept for the evidence that names it."""
    found = corrections.remove_contact(state.runtime(), debtor_id, contact, by=by, reason=reason, now=state.now())
    click.echo(f"debtor {debtor_id}: contact {found.id} ({found.kind} {log.mask(found.value)}) is inactive")


@contacts.command(name="mark-bad")
@click.argument("debtor_id")
@click.argument("contact", metavar="CONTACT_ID_OR_VALUE")
@_BY
@_REASON
@click.pass_obj
def contacts_mark_bad(state: Any, debtor_id: str, contact: str, by: str, reason: str) -> None:
    """Stop using a wrong number or an address letters come back from."""
    found = corrections.mark_bad(state.runtime(), debtor_id, contact, by=by, reason=reason, now=state.now())
    click.echo(f"debtor {debtor_id}: contact {found.id} ({found.kind} {log.mask(found.value)}) marked bad")


# --- obligations -----------------------------------------------------------------------


@click.command()
@click.argument("obligation", metavar="CASE/REFERENCE")
@click.option("--amount", required=True, help="The obligation's new amount (0 credits it in full).")
@_REASON
@_BY
@click.pass_obj
def adjust(state: Any, obligation: str, amount: str, reason: str, by: str) -> None:
    """Change an obligation's amount: a credit note, a price dispute settled.

    OBLIGATION is CASE/REFERENCE (4/INV-1001) or an invoice reference only
    one debtor has. The balance is recomputed; a case left owing nothing
    resolves as paid.
    """
    done = corrections.adjust(state.runtime(), obligation, amount, by=by, reason=reason, now=state.now())
    o = done.obligation
    click.echo(f"{o.case_id}/{o.reference}: {money.display(done.before, o.currency)} -> "
               f"{money.display(done.after, o.currency)}; balance {money.display(done.balance, o.currency)}"
               + ("; case resolved as paid" if done.resolved else ""))


@click.command()
@click.argument("obligation", metavar="CASE/REFERENCE")
@_REASON
@click.option("--by", default="operator", show_default=True, help="Who records it.")
@click.option("--lift", is_flag=True, help="The dispute is over: the item is collected again.")
@click.option("--verification-sent", is_flag=True,
              help="With --lift: verification of the debt was sent (needed where Reg F binds the debtor).")
@click.pass_obj
def dispute(state: Any, obligation: str, reason: str, by: str, lift: bool, verification_sent: bool) -> None:
    """Hold one disputed invoice out of demands while the rest is still collected.

    The item leaves what messages state and the overdue amount; a case
    whose every open item is disputed gets no outreach. The supervisor is
    sent a notice (`dunning notices`) on the next run. `--lift` ends it;
    where Reg F binds the debtor, only with `--verification-sent`.
    """
    o = corrections.dispute(state.runtime(), obligation, reason=reason, by=by, now=state.now(), lift=lift,
                            verification_sent=verification_sent)
    click.echo(f"{o.case_id}/{o.reference}: " + ("dispute lifted; collected again" if lift
                                                  else f"disputed since {o.disputed_on}; held out of demands; "
                                                  "the supervisor is sent a notice"))


# --- stages ----------------------------------------------------------------------------


@click.command()
@click.argument("case_id")
@click.option("--to", "to_stage", required=True, type=click.Choice([s.value for s in Stage]),
              help="The stage to move to.")
@click.option("--reason", required=True, help="Why (kept as evidence).")
@click.option("--by", default="operator", show_default=True, help="Who decided.")
@click.option("--force", is_flag=True, help="Override the policy's checks (needs --by and --reason); recorded as "
                                            "forced.")
@click.pass_obj
def escalate(state: Any, case_id: str, to_stage: str, reason: str, by: str, force: bool) -> None:
    """Move a case to a later stage by hand (or back from the agency).

    The move meets the policy's checks: the stage's minimum balance and
    conditions, the limitation period and the plugins' rules refuse it; where
    approval is required it waits in `dunning approvals` and happens on the
    run after approval. `--force --by NAME --reason TEXT` overrides them.
    """
    rt = state.runtime()
    done = stage_moves.escalate(rt, _case_id(case_id), to_stage, now=state.now(), reason=reason, by=by, force=force)
    if done.awaiting_action is not None:
        click.echo(f"case {case_id}: entering {to_stage} needs approval; queued as action {done.awaiting_action} "
                   f"(`dunning approve {done.awaiting_action} --by NAME`, then it moves on the next run)")
        return
    click.echo(f"case {done.case.id} is now at {done.case.stage}"
               + (f" (forced, overriding: {'; '.join(done.forced)})" if done.forced else ""))


@click.command(name="de-escalate")
@click.argument("case_id")
@click.option("--to", "to_stage", required=True, type=click.Choice([s.value for s in Stage]),
              help="The earlier stage to go back to.")
@_REASON
@_BY
@click.pass_obj
def de_escalate(state: Any, case_id: str, to_stage: str, reason: str, by: str) -> None:
    """Move a case back to an earlier stage; the cadence of that stage resumes.

    Escalations still planned to a later stage are cancelled.
    """
    rt = state.runtime()
    now = state.now()
    case, cancelled = stage_moves.de_escalate(rt, _case_id(case_id), to_stage, now=now, reason=reason, by=by)
    click.echo(f"case {case.id} is back at {case.stage} ({calendar.to_text(now)[:10]})"
               + (f"; {cancelled} planned escalation(s) cancelled" if cancelled else ""))
