"""Corrections to obligations: a new amount or open amount, closing and reopening, disputes of one item."""

from __future__ import annotations

import datetime as dt

from dunning.models import Obligation
from dunning.store.cases import Cases
from dunning.store.errors import NotFound


class ObligationEdits(Cases):
    """The store's part that corrects obligations (inside the caller's transaction)."""

    def obligation_by_reference(self, debtor_id: str, reference: str) -> Obligation:
        for obligation in self._obligations_where("debtor_id = ? AND reference = ?", [debtor_id, reference]):
            return obligation
        raise NotFound(f"debtor {debtor_id!r} has no obligation {reference!r}")

    def obligations_with_reference(self, reference: str) -> list[tuple[str, Obligation]]:
        """Every debtor's obligation under this reference, as (debtor id, obligation)."""
        rows = self.conn.execute("SELECT debtor_id, case_id FROM obligations WHERE reference = ? ORDER BY id",
                                 [reference]).fetchall()
        return [(debtor_id, self.obligation_in_case(case_id, reference)) for debtor_id, case_id in rows]

    def obligation_in_case(self, case_id: int, reference: str) -> Obligation:
        for obligation in self.obligations(case_id):
            if obligation.reference == reference:
                return obligation
        raise NotFound(f"case {case_id} has no obligation {reference!r}")

    def _obligations_where(self, where: str, params: list[object]) -> list[Obligation]:
        found = []
        for (case_id, reference) in self.conn.execute(
                f"SELECT case_id, reference FROM obligations WHERE {where} ORDER BY id", params).fetchall():
            found.append(self.obligation_in_case(case_id, reference))
        return found

    def dispute_reason(self, obligation_id: int) -> str | None:
        row = self.conn.execute("SELECT dispute_reason FROM obligations WHERE id = ?", [obligation_id]).fetchone()
        return row[0] if row else None

    def set_obligation_figures(self, obligation_id: int, *, amount: int, open_amount: int,
                               due_on: dt.date | None = None) -> None:
        """A new amount and open amount (``paid`` becomes what was settled against it); reopens a closed item."""
        self.conn.execute(
            "UPDATE obligations SET amount = ?, paid = ?, due_on = coalesce(?, due_on), closed_reason = NULL, "
            "closed_on = NULL WHERE id = ?",
            [amount, amount - open_amount, due_on.isoformat() if due_on else None, obligation_id])

    def close_obligation(self, obligation_id: int, reason: str, on: dt.date) -> None:
        """Closed by the books: settled in full (``paid = amount``), with why and when."""
        self.conn.execute(
            "UPDATE obligations SET paid = amount, closed_reason = ?, closed_on = ? WHERE id = ?",
            [reason, on.isoformat(), obligation_id])

    def set_dispute(self, obligation_id: int, on: dt.date | None, reason: str | None) -> None:
        self.conn.execute("UPDATE obligations SET disputed_on = ?, dispute_reason = ? WHERE id = ?",
                          [on.isoformat() if on else None, reason, obligation_id])

    def refresh_case(self, case_id: int, *, wake_on: dt.date) -> int:
        """Balance and days-past-due anchor recomputed after a correction; the case is looked at by ``wake_on``."""
        return self._refresh_balance(case_id, wake_on=wake_on)[0]

    def move_obligation(self, obligation_id: int, case_id: int) -> None:
        self.conn.execute("UPDATE obligations SET case_id = ? WHERE id = ?", [case_id, obligation_id])
