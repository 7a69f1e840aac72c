"""Paying from the page: start a payment with a provider, record its signed confirmation once.

A confirmation is recorded through ``dunning.operations.pay`` (the ledger's
allocation, the case resolved when nothing is left) under the reference
``<provider>:<payment id>``: a provider that posts the same webhook twice,
as they do when an answer is slow, records one payment. A confirmation
whose signature does not hold is refused before anything is read from it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING

import attrs

from dunning import calendar, money, operations
from dunning.log import get_logger
from dunning.portal import BY
from dunning.portal.actions import VISIT_CHANNEL, PortalError
from dunning.portal.providers import BadConfirmation, PaymentProvider, PaymentRequest

if TYPE_CHECKING:
    from dunning.runtime import Runtime


def start_payment(rt: Runtime, provider: PaymentProvider, case_id: int, amount: str, now: dt.datetime,
                  return_url: str | None = None) -> str:
    """Check the amount (more than nothing, no more than the balance) and ask the provider where to pay it."""
    case = rt.store.case(case_id)
    if not case.is_open:
        raise PortalError("this account is settled; there is nothing to pay", code="nothing_to_pay")
    try:
        minor = money.parse(amount, case.currency)
    except money.MoneyError as exc:
        raise PortalError(str(exc), code="not_an_amount", text=amount, currency=case.currency) from None
    if minor <= 0:
        raise PortalError(f"the amount must be more than nothing, got {amount}", code="pay_not_positive",
                          amount=amount)
    if minor > case.balance:
        shown, balance = money.display(minor, case.currency), money.display(case.balance, case.currency)
        raise PortalError(f"the amount ({shown}) is more than the balance ({balance})", code="pay_over_balance",
                          amount=shown, balance=balance)
    url = provider.start(PaymentRequest(case_id=case.id, amount=minor, currency=case.currency,
                                        reference=case.creditor_reference or str(case.id), return_url=return_url))
    with rt.store.transaction():
        rt.store.append_events([rt.event("portal", case, now, channel=VISIT_CHANNEL, data={
            "action": "payment_started", "by": BY, "provider": provider.name, "amount": minor,
            "currency": case.currency})])
    return url


@attrs.frozen
class Recorded:
    """What a confirmation did: the payment's reference, and whether it was new (False: already recorded)."""

    reference: str
    new: bool
    case_id: int
    amount: int


def confirm_payment(rt: Runtime, provider: PaymentProvider, body: bytes, headers: Mapping[str, str],
                    now: dt.datetime) -> Recorded:
    """Record the payment a provider's webhook confirms, once; ``BadConfirmation`` changes nothing."""
    confirmed = provider.confirmation(body, headers)  # raises BadConfirmation before anything is written
    reference = f"{provider.name}:{confirmed.payment_id}"
    case = rt.store.case(confirmed.case_id)
    if confirmed.currency != case.currency:
        raise BadConfirmation(f"payment {reference} is in {confirmed.currency}; case {case.id} is in {case.currency}")
    if confirmed.amount <= 0:
        raise BadConfirmation(f"payment {reference} is for {confirmed.amount}; nothing to record")
    with rt.store.transaction():  # the check and the payment together: two posts at once record one
        if rt.store.payment_reference_exists(case.id, reference):
            return Recorded(reference, False, case.id, confirmed.amount)
        try:
            operations.pay(rt, case.id, money.format_minor(confirmed.amount, case.currency), at=confirmed.paid_at,
                           now=now, reference=reference, surplus_to_credit=True)
        except operations.OperationError as exc:
            raise BadConfirmation(f"payment {reference}: {exc}") from None
        rt.store.append_events([rt.event("portal", rt.store.case(case.id), now, channel=VISIT_CHANNEL, data={
            "action": "payment_confirmed", "by": BY, "provider": provider.name, "reference": reference,
            "amount": confirmed.amount, "currency": case.currency, "paid_at": calendar.to_text(confirmed.paid_at)})])
    return Recorded(reference, True, case.id, confirmed.amount)


def webhook_answer(rt: Runtime, providers: Mapping[str, PaymentProvider], provider_name: str, body: bytes,
                   headers: Mapping[str, str], now: dt.datetime) -> tuple[int, str]:
    """What the web app's ``POST .../payments/<provider>`` answers: (HTTP status, a line of text).

    200 for a payment recorded, or one recorded before (the provider stops
    retrying); 400 for a confirmation refused (it changed nothing); 404 for
    a provider nobody registered.
    """
    provider = providers.get(provider_name)
    if provider is None:
        return 404, f"no payment provider {provider_name!r}"
    try:
        recorded = confirm_payment(rt, provider, body, headers, now)
    except BadConfirmation as exc:
        get_logger("dunning").warning("payment confirmation refused", provider=provider_name, problem=str(exc))
        return 400, "refused"
    return 200, f"{'recorded' if recorded.new else 'already recorded'} {recorded.reference}"
