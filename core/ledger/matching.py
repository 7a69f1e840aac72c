"""Which case a bank credit pays. Pure: the credit and a way to look things up in, the answer out.

In order: an ISO 11649 creditor reference of a case in what the payer wrote;
else an invoice (obligation) reference in it; else an account (IBAN) known
to be the debtor's. A credit that names two cases, or none, or a case in
another currency, goes to suspense with the reason.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Protocol

import attrs

from dunning.ledger.statements import StatementCredit

# "RF" + two check digits + up to 21 characters, possibly printed in groups of four.
_RF = re.compile(r"RF\d{2}(?:\s?[0-9A-Z]){1,21}", re.IGNORECASE)
_TOKEN = re.compile(r"[0-9A-Za-z][0-9A-Za-z/_.-]*[0-9A-Za-z]|[0-9A-Za-z]")


class Lookups(Protocol):
    """What matching asks the store (``dunning.store.bank``)."""

    def cases_by_creditor_reference(self, references: Collection[str]) -> dict[str, int]: ...

    def obligations_by_reference(self, references: Collection[str]) -> list[tuple[str, int, str, str]]: ...

    def debtors_by_account(self, iban: str) -> list[str]: ...

    def open_case_id(self, debtor_id: str, currency: str) -> int | None: ...

    def case_status_and_currency(self, case_id: int) -> tuple[str, str, str]: ...


@attrs.frozen
class Match:
    case_id: int | None
    by: str | None  # creditor_reference | invoice_reference | iban
    reason: str | None = None  # why it went to suspense

    @property
    def matched(self) -> bool:
        return self.case_id is not None


def creditor_reference_candidates(text: str) -> list[str]:
    """Every compact string in ``text`` that could be an ISO 11649 reference (valid check digits), longest first."""
    from stdnum import iso11649

    found: list[str] = []
    for hit in _RF.finditer(text):
        compact = re.sub(r"\s", "", hit.group()).upper()
        # Printed in groups, the next word may follow without a break: try each length.
        for end in range(len(compact), 4, -1):
            if iso11649.is_valid(compact[:end]) and compact[:end] not in found:
                found.append(compact[:end])
    return found


def tokens(text: str) -> list[str]:
    return list(dict.fromkeys(_TOKEN.findall(text)))


def compact_iban(text: str | None) -> str | None:
    """The IBAN in its compact form if ``text`` is a valid one (schwifty checks country, length and check digits)."""
    if not text:
        return None
    from schwifty import IBAN  # only where a payer's account is checked
    from schwifty.exceptions import SchwiftyException

    try:
        return str(IBAN(text).compact)
    except (SchwiftyException, ValueError):
        return None


def match_credit(credit: StatementCredit, lookups: Lookups) -> Match:
    """The case ``credit`` pays, or why it waits in suspense."""
    by_reference = lookups.cases_by_creditor_reference(creditor_reference_candidates(credit.remittance))
    if len(set(by_reference.values())) > 1:
        return Match(None, None, "ambiguous: the text names the payment references of cases "
                     + ", ".join(str(c) for c in sorted(set(by_reference.values()))))
    if by_reference:
        return _settle(next(iter(by_reference.values())), "creditor_reference", credit, lookups)
    invoices = lookups.obligations_by_reference(tokens(credit.remittance))
    debtors = {(debtor, currency) for _, _, debtor, currency in invoices}
    cases = {case_id for _, case_id, _, _ in invoices}
    if len({d for d, _ in debtors}) > 1:
        return Match(None, None, "ambiguous: invoice references of several debtors ("
                     + ", ".join(sorted(r for r, _, _, _ in invoices)) + ")")
    if invoices:
        case_id = _open_case_for(cases, invoices[0][2], invoices[0][3], lookups)
        if case_id is None:
            return Match(None, None, f"invoice {invoices[0][0]} belongs to a case that is no longer open")
        return _settle(case_id, "invoice_reference", credit, lookups)
    iban = compact_iban(credit.payer_iban)
    if iban:
        owners = lookups.debtors_by_account(iban)
        if len(owners) > 1:
            return Match(None, None, f"ambiguous: account {iban} is known for debtors {', '.join(owners)}")
        if owners:
            case_id = lookups.open_case_id(owners[0], credit.currency)
            if case_id is None:
                return Match(None, None, f"account {iban} is debtor {owners[0]}'s, who has no open case "
                                         f"in {credit.currency}")
            return _settle(case_id, "iban", credit, lookups)
    if credit.payer_iban and not iban:
        return Match(None, None, f"no reference found, and {credit.payer_iban!r} is not a valid IBAN")
    return Match(None, None, "no payment reference, invoice number or known account")


def _open_case_for(cases: set[int], debtor_id: str, currency: str, lookups: Lookups) -> int | None:
    open_cases = [c for c in sorted(cases) if lookups.case_status_and_currency(c)[0] == "open"]
    if open_cases:
        return open_cases[0]
    return lookups.open_case_id(debtor_id, currency)


def _settle(case_id: int, by: str, credit: StatementCredit, lookups: Lookups) -> Match:
    status, currency, _debtor = lookups.case_status_and_currency(case_id)
    if currency != credit.currency:
        return Match(None, by, f"currency {credit.currency} differs from case {case_id}'s {currency}")
    if status != "open":
        return Match(None, by, f"case {case_id} is {status}")
    return Match(case_id, by)
