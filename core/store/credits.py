"""The debtors' credits: overpayments in, credits applied to later items and refunds out."""

from __future__ import annotations

import datetime as dt

from dunning.calendar import to_text
from dunning.store.connection import StoreConnection


class Credits(StoreConnection):
    """The store's part that keeps each debtor's credit per currency."""

    def post_credit(self, debtor_id: str, currency: str, amount: int, kind: str, now: dt.datetime, *,
                    payment_id: int | None = None, case_id: int | None = None, reason: str | None = None,
                    by: str | None = None) -> None:
        """Add (``amount`` > 0) to or take (< 0) from the debtor's credit, inside the caller's transaction."""
        self.conn.execute(
            "INSERT INTO credits (debtor_id, currency, amount, kind, payment_id, case_id, reason, by, at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [debtor_id, currency, amount, kind, payment_id, case_id, reason, by, to_text(now)])

    def credit_balance(self, debtor_id: str, currency: str) -> int:
        return int(self.conn.execute(
            "SELECT coalesce(sum(amount), 0) FROM credits WHERE debtor_id = ? AND currency = ?",
            [debtor_id, currency]).fetchone()[0])

    def credit_balances(self, debtor_id: str) -> dict[str, int]:
        """The debtor's credit in each currency that has one."""
        return {r[0]: r[1] for r in self.conn.execute(
            "SELECT currency, sum(amount) FROM credits WHERE debtor_id = ? GROUP BY currency HAVING sum(amount) != 0 "
            "ORDER BY currency", [debtor_id])}

    def credits_to_apply(self) -> list[tuple[str, str, int, int]]:
        """(debtor, currency, credit, open case id) wherever a debtor's credit meets an open case in its currency."""
        return [(r[0], r[1], r[2], r[3]) for r in self.conn.execute(
            "SELECT c.debtor_id, c.currency, sum(c.amount), k.id FROM credits c "
            "JOIN cases k ON k.debtor_id = c.debtor_id AND k.currency = c.currency AND k.status = 'open' "
            "GROUP BY c.debtor_id, c.currency, k.id HAVING sum(c.amount) > 0 ORDER BY c.debtor_id, c.currency")]
