"""Payments as recorded; ``dunning.store.ledger`` applies them to open items and promises, and takes them back."""

from __future__ import annotations

from dunning.calendar import from_text
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

    def payment_reference_exists(self, case_id: int, reference: str) -> bool:
        return self.conn.execute(
            "SELECT 1 FROM payments WHERE case_id = ? AND reference = ?", [case_id, reference]
        ).fetchone() is not None
