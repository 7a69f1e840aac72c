"""Money into a case and back out: a payment allocated item by item, a reversal, a debtor's credit used or refunded.

Each operation validates first, then writes its change and its evidence
events in one transaction. ``dunning pay``, the bank import, ``assign`` and
a credit applied to a new item all go through ``apply_payment``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs

from dunning import calendar, money
from dunning.dispatch import trigger_escalation
from dunning.ledger.allocation import Allocation, allocate, described
from dunning.ledger.settings import effective_order
from dunning.models import Case, PromiseStatus, Status
from dunning.operations import OperationError, _resolve
from dunning.runtime import Runtime


# The reference of a payment made from the debtor's credit (``apply_credits``).
CREDIT_REFERENCE = "credit:"


@attrs.frozen
class Applied:
    """A payment as applied: the case after it, where the money went, and the part that became a credit."""

    case: Case
    payment_id: int
    amount: int
    allocation: Allocation
    cancelled: int

    @property
    def credit(self) -> int:
        return self.allocation.surplus


def allocation_order(rt: Runtime, case: Case) -> tuple[str, ...]:
    """``[ledger] allocation``, with principal first where the debtor's compliance profile says so."""
    profile = rt.config.profile_for(rt.store.debtor(case.debtor_id)).profile
    return effective_order(rt.config.ledger.allocation, profile.principal_first)


def owed_total(rt: Runtime, case: Case) -> int:
    """Principal and open charges together: what a payment can pay on the case."""
    return sum(i.open for i in rt.store.open_items(case.id))


def apply_payment(rt: Runtime, case: Case, amount: int, *, at: dt.datetime, now: dt.datetime,
                  reference: str | None, surplus_to_credit: bool, **facts: Any) -> Applied:
    """Record ``amount`` on ``case`` and allocate it; the surplus (if allowed) is a credit on the debtor.

    The case resolves as paid once its principal and its open charges are
    both zero. ``facts`` go into the payment's event (how a bank credit was
    matched, who assigned it).
    """
    if amount <= 0:
        raise OperationError("a payment must be positive")
    order = allocation_order(rt, case)
    today = rt.today(now)
    cancelled = 0
    with rt.store.transaction():
        # Read under the write lock: two payments at once never both pay the same open item.
        case = rt.store.case(case.id)
        if not case.is_open:
            raise OperationError(f"case {case.id} is {case.status}; a payment can no longer be applied")
        allocation = allocate(rt.store.open_items(case.id), order, amount)
        if allocation.surplus and not surplus_to_credit:
            raise OperationError(
                f"{money.display(amount, case.currency)} is more than the balance of "
                f"{money.display(allocation.applied, case.currency)}")
        payment_id = rt.store.record_payment(case.id, amount, allocation.surplus, at, reference, now, allocation.parts)
        balance = rt.store.refresh_balance(case.id, wake_on=today)
        charges = rt.store.charges_open(case.id)
        events = [rt.event("payment", case, now, data={
            "payment_id": payment_id, "amount": amount, "currency": case.currency, "at": calendar.to_text(at),
            "reference": reference, "balance_after": balance, "charges_after": charges, "order": list(order),
            "allocation": described(allocation.parts), "credit": allocation.surplus, **facts})]
        if allocation.surplus:
            rt.store.post_credit(case.debtor_id, case.currency, allocation.surplus, "overpayment", now,
                                 payment_id=payment_id, case_id=case.id, reason="paid more than was owed")
            events.append(rt.event("credit", case, now, data={
                "debtor_id": case.debtor_id, "amount": allocation.surplus, "currency": case.currency,
                "payment_id": payment_id,
                "credit_after": rt.store.credit_balance(case.debtor_id, case.currency)}))
        rt.store.append_events(events)
        if balance == 0 and charges == 0:
            cancelled = _resolve(rt, attrs.evolve(case, balance=0), Status.PAID, now, reason="paid in full")
    return Applied(rt.store.case(case.id), payment_id, amount, allocation, cancelled)


@attrs.frozen
class Reversal:
    case: Case
    payment_id: int
    reopened: bool
    moved_to: int | None  # the debtor's open case that took the items back, when there was one
    broken_promises: tuple[int, ...]


