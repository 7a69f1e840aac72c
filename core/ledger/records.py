"""The ledger's records as the store hands them out: payments with their fate, bank credits, credit postings."""

from __future__ import annotations

import datetime as dt

import attrs


@attrs.frozen
class PaymentRecord:
    """A stored payment: what came in, what of it became a credit, and whether it was reversed."""

    id: int
    case_id: int
    amount: int
    at: dt.datetime
    reference: str | None
    surplus: int
    reversed_at: dt.datetime | None = None
    reversal_reason: str | None = None


@attrs.frozen
class PaymentPart:
    """One row of where a payment went: an obligation's principal, a charge, or a promise it covered."""

    amount: int
    obligation_id: int | None = None
    charge_id: int | None = None
    promise_id: int | None = None


@attrs.frozen
class BankCredit:
    """One credit line of an imported statement, applied to a case or waiting in suspense."""

    bank_reference: str
    amount: int
    currency: str
    paid_on: dt.date
    payer: str | None
    payer_iban: str | None
    remittance: str | None
    source: str
    status: str  # applied | suspense | assigned | reversed
    matched_by: str | None = None
    reason: str | None = None
    case_id: int | None = None
    payment_id: int | None = None
