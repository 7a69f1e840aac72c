"""Bank files in: CSV, ISO 20022 camt.053 and SWIFT MT940, each read whole into the credits it holds.

Debits and reversal entries are left out: only money received can pay a
case. A file that cannot be read, or one entry that cannot, fails the whole
file with one message naming the file and the entry, before anything is
written.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import attrs

from dunning import money

FORMATS = ("csv", "camt053", "mt940")
CSV_COLUMNS = ("reference", "amount", "currency", "paid_on", "payer", "payer_iban", "bank_reference")


class StatementError(ValueError):
    """A bank file that cannot be used; the message names the file and the entry."""


@attrs.frozen
class StatementCredit:
    """One credit (money received) as a bank file states it."""

    bank_reference: str  # the bank's own id of the entry: the same entry is never applied twice
    amount: int  # minor units
    currency: str
    paid_on: dt.date
    payer: str | None
    payer_iban: str | None
    remittance: str  # what the payer wrote: a creditor reference, an invoice number, free text
    entry: str  # where it is in the file ("line 3", "entry 2", "transaction 4"), for messages


def guess_format(text: str) -> str:
    """camt053 for ISO 20022 XML, mt940 for a SWIFT statement (``:20:`` ... ``:61:``), else csv."""
    head = text.lstrip("\ufeff \r\n\t")[:4096]
    if head.startswith("<") and "camt.053" in head:
        return "camt053"
    if head.startswith("<"):
        raise StatementError("an XML file that is not a camt.053 statement (no camt.053 namespace)")
    if (":20:" in head and ":61:" in text) or head.startswith("{1:"):
        return "mt940"
    return "csv"


def read_statement(path: Path, file_format: str | None = None) -> tuple[str, list[StatementCredit]]:
    """The file's format (given or guessed) and every credit in it; StatementError names file and entry."""
    data = path.read_bytes()
    try:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            if file_format == "csv" or (file_format is None and not data.lstrip().startswith((b":", b"{"))):
                raise StatementError("not UTF-8 text (save the file as UTF-8)") from None
            text = data.decode("latin-1")  # MT940 from many banks is ISO 8859-1
        chosen = file_format or guess_format(text)
        if chosen == "csv":
            credits = _csv_credits(text)
        elif chosen == "camt053":
            from dunning.ledger.camt053 import camt053_credits

            credits = camt053_credits(data)
        elif chosen == "mt940":
            from dunning.ledger.mt940_statement import mt940_credits

            credits = mt940_credits(text)
        else:
            raise StatementError(f"unknown format {chosen!r}; use one of {', '.join(FORMATS)}")
    except (StatementError, ValueError) as exc:
        raise StatementError(f"{path}: {exc}") from None
    seen: dict[str, str] = {}
    for credit in credits:
        if credit.bank_reference in seen:
            raise StatementError(f"{path}: {credit.entry}: bank reference {credit.bank_reference!r} "
                                 f"was already used by {seen[credit.bank_reference]}")
        seen[credit.bank_reference] = credit.entry
    return chosen, credits


def amount_of(text: str, currency: str, entry: str) -> int:
    """A positive amount in minor units; the error names the entry."""
    try:
        money.exponent(currency)
        amount = money.parse(text, currency)
    except money.MoneyError as exc:
        raise StatementError(f"{entry}: {exc}") from None
    if amount <= 0:
        raise StatementError(f"{entry}: the amount must be positive, got {text!r}")
    return amount


def _csv_credits(text: str) -> list[StatementCredit]:
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise StatementError(f"line 1: missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                             f"(a payments CSV has {', '.join(CSV_COLUMNS)})")
    credits = []
    for number, row in enumerate(reader, start=2):
        entry = f"line {number}"

        def field(name: str, row: dict[str, str | None] = row) -> str:
            return (row.get(name) or "").strip()

        currency = field("currency").upper()
        for required in ("amount", "currency", "paid_on", "bank_reference"):
            if not field(required):
                raise StatementError(f"{entry}: '{required}' is empty")
        try:
            paid_on = dt.date.fromisoformat(field("paid_on"))
        except ValueError:
            raise StatementError(
                f"{entry}: 'paid_on' must be a date like 2026-12-04, got {field('paid_on')!r}") from None
        credits.append(StatementCredit(
            bank_reference=field("bank_reference"), amount=amount_of(field("amount"), currency, entry),
            currency=currency, paid_on=paid_on, payer=field("payer") or None,
            payer_iban=field("payer_iban") or None, remittance=field("reference"), entry=entry))
    return credits
