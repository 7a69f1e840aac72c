"""Promises to pay: made, covered by payments, kept or broken."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import cast

from dunning.calendar import from_text, to_text
from dunning.models import Promise, PromiseStatus
from dunning.store.connection import StoreConnection
from dunning.store.errors import NotFound


class Promises(StoreConnection):
    """The store's part that keeps promises to pay."""

    def promises(self, case_id: int) -> list[Promise]:
        return [
            Promise(case_id=r[0], amount=r[1], due_at=from_text(r[2]), status=r[3], created_at=from_text(r[4]), id=r[5])
            for r in self.conn.execute(
                "SELECT case_id, amount, due_at, status, created_at, id FROM promises WHERE case_id = ? ORDER BY id",
                [case_id],
            )
        ]

    def promises_due_on(self, day: dt.date, zone: dt.tzinfo, statuses: Iterable[str] = ("pending",)) -> list[Promise]:
        """Promises falling due on ``day`` in ``zone`` with one of ``statuses``, earliest first (for work queues)."""
        start = dt.datetime.combine(day, dt.time(), zone)
        end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), zone)
        wanted = [str(s) for s in statuses]
        return [
            Promise(case_id=r[0], amount=r[1], due_at=from_text(r[2]), status=r[3], created_at=from_text(r[4]), id=r[5])
            for r in self.conn.execute(
                "SELECT case_id, amount, due_at, status, created_at, id FROM promises WHERE due_at >= ? AND due_at < ? "
                f"AND status IN ({', '.join('?' for _ in wanted)}) ORDER BY due_at, id",
                [to_text(start), to_text(end), *wanted],
            )
        ]

    def add_promise(self, case_id: int, amount: int, due_at: dt.datetime, now: dt.datetime, *,
                    approved_by: str | None = None, plan_id: int | None = None) -> int:
        return cast(int, self.conn.execute(
            "INSERT INTO promises (case_id, amount, due_at, status, created_at, approved_by, plan_id) "
            "VALUES (?, ?, ?, 'pending', ?, ?, ?)",
            [case_id, amount, to_text(due_at), to_text(now), approved_by, plan_id],
        ).lastrowid)  # an INSERT always sets it

    def promise_status(self, promise_id: int) -> PromiseStatus:
        row = self.conn.execute("SELECT status FROM promises WHERE id = ?", [promise_id]).fetchone()
        if row is None:
            raise NotFound(f"no promise with id {promise_id}")
        return PromiseStatus(row[0])

    def promises_to_settle(self, now: dt.datetime, grace: dt.timedelta = dt.timedelta(0)
                           ) -> list[tuple[int, int, int, int, dt.datetime]]:
        """Pending promises now covered, or past due by ``grace``: (id, case_id, amount, paid_since, due_at)."""
        return [
            (r[0], r[1], r[2], r[3], from_text(r[4]))
            for r in self.conn.execute(
                "SELECT id, case_id, amount, paid_since, due_at FROM promises "
                "WHERE status = 'pending' AND (paid_since >= amount OR due_at <= ?)",
                [to_text(now - grace)],
            )
        ]

    def settle_promise(self, promise_id: int, status: PromiseStatus, now: dt.datetime) -> bool:
        cursor = self.conn.execute(
            "UPDATE promises SET status = ?, settled_at = ? WHERE id = ? AND status = 'pending'",
            [status.value, to_text(now), promise_id],
        )
        return cursor.rowcount == 1

    def has_pending_promise(self, case_id: int, now: dt.datetime) -> bool:
        """A promise made by ``now`` that is neither kept nor broken yet."""
        return self.conn.execute(
            "SELECT 1 FROM promises WHERE case_id = ? AND status = 'pending' AND created_at <= ? LIMIT 1",
            [case_id, to_text(now)],
        ).fetchone() is not None
