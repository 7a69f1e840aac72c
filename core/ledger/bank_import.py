"""``dunning payments import``: a bank file's credits matched to cases and applied, the rest put in suspense.

The whole file is read and checked before anything is written; then every
new credit is matched, applied (as ``dunning pay`` applies a payment, the
surplus of an overpayment becoming a credit on the debtor) or put in
suspense, in one transaction. A credit whose bank reference an earlier
import recorded is left alone: the same statement imported twice applies
nothing twice.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import attrs

from dunning import money
from dunning.ledger.matching import Match, compact_iban, match_credit
from dunning.ledger.payments import apply_payment
from dunning.ledger.records import BankCredit
from dunning.ledger.statements import StatementCredit, read_statement
from dunning.operations import OperationError
from dunning.runtime import Runtime


@attrs.frozen
class CreditOutcome:
    credit: StatementCredit
    outcome: str  # applied | suspense | already imported
    case_id: int | None = None
    matched_by: str | None = None
    reason: str | None = None
    payment_id: int | None = None
    to_credit: int = 0  # the surplus of an overpayment, now a credit on the debtor
    resolved: bool = False

    def as_dict(self) -> dict[str, Any]:
        c = self.credit
        return {"bank_reference": c.bank_reference, "entry": c.entry,
                "amount": money.format_minor(c.amount, c.currency), "amount_minor": c.amount, "currency": c.currency,
                "paid_on": c.paid_on.isoformat(), "payer": c.payer,
                "payer_iban": c.payer_iban, "remittance": c.remittance, "outcome": self.outcome,
                "case_id": self.case_id, "matched_by": self.matched_by, "reason": self.reason,
                "payment_id": self.payment_id, "credit_minor": self.to_credit, "resolved": self.resolved}


@attrs.frozen
class StatementImport:
    file_format: str
    outcomes: tuple[CreditOutcome, ...]

    def count(self, outcome: str) -> int:
        return sum(1 for o in self.outcomes if o.outcome == outcome)


def import_statement(rt: Runtime, path: Path, file_format: str | None, *, now: dt.datetime,
                     dry_run: bool = False) -> StatementImport:
    chosen, credits = read_statement(path, file_format)
    known = rt.store.known_bank_references([c.bank_reference for c in credits])
    outcomes: list[CreditOutcome] = []
    if dry_run:
        for credit in credits:
            if credit.bank_reference in known:
                outcomes.append(CreditOutcome(credit, "already imported"))
                continue
            match = match_credit(credit, rt.store)
            outcomes.append(CreditOutcome(credit, "applied" if match.matched else "suspense", match.case_id,
                                          match.by, match.reason))
        return StatementImport(chosen, tuple(outcomes))
    with rt.store.transaction():
        # Asked again under the write lock: another import of the same file may have just finished.
        known = rt.store.known_bank_references([c.bank_reference for c in credits])
        for credit in credits:
            if credit.bank_reference in known:
                outcomes.append(CreditOutcome(credit, "already imported"))
                continue
            outcomes.append(_take(rt, credit, path.name, now))
    return StatementImport(chosen, tuple(outcomes))


def _take(rt: Runtime, credit: StatementCredit, source: str, now: dt.datetime) -> CreditOutcome:
    """Apply one new credit to the case it matches, or put it in suspense (inside the import's transaction)."""
    match = match_credit(credit, rt.store)
    if match.case_id is not None and rt.store.payment_reference_exists(match.case_id, credit.bank_reference):
        match = Match(None, match.by, f"a payment with reference {credit.bank_reference!r} is already recorded on "
                                      f"case {match.case_id}")
    stored = BankCredit(bank_reference=credit.bank_reference, amount=credit.amount, currency=credit.currency,
                        paid_on=credit.paid_on, payer=credit.payer, payer_iban=credit.payer_iban,
                        remittance=credit.remittance, source=source, status="suspense", matched_by=match.by,
                        reason=match.reason)
    if match.case_id is None:
        rt.store.add_bank_credit(stored, now)
        rt.store.append_events([rt.event("bank_credit_unmatched", None, now, data={
            "bank_reference": credit.bank_reference, "amount": credit.amount, "currency": credit.currency,
            "paid_on": credit.paid_on.isoformat(), "payer": credit.payer, "reason": match.reason, "file": source})])
        return CreditOutcome(credit, "suspense", None, match.by, match.reason)
    applied = apply_payment(rt, rt.store.case(match.case_id), credit.amount, at=paid_at(rt, credit.paid_on), now=now,
                            reference=credit.bank_reference, surplus_to_credit=True, source="bank",
                            matched_by=match.by, file=source, payer=credit.payer)
    rt.store.add_bank_credit(attrs.evolve(stored, status="applied", case_id=match.case_id,
                                          payment_id=applied.payment_id, reason=None), now)
    return CreditOutcome(credit, "applied", match.case_id, match.by, None, applied.payment_id, applied.credit,
                         not applied.case.is_open)


def paid_at(rt: Runtime, day: dt.date) -> dt.datetime:
    """A bank's booking date as a moment: noon in the business's zone (banks give no time)."""
    return dt.datetime.combine(day, dt.time(12), rt.config.zone).astimezone(dt.UTC)


def assign(rt: Runtime, bank_reference: str, case_id: int, *, by: str, now: dt.datetime) -> CreditOutcome:
    """Apply a credit waiting in suspense to ``case_id`` by hand; its payer's IBAN becomes known for the debtor."""
    credit = rt.store.bank_credit(bank_reference)
    if credit.status != "suspense":
        raise OperationError(f"bank credit {bank_reference!r} is not in suspense (it is {credit.status}"
                             + (f" to case {credit.case_id}" if credit.case_id else "") + ")")
    case = rt.store.case(case_id)
    if case.currency != credit.currency:
        raise OperationError(f"bank credit {bank_reference!r} is in {credit.currency}, "
                             f"case {case_id} in {case.currency}")
    if not case.is_open:
        raise OperationError(f"case {case_id} is {case.status}; a payment can no longer be applied")
    if rt.store.payment_reference_exists(case_id, bank_reference):
        raise OperationError(f"a payment with reference {bank_reference!r} is already recorded on case {case_id}")
    iban = compact_iban(credit.payer_iban)
    with rt.store.transaction():
        applied = apply_payment(rt, case, credit.amount, at=paid_at(rt, credit.paid_on), now=now,
                                reference=bank_reference, surplus_to_credit=True, source="bank",
                                matched_by="assigned", assigned_by=by, file=credit.source, payer=credit.payer)
        rt.store.settle_bank_credit(bank_reference, "assigned", case_id, applied.payment_id, "assigned")
        events = [rt.event("bank_credit_assigned", case, now, data={
            "bank_reference": bank_reference, "payment_id": applied.payment_id, "by": by,
            "was_in_suspense_because": credit.reason})]
        if iban and rt.store.remember_account(case.debtor_id, iban, f"assigned by {by}", now):
            events.append(rt.event("debtor_account_added", case, now, data={
                "debtor_id": case.debtor_id, "iban": iban, "by": by, "source": f"bank credit {bank_reference}"}))
        rt.store.append_events(events)
    statement = StatementCredit(credit.bank_reference, credit.amount, credit.currency, credit.paid_on, credit.payer,
                                credit.payer_iban, credit.remittance or "", "suspense")
    return CreditOutcome(statement, "applied", case_id, "assigned", None, applied.payment_id, applied.credit,
                         not applied.case.is_open)
