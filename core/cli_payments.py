"""``dunning payments`` (bank statements, suspense, reversals) and ``dunning refund``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from dunning import calendar, money
from dunning.ledger.statements import FORMATS, StatementError
from dunning.output import print_json, print_table


# How the import table says what matched a credit.
_MATCHED_BY = {"creditor_reference": "payment reference", "invoice_reference": "invoice number", "iban": "known IBAN",
               "assigned": "hand"}


def _runtime(state: Any) -> Any:
    return state.runtime()


@click.group(name="payments")
def payments() -> None:
    """Payments from the bank: import a statement, work the suspense list, reverse a payment.

    `payments import FILE` reads a CSV, camt.053 or MT940 file and applies
    each credit to the case it names (payment reference, invoice number or
    a known account); the rest wait in suspense (`payments unmatched`)
    until `payments assign BANK_REF CASE`.
    """


@payments.command(name="import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "file_format", type=click.Choice(FORMATS),
              help="The file's format (default: guessed from its content).")
@click.option("--dry-run", is_flag=True, help="Show what each credit would do; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_obj
def payments_import(state: Any, file: Path, file_format: str | None, dry_run: bool, as_json: bool) -> None:
    """Apply a bank statement's credits to cases; what matches nothing goes to suspense.

    Each credit is matched by the case's payment reference (ISO 11649, RF...),
    else an invoice number in the payer's text, else the payer's IBAN when it
    is known for a debtor. Debits are left out. The whole file is checked
    first; a credit imported before (same bank reference) is not applied again.
    """
    from dunning.ledger.bank_import import import_statement

    rt = _runtime(state)
    try:
        report = import_statement(rt, file, file_format, now=state.now(), dry_run=dry_run)
    except StatementError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        print_json({"file": str(file), "format": report.file_format, "dry_run": dry_run,
                    "credits": [o.as_dict() for o in report.outcomes]})
        return
    rows = []
    for o in report.outcomes:
        c = o.credit
        if o.outcome == "applied":
            what = f"case {o.case_id} by {_MATCHED_BY.get(o.matched_by or '', o.matched_by)}"
            what += ", resolved as paid" if o.resolved else ""
            what += f", {money.display(o.to_credit, c.currency)} to credit" if o.to_credit else ""
        elif o.outcome == "suspense":
            what = f"suspense: {o.reason}"
        else:
            what = "already imported"
        rows.append([c.bank_reference, c.paid_on, money.display(c.amount, c.currency), c.payer or "", what])
    print_table(rows, ["bank ref", "paid on", "amount", "payer", "outcome"])
    head = "would apply" if dry_run else "applied"
    click.echo(f"{file.name} ({report.file_format}): {head} {report.count('applied')}, "
               f"suspense {report.count('suspense')}, already imported {report.count('already imported')}")


@payments.command(name="unmatched")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_obj
def payments_unmatched(state: Any, as_json: bool) -> None:
    """Bank credits in suspense, with why each matched no case."""
    waiting = _runtime(state).store.bank_credits("suspense")
    if as_json:
        print_json([{"bank_reference": c.bank_reference, "amount": money.format_minor(c.amount, c.currency),
                     "amount_minor": c.amount, "currency": c.currency, "paid_on": c.paid_on, "payer": c.payer,
                     "payer_iban": c.payer_iban, "remittance": c.remittance, "reason": c.reason, "file": c.source}
                    for c in waiting])
        return
    print_table([[c.bank_reference, c.paid_on, money.display(c.amount, c.currency), c.payer or "",
                  c.remittance or "", c.reason or ""] for c in waiting],
                ["bank ref", "paid on", "amount", "payer", "text", "why"])


@payments.command(name="assign")
@click.argument("bank_reference")
@click.argument("case_id", type=int)
@click.option("--by", default="operator", show_default=True, help="Who assigns it.")
@click.pass_obj
def payments_assign(state: Any, bank_reference: str, case_id: int, by: str) -> None:
    """Apply a credit in suspense to a case; the payer's IBAN is remembered for that debtor."""
    from dunning.ledger.bank_import import assign

    outcome = assign(_runtime(state), bank_reference, case_id, by=by, now=state.now())
    c = outcome.credit
    click.echo(f"{bank_reference}: {money.display(c.amount, c.currency)} applied to case {case_id} "
               f"(payment {outcome.payment_id})"
               + (", resolved as paid" if outcome.resolved else "")
               + (f", {money.display(outcome.to_credit, c.currency)} to credit" if outcome.to_credit else ""))


