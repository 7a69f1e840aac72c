"""Bank statement credits (applied or in suspense), the accounts debtors pay from, and what matching looks up."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any

from dunning.calendar import to_text
from dunning.store.connection import StoreConnection
from dunning.store.errors import NotFound

if TYPE_CHECKING:
    from dunning.ledger.records import BankCredit  # made where a credit is read (not by every command's store)

_COLUMNS = ("bank_reference, amount, currency, paid_on, payer, payer_iban, remittance, source, status, matched_by, "
            "reason, case_id, payment_id")


def _credit(row: Sequence[Any]) -> BankCredit:
    from dunning.ledger.records import BankCredit

    return BankCredit(bank_reference=row[0], amount=row[1], currency=row[2], paid_on=dt.date.fromisoformat(row[3]),
                      payer=row[4], payer_iban=row[5], remittance=row[6], source=row[7], status=row[8],
                      matched_by=row[9], reason=row[10], case_id=row[11], payment_id=row[12])


class Bank(StoreConnection):
    """The store's part that keeps bank credits and known payer accounts."""

    def known_bank_references(self, references: Collection[str]) -> set[str]:
        """Those of ``references`` an earlier import already recorded."""
        found: set[str] = set()
        refs = list(references)
        for start in range(0, len(refs), 500):
            chunk = refs[start:start + 500]
            found.update(r[0] for r in self.conn.execute(
                f"SELECT bank_reference FROM bank_credits WHERE bank_reference IN ({', '.join('?' * len(chunk))})",
                chunk))
        return found

    def add_bank_credit(self, credit: BankCredit, now: dt.datetime) -> None:
        self.conn.execute(
            f"INSERT INTO bank_credits ({_COLUMNS}, imported_at) VALUES ({', '.join('?' * 14)})",
            [credit.bank_reference, credit.amount, credit.currency, credit.paid_on.isoformat(), credit.payer,
             credit.payer_iban, credit.remittance, credit.source, credit.status, credit.matched_by, credit.reason,
             credit.case_id, credit.payment_id, to_text(now)])

    def bank_credit(self, bank_reference: str) -> BankCredit:
        row = self.conn.execute(f"SELECT {_COLUMNS} FROM bank_credits WHERE bank_reference = ?",
                                [bank_reference]).fetchone()
        if row is None:
            raise NotFound(f"no bank credit with reference {bank_reference!r}")
        return _credit(row)

    def bank_credits(self, status: str | None = None) -> list[BankCredit]:
        where, params = ("WHERE status = ?", [status]) if status else ("", [])
        return [_credit(r) for r in self.conn.execute(
            f"SELECT {_COLUMNS} FROM bank_credits {where} ORDER BY paid_on, id", params)]

    def settle_bank_credit(self, bank_reference: str, status: str, case_id: int | None, payment_id: int | None,
                           matched_by: str | None) -> None:
        self.conn.execute(
            "UPDATE bank_credits SET status = ?, case_id = ?, payment_id = ?, matched_by = ?, reason = NULL "
            "WHERE bank_reference = ?", [status, case_id, payment_id, matched_by, bank_reference])

    def mark_bank_credit_reversed(self, payment_id: int) -> str | None:
        """The bank credit that carried ``payment_id``, now marked reversed; its reference, or None."""
        row = self.conn.execute("SELECT bank_reference FROM bank_credits WHERE payment_id = ?", [payment_id]).fetchone()
        if row is None:
            return None
        self.conn.execute("UPDATE bank_credits SET status = 'reversed' WHERE payment_id = ?", [payment_id])
        return str(row[0])

    # --- what matching looks up -----------------------------------------------------

    def cases_by_creditor_reference(self, references: Collection[str]) -> dict[str, int]:
        refs = list(references)
        if not refs:
            return {}
        return {r[0]: r[1] for r in self.conn.execute(
            f"SELECT creditor_reference, id FROM cases WHERE creditor_reference IN ({', '.join('?' * len(refs))})",
            refs)}

    def obligations_by_reference(self, references: Collection[str]) -> list[tuple[str, int, str, str]]:
        """(reference, case id, debtor id, currency) of each obligation whose reference is among ``references``
        (compared without regard to case)."""
        refs = [r.upper() for r in references]
        if not refs:
            return []
        return [(r[0], r[1], r[2], r[3]) for r in self.conn.execute(
            "SELECT reference, case_id, debtor_id, currency FROM obligations "
            f"WHERE upper(reference) IN ({', '.join('?' * len(refs))}) ORDER BY id", refs)]

    def debtors_by_account(self, iban: str) -> list[str]:
        return [r[0] for r in self.conn.execute(
            "SELECT debtor_id FROM debtor_accounts WHERE iban = ? ORDER BY debtor_id", [iban])]

    def remember_account(self, debtor_id: str, iban: str, source: str, now: dt.datetime) -> bool:
        """Note that ``debtor_id`` pays from ``iban``; False if it was known already."""
        return self.conn.execute(
            "INSERT OR IGNORE INTO debtor_accounts (debtor_id, iban, source, added_at) VALUES (?, ?, ?, ?)",
            [debtor_id, iban, source, to_text(now)]).rowcount == 1

    def debtor_accounts(self, debtor_id: str) -> list[str]:
        return [r[0] for r in self.conn.execute(
            "SELECT iban FROM debtor_accounts WHERE debtor_id = ? ORDER BY added_at, iban", [debtor_id])]

    def case_status_and_currency(self, case_id: int) -> tuple[str, str, str]:
        """(status, currency, debtor id) of a case."""
        row = self.conn.execute("SELECT status, currency, debtor_id FROM cases WHERE id = ?", [case_id]).fetchone()
        if row is None:
            raise NotFound(f"no case with id {case_id}")
        return row[0], row[1], row[2]