def reverse_payment(rt: Runtime, payment_id: int, *, reason: str, by: str, now: dt.datetime) -> Reversal:
    """Undo a payment (a bounced cheque, a charge-back): its allocation, its credit, the promises it kept.

    A case resolved as paid or settled opens again at the internal stage; if the debtor has
    meanwhile another open case in the currency (one open case per debtor
    and currency), the items go back into that one instead.
    """
    if not reason.strip():
        raise OperationError("--reason must say why the payment is reversed")
    today = rt.today(now)
    with rt.store.transaction():
        record = rt.store.payment_record(payment_id)
        if record.reversed_at is not None:
            raise OperationError(
                f"payment {payment_id} was already reversed at {calendar.to_text(record.reversed_at)}")
        case = rt.store.case(record.case_id)
        if record.surplus:
            credit = rt.store.credit_balance(case.debtor_id, case.currency)
            if credit < record.surplus:
                raise OperationError(
                    f"payment {payment_id} left a credit of {money.display(record.surplus, case.currency)} that was "
                    f"since used or refunded (credit now {money.display(credit, case.currency)}); reverse the "
                    "payment that used it first")
        # Paid or settled: the payment may be what closed it. A written-off case stays written off.
        closed_by_payment = case.status in (Status.PAID, Status.SETTLED)
        other = rt.store.open_case_id(case.debtor_id, case.currency) if closed_by_payment else None
        promises = rt.store.undo_payment(payment_id, now, reason)
        bank_reference = rt.store.mark_bank_credit_reversed(payment_id)
        if record.surplus:
            rt.store.post_credit(case.debtor_id, case.currency, -record.surplus, "reversal", now,
                                 payment_id=payment_id, case_id=case.id, reason=reason, by=by)
        if (record.reference or "").startswith(CREDIT_REFERENCE):
            # The debtor's own credit paid it: undone, the credit is theirs again.
            rt.store.post_credit(case.debtor_id, case.currency, record.amount, "reversal", now,
                                 payment_id=payment_id, case_id=case.id, reason=reason, by=by)
        reopened = False
        target = case
        moved: list[str] = []
        if closed_by_payment and other is None:
            rt.store.reopen_case(case.id, today)
            reopened = True
        elif closed_by_payment and other is not None:
            moved = rt.store.move_open_items(case.id, other)
            target = rt.store.case(other)
        rt.store.refresh_balance(case.id, wake_on=today)
        if other is not None:
            rt.store.refresh_balance(other, wake_on=today)
        after = rt.store.case(target.id)
        events = [rt.event("payment_reversed", after, now, data={
            "payment_id": payment_id, "amount": record.amount, "currency": case.currency,
            "at": calendar.to_text(record.at), "reference": record.reference, "bank_reference": bank_reference,
            "reason": reason, "by": by, "credit_taken_back": record.surplus, "balance_after": after.balance,
            **({"case_id": case.id} if target.id != case.id else {})})]
        if reopened:
            events.append(rt.event("reopened", after, now, data={
                "was": case.status.value, "stage_was": case.stage.value, "stage": after.stage.value,
                "reason": f"payment {payment_id} reversed: {reason}", "by": by}))
        if moved:
            events.append(rt.event("obligations_moved", after, now, data={
                "from_case": case.id, "references": moved, "reason": f"payment {payment_id} reversed: {reason}"}))
        broken: list[int] = []
        for promise_id, status, taken in promises:
            if status == PromiseStatus.KEPT and rt.store.break_kept_promise(promise_id, now):
                broken.append(promise_id)
                rt.store.update_case(after.id, broken_promises=after.broken_promises + len(broken))
                events.append(rt.event("promise_broken", after, now, data={
                    "promise_id": promise_id, "reason": f"payment {payment_id} reversed", "taken_back": taken}))
        rt.store.append_events(events)
        if broken:
            # As a promise broken by time: the policy may call for a stage change at once.
            trigger_escalation(rt, rt.store.case(after.id), now, cause=f"payment {payment_id} reversed")
    return Reversal(rt.store.case(target.id), payment_id, reopened, target.id if target.id != case.id else None,
                    tuple(broken))


@attrs.frozen
class CreditUse:
    debtor_id: str
    currency: str
    case_id: int
    amount: int


def apply_credits(rt: Runtime, now: dt.datetime, *, debtor_id: str | None = None) -> list[CreditUse]:
    """Use each debtor's credit on their open case in the same currency (run by every ``dunning run``)."""
    used: list[CreditUse] = []
    for debtor, currency, credit, case_id in rt.store.credits_to_apply():
        if debtor_id is not None and debtor != debtor_id:
            continue
        with rt.store.transaction():
            credit = rt.store.credit_balance(debtor, currency)
            case = rt.store.case(case_id)
            amount = min(credit, owed_total(rt, case)) if case.is_open else 0
            if amount <= 0:
                continue
            rt.store.post_credit(debtor, currency, -amount, "applied", now, case_id=case.id,
                                 reason="credit used on an open item")
            rt.store.append_events([rt.event("credit_applied", case, now, data={
                "debtor_id": debtor, "amount": amount, "currency": currency,
                "credit_after": credit - amount})])
            apply_payment(rt, case, amount, at=now, now=now, reference=f"{CREDIT_REFERENCE}{calendar.to_text(now)}",
                          surplus_to_credit=False, source="credit")
        used.append(CreditUse(debtor, currency, case.id, amount))
    return used


def refund(rt: Runtime, debtor_id: str, amount_text: str, *, currency: str | None, reason: str, by: str,
           now: dt.datetime) -> tuple[int, str, int]:
    """Pay a debtor's credit back (all or part). Returns (amount, currency, credit left)."""
    if rt.store.debtor(debtor_id) is None:
        raise OperationError(f"no debtor with id {debtor_id!r}")
    if not reason.strip() or not by.strip():
        raise OperationError("a refund needs --reason and --by")
    balances = rt.store.credit_balances(debtor_id)
    if currency is None:
        held = [c for c, v in balances.items() if v > 0]
        if len(held) != 1:
            raise OperationError(f"debtor {debtor_id!r} has no credit to refund" if not held else
                                 f"debtor {debtor_id!r} has credit in {', '.join(held)}: say which with --currency")
        currency = held[0]
    try:
        amount = money.parse(amount_text, currency)
    except money.MoneyError as exc:
        raise OperationError(str(exc)) from None
    credit = balances.get(currency, 0)
    if amount <= 0:
        raise OperationError("a refund must be positive")
    if amount > credit:
        raise OperationError(f"{money.display(amount, currency)} is more than the credit of "
                             f"{money.display(credit, currency)} debtor {debtor_id!r} holds")
    cases = [c for c in rt.store.open_cases_of(debtor_id) if c.currency == currency]
    with rt.store.transaction():
        if rt.store.credit_balance(debtor_id, currency) != credit:
            raise OperationError(f"debtor {debtor_id!r}'s credit changed meanwhile; look again and repeat")
        rt.store.post_credit(debtor_id, currency, -amount, "refund", now, reason=reason, by=by)
        data = {"debtor_id": debtor_id, "amount": amount, "currency": currency, "reason": reason, "by": by,
                "credit_after": credit - amount}
        rt.store.append_events([rt.event("refund", cases[0] if cases else None, now, data=data)])
    return amount, currency, credit - amount