@payments.command(name="list")
@click.option("--case", "case_id", type=int, help="Only this case's payments.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_obj
def payments_list(state: Any, case_id: int | None, as_json: bool) -> None:
    """Payments with their ids (for `payments reverse`), the part that became a credit, and reversals."""
    rt = _runtime(state)
    cases = [rt.store.case(case_id)] if case_id is not None else rt.store.cases()
    rows = []
    for case in cases:
        for p in rt.store.payment_records(case.id):
            rows.append({"id": p.id, "case_id": case.id, "amount": money.format_minor(p.amount, case.currency),
                         "amount_minor": p.amount,
                         "currency": case.currency, "at": calendar.to_text(p.at), "reference": p.reference,
                         "credit": money.format_minor(p.surplus, case.currency),
                         "reversed_at": calendar.to_text(p.reversed_at) if p.reversed_at else None,
                         "reversal_reason": p.reversal_reason})
    if as_json:
        print_json(rows)
        return
    print_table([[r["id"], r["case_id"], money.display(r["amount_minor"], r["currency"]), r["at"][:10],
                  r["reference"] or "",
                  "reversed: " + r["reversal_reason"] if r["reversed_at"] else ""] for r in rows],
                ["id", "case", "amount", "paid", "reference", "state"])


@payments.command(name="reverse")
@click.argument("payment_id", type=int)
@click.option("--reason", required=True, help="Why (a bounced cheque, a charge-back); kept as evidence.")
@click.option("--by", default="operator", show_default=True, help="Who reverses it.")
@click.pass_obj
def payments_reverse(state: Any, payment_id: int, reason: str, by: str) -> None:
    """Undo a payment: its allocation is taken back, a resolved case opens again at internal, and a promise
    the payment had kept is broken."""
    from dunning.ledger.payments import reverse_payment

    reversal = reverse_payment(_runtime(state), payment_id, reason=reason, by=by, now=state.now())
    case = reversal.case
    click.echo(f"payment {payment_id} reversed; case {case.id} balance {money.display(case.balance, case.currency)}"
               + (", reopened at internal" if reversal.reopened else "")
               + (f" (its items moved to the debtor's open case {reversal.moved_to})" if reversal.moved_to else "")
               + (f"; promise {', '.join(map(str, reversal.broken_promises))} broken"
                  if reversal.broken_promises else ""))


@click.command(name="refund")
@click.argument("debtor_id")
@click.option("--amount", required=True, help="How much of the debtor's credit is paid back.")
@click.option("--currency", help="The credit's currency (needed only when the debtor holds credit in several).")
@click.option("--reason", required=True, help="Why (kept as evidence).")
@click.option("--by", required=True, help="Who pays it back.")
@click.pass_obj
def refund(state: Any, debtor_id: str, amount: str, currency: str | None, reason: str, by: str) -> None:
    """Pay back (part of) a debtor's credit, the surplus of an overpayment."""
    from dunning.ledger.payments import refund as refund_credit

    paid, chosen, left = refund_credit(_runtime(state), debtor_id, amount, currency=currency, reason=reason, by=by,
                                       now=state.now())
    click.echo(f"refunded {money.display(paid, chosen)} to {debtor_id}; credit left {money.display(left, chosen)}")
