"""SWIFT MT940 customer statements, read with the ``mt-940`` library.

Each ``:61:`` credit line (mark C) gives one credit; debits and reversals
(D, RC, RD) are left out. The German structured ``:86:`` sub-fields give the
payer's name (``?32``), IBAN (``?31``) and purpose (``?20``-``?29``). The
bank reference is the ``:61:`` reference after ``//``, else the account
owner's reference, else the statement's ``:20:`` with the line's number.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from dunning.ledger.statements import StatementCredit, StatementError, amount_of


def mt940_credits(text: str) -> list[StatementCredit]:
    import mt940  # only where an MT940 file is read

    options = mt940.Options(applicant_iban=True, merge_keeps_values=True, reversal_sign=True)
    # With a space between the ?2x purpose lines, so "RF18 0000 0003" and the next word stay apart.
    with_space: Callable[..., dict[str, Any]] = mt940.processors.transaction_details_post_processor_with_space
    processors = {"post_transaction_details": [with_space]}
    transactions = mt940.models.Transactions(processors=processors, options=options)
    try:
        transactions.parse(text)
    except Exception as exc:  # the library raises many kinds on a malformed tag
        raise StatementError(f"not a readable MT940 statement: {exc}") from None
    if not transactions.transactions:
        raise StatementError("an MT940 file without transactions (:61: lines)")
    credits: list[StatementCredit] = []
    for number, transaction in enumerate(transactions, start=1):
        data: dict[str, Any] = transaction.data
        entry = f"transaction {number}"
        if data.get("status") != "C":
            continue
        amount = data.get("amount")
        if amount is None:
            raise StatementError(f"{entry}: no amount")
        currency = (getattr(amount, "currency", None) or data.get("currency") or "").upper()
        if not currency:
            raise StatementError(f"{entry}: no currency (the :60F: opening balance gives it)")
        reference = next((r for r in (data.get("bank_reference"), data.get("customer_reference"))
                          if r and r.upper() != "NONREF"), None)
        if reference is None:
            statement = data.get("transaction_reference") or "statement"
            reference = f"{statement}/{number}"
        day = data.get("date")
        if day is None:
            raise StatementError(f"{entry}: no value date")
        purpose = [data.get("purpose"), data.get("additional_purpose"), data.get("end_to_end_reference"),
                   data.get("extra_details"), data.get("transaction_details")]
        credits.append(StatementCredit(
            bank_reference=str(reference), amount=amount_of(str(abs(amount.amount)), currency, entry),
            currency=currency, paid_on=dt.date(day.year, day.month, day.day),
            payer=(data.get("applicant_name") or None), payer_iban=(data.get("applicant_iban") or None),
            remittance=" ".join(str(p).strip() for p in purpose if p and str(p).strip() != "NOTPROVIDED"), entry=entry))
    return credits
