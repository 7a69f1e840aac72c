"""Payments applied item by item (obligations and charges), remembered so that a reversal can undo them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

from dunning.calendar import from_text, to_text
from dunning.store.cases import Cases
from dunning.store.errors import NotFound

if TYPE_CHECKING:
    # Their record classes are made where a payment is applied or read back, not by every command's store.
    from dunning.ledger.allocation import Allocated, OpenItem
    from dunning.ledger.records import PaymentPart, PaymentRecord


class Ledger(Cases):
    """The store's part that applies payments to open items and takes them back."""

    def open_items(self, case_id: int) -> list[OpenItem]:
        """The case's open principal per obligation and its open charges, for ``allocation.allocate``."""
        from dunning.ledger.allocation import OpenItem

        items = [
            OpenItem("principal", r[0], r[1], dt.date.fromisoformat(r[2]), r[3])
            for r in self.conn.execute(
                "SELECT id, reference, due_on, amount - paid FROM obligations WHERE case_id = ? AND amount > paid",
                [case_id])
        ]
        items += [
            OpenItem(r[1], r[2], r[3], dt.date.fromisoformat(r[4]), r[5], charge_id=r[0])
            for r in self.conn.execute(
                "SELECT c.id, c.kind, c.obligation_id, o.reference, o.due_on, c.amount - c.paid - c.waived "
                "FROM charges c JOIN obligations o ON o.id = c.obligation_id "
                "WHERE c.case_id = ? AND c.amount > c.paid + c.waived", [case_id])
        ]
        return items

    def record_payment(self, case_id: int, amount: int, surplus: int, at: dt.datetime, reference: str | None,
                       now: dt.datetime, parts: Sequence[Allocated]) -> int:
        """Store a payment and apply its allocation to obligations and charges (inside the caller's transaction)."""
        payment_id = cast(int, self.conn.execute(
            "INSERT INTO payments (case_id, amount, at, reference, created_at, surplus) VALUES (?, ?, ?, ?, ?, ?)",
            [case_id, amount, to_text(at), reference, to_text(now), surplus]).lastrowid)
        self.conn.execute(
            "UPDATE cases SET last_payment_on = max(coalesce(last_payment_on, ''), ?) WHERE id = ?",
            [to_text(at)[:10], case_id])
        for part in parts:
            if part.item.charge_id is not None:
                self.conn.execute("UPDATE charges SET paid = paid + ? WHERE id = ?", [part.amount, part.item.charge_id])
            else:
                self.conn.execute("UPDATE obligations SET paid = paid + ? WHERE id = ?",
                                  [part.amount, part.item.obligation_id])
            self.conn.execute(
                "INSERT INTO payment_allocations (payment_id, obligation_id, charge_id, amount) VALUES (?, ?, ?, ?)",
                [payment_id, part.item.obligation_id, part.item.charge_id, part.amount])
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
            self.conn.execute("INSERT INTO payment_allocations (payment_id, promise_id, amount) VALUES (?, ?, ?)",
                              [payment_id, promise_id, applied])
            covering -= applied
        return payment_id

    def charges_open(self, case_id: int) -> int:
        """What is still open of all the case's charges together."""
        return int(self.conn.execute(
            "SELECT coalesce(sum(amount - paid - waived), 0) FROM charges WHERE case_id = ?", [case_id]).fetchone()[0])

    def payment_record(self, payment_id: int) -> PaymentRecord:
        from dunning.ledger.records import PaymentRecord

        row = self.conn.execute(
            "SELECT id, case_id, amount, at, reference, surplus, reversed_at, reversal_reason FROM payments "
            "WHERE id = ?", [payment_id]).fetchone()
        if row is None:
            raise NotFound(f"no payment with id {payment_id}")
        return PaymentRecord(id=row[0], case_id=row[1], amount=row[2], at=from_text(row[3]), reference=row[4],
                             surplus=row[5], reversed_at=from_text(row[6]) if row[6] else None,
                             reversal_reason=row[7])

    def payment_records(self, case_id: int) -> list[PaymentRecord]:
        ids = [r[0] for r in self.conn.execute("SELECT id FROM payments WHERE case_id = ? ORDER BY at, id", [case_id])]
        return [self.payment_record(i) for i in ids]

    def payment_parts(self, payment_id: int) -> list[PaymentPart]:
        from dunning.ledger.records import PaymentPart

        return [PaymentPart(amount=r[0], obligation_id=r[1], charge_id=r[2], promise_id=r[3])
                for r in self.conn.execute(
                    "SELECT amount, obligation_id, charge_id, promise_id FROM payment_allocations "
                    "WHERE payment_id = ? ORDER BY id", [payment_id])]

    def undo_payment(self, payment_id: int, now: dt.datetime, reason: str) -> list[tuple[int, str, int]]:
        """Take a payment's allocation back and mark it reversed (inside the caller's transaction).

        Returns the promises it had covered as (promise id, status, amount taken back).
        """
        record = self.payment_record(payment_id)
        promises: list[tuple[int, str, int]] = []
        for part in self.payment_parts(payment_id):
            if part.charge_id is not None:
                self.conn.execute("UPDATE charges SET paid = paid - ? WHERE id = ?", [part.amount, part.charge_id])
            elif part.obligation_id is not None:
                self.conn.execute("UPDATE obligations SET paid = paid - ? WHERE id = ?",
                                  [part.amount, part.obligation_id])
            elif part.promise_id is not None:
                self.conn.execute("UPDATE promises SET paid_since = max(paid_since - ?, 0) WHERE id = ?",
                                  [part.amount, part.promise_id])
                status = self.conn.execute("SELECT status FROM promises WHERE id = ?", [part.promise_id]).fetchone()[0]
                promises.append((part.promise_id, status, part.amount))
        self.conn.execute("UPDATE payments SET reversed_at = ?, reversal_reason = ? WHERE id = ?",
                          [to_text(now), reason, payment_id])
        # The last payment that still stands, for the risk class and the limitation period.
        self.conn.execute(
            "UPDATE cases SET last_payment_on = (SELECT substr(max(at), 1, 10) FROM payments "
            "WHERE case_id = ? AND reversed_at IS NULL) WHERE id = ?", [record.case_id, record.case_id])
        return promises

    def break_kept_promise(self, promise_id: int, now: dt.datetime) -> bool:
        """A promise a reversed payment had kept is broken after all."""
        return self.conn.execute(
            "UPDATE promises SET status = 'broken', settled_at = ? WHERE id = ? AND status = 'kept'",
            [to_text(now), promise_id]).rowcount == 1

    def reopen_case(self, case_id: int, today: dt.date) -> None:
        """A resolved case open again, at the internal stage, to be looked at today.

        The planning cursor is cleared: the next run plans the case as one it
        has never seen, so the stage changes its days past due call for are
        made again (under keys of that day) while the reminders whose day has
        passed are reported missed, and required steps already sent keep their
        keys and are not sent twice.
        """
        self.conn.execute(
            "UPDATE cases SET status = 'open', stage = 'internal', previous_stage = NULL, resolved_on = NULL, "
            "stage_entered_on = ?, next_action_on = ?, planned_through = NULL WHERE id = ?",
            [today.isoformat(), today.isoformat(), case_id])

    def move_open_items(self, from_case: int, to_case: int) -> list[str]:
        """Put a resolved case's open obligations (and their charges) into the debtor's open case."""
        moved = [r[0] for r in self.conn.execute(
            "SELECT id FROM obligations WHERE case_id = ? AND amount > paid ORDER BY due_on, id", [from_case])]
        references: list[str] = []
        for obligation_id in moved:
            self.conn.execute("UPDATE obligations SET case_id = ? WHERE id = ?", [to_case, obligation_id])
            self.conn.execute("UPDATE charges SET case_id = ? WHERE obligation_id = ?", [to_case, obligation_id])
            references.append(self.conn.execute("SELECT reference FROM obligations WHERE id = ?",
                                                [obligation_id]).fetchone()[0])
        return references

    def refresh_balance(self, case_id: int, wake_on: dt.date) -> int:
        """Recompute the case's principal balance and days-past-due anchor; wake it on ``wake_on``."""
        balance, _ = self._refresh_balance(case_id, wake_on=wake_on)
        return balance
