"""Settlement offers: an amount that settles a case if paid by a date, and what became of it."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

import attrs

from dunning.calendar import to_text
from dunning.store.connection import StoreConnection


@attrs.frozen
class SettlementOffer:
    id: int
    case_id: int
    amount: int  # what settles the case
    owed: int  # what the case owed when the offer was made: principal, interest and fees
    offered_on: dt.date
    until: dt.date
    instalments: int
    status: str  # open | settled | lapsed
    offered_by: str
    approved_by: str | None
    paid_before: int  # payments on the case before the offer: only later ones count towards it
    hold_id: int | None  # the hold that pauses collection while the offer stands


_COLUMNS = ("id, case_id, amount, owed, offered_on, until, instalments, status, offered_by, approved_by, paid_before, "
            "hold_id")


def _offer(r: tuple[Any, ...]) -> SettlementOffer:
    return SettlementOffer(r[0], r[1], r[2], r[3], dt.date.fromisoformat(r[4]), dt.date.fromisoformat(r[5]), r[6],
                           r[7], r[8], r[9], r[10], r[11])


class Settlements(StoreConnection):
    """The store's part that keeps settlement offers."""

    def add_settlement(self, case_id: int, amount: int, owed: int, offered_on: dt.date, until: dt.date,
                       instalments: int, by: str, approved_by: str | None, hold_id: int | None,
                       now: dt.datetime) -> int:
        paid_before = self.paid_on_case(case_id)
        return cast(int, self.conn.execute(
            "INSERT INTO settlements (case_id, amount, owed, offered_on, until, instalments, status, offered_by, "
            "approved_by, paid_before, hold_id, created_at) VALUES (?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?, ?)",
            [case_id, amount, owed, offered_on.isoformat(), until.isoformat(), instalments, by, approved_by,
             paid_before, hold_id, to_text(now)]).lastrowid)

    def paid_on_case(self, case_id: int, until: dt.datetime | None = None) -> int:
        """Everything paid on the case (up to ``until``): principal and charges alike."""
        if until is None:
            row = self.conn.execute("SELECT sum(amount) FROM payments WHERE case_id = ?", [case_id]).fetchone()
        else:
            row = self.conn.execute("SELECT sum(amount) FROM payments WHERE case_id = ? AND at <= ?",
                                    [case_id, to_text(until)]).fetchone()
        return int(row[0] or 0)

    def open_settlement(self, case_id: int) -> SettlementOffer | None:
        row = self.conn.execute(f"SELECT {_COLUMNS} FROM settlements WHERE case_id = ? AND status = 'open'",
                                [case_id]).fetchone()
        return _offer(row) if row else None

    def open_settlements(self) -> list[SettlementOffer]:
        return [_offer(r) for r in self.conn.execute(
            f"SELECT {_COLUMNS} FROM settlements WHERE status = 'open' ORDER BY id")]

    def settlements(self, case_id: int) -> list[SettlementOffer]:
        return [_offer(r) for r in self.conn.execute(
            f"SELECT {_COLUMNS} FROM settlements WHERE case_id = ? ORDER BY id", [case_id])]

    def close_settlement(self, settlement_id: int, status: str, now: dt.datetime) -> bool:
        """Mark an open offer settled or lapsed; False when it was no longer open."""
        return self.conn.execute(
            "UPDATE settlements SET status = ?, closed_at = ? WHERE id = ? AND status = 'open'",
            [status, to_text(now), settlement_id]).rowcount == 1
