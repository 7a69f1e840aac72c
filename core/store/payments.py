"""Payments, applied to the oldest open obligations and to the promises they cover."""

from __future__ import annotations

import datetime as dt

from dunning.calendar import from_text, to_text
from dunning.models import Payment
from dunning.store.cases import Cases


class Payments(Cases):
    """The store's part that records payments."""

    def payments(self, case_id: int) -> list[Payment]:
        return [
            Payment(case_id=r[0], amount=r[1], at=from_text(r[2]), reference=r[3], id=r[4])
            for r in self.conn.execute(
                # A reversed payment (a bounced cheque) never paid anything: statements and rules leave it out.
                "SELECT case_id, amount, at, reference, id FROM payments WHERE case_id = ? AND reversed_at IS NULL "
                "ORDER BY at, id", [case_id]
            )
        ]

    def add_payment(self, case_id: int, amount: int, at: dt.datetime, reference: str | None, now: dt.datetime,
                    wake_on: dt.date) -> tuple[int, list[tuple[str, int]]]:
        """Store a payment and apply it to the oldest open obligations first.

        Returns the new balance and the (reference, amount) allocation.
        """
        self.conn.execute(
            "INSERT INTO payments (case_id, amount, at, reference, created_at) VALUES (?, ?, ?, ?, ?)",
            [case_id, amount, to_text(at), reference, to_text(now)],
        )
        self.conn.execute(
            "UPDATE cases SET last_payment_on = max(coalesce(last_payment_on, ''), ?) WHERE id = ?",
            [to_text(at)[:10], case_id],
        )
        left = amount
        allocation: list[tuple[str, int]] = []
        for obligation_id, reference_, open_amount in self.conn.execute(
            "SELECT id, reference, amount - paid FROM obligations WHERE case_id = ? AND amount > paid ORDER BY due_on, "
            "id",
            [case_id],
        ).fetchall():
            if left <= 0:
                break
            applied = min(left, open_amount)
            self.conn.execute("UPDATE obligations SET paid = paid + ? WHERE id = ?", [applied, obligation_id])
            allocation.append((reference_, applied))
            left -= applied
        # Pending promises are covered in the order they fall due, so the
        # instalments of a plan are kept one after the other.
        covering = amount
        for promise_id, missing in self.conn.execute(
            "SELECT id, amount - paid_since FROM promises WHERE case_id = ? AND status = 'pending' "
            "AND paid_since < amount ORDER BY due_at, id", [case_id]
        ).fetchall():
            if covering <= 0:
                break
            applied = min(covering, missing)
            self.conn.execute("UPDATE promises SET paid_since = paid_since + ? WHERE id = ?", [applied, promise_id])
            covering -= applied
        balance, _ = self._refresh_balance(case_id, wake_on=wake_on)
        return balance, allocation

    def payment_reference_exists(self, case_id: int, reference: str) -> bool:
        return self.conn.execute(
            "SELECT 1 FROM payments WHERE case_id = ? AND reference = ?", [case_id, reference]
        ).fetchone() is not None
