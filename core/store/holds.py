"""Holds that stop outreach on a case for a while."""

from __future__ import annotations

import datetime as dt
from typing import cast

from dunning.calendar import from_text, to_text
from dunning.models import Hold
from dunning.store.connection import StoreConnection
from dunning.store.rows import _date, _iso


class Holds(StoreConnection):
    """The store's part that puts cases on hold and releases them."""

    def holds(self, case_id: int, *, active_on: dt.date | None = None) -> list[Hold]:
        holds = [
            Hold(case_id=r[0], reason=r[1], since=from_text(r[2]), until=_date(r[3]), note=r[4],
                 released_at=from_text(r[5]) if r[5] else None, id=r[6])
            for r in self.conn.execute(
                "SELECT case_id, reason, since, until, note, released_at, id FROM holds WHERE case_id = ? ORDER BY id",
                [case_id],
            )
        ]
        if active_on is not None:
            holds = [h for h in holds if h.active_on(active_on)]
        return holds

    def add_hold(self, case_id: int, reason: str, since: dt.datetime, until: dt.date | None, note: str | None) -> int:
        return cast(int, self.conn.execute(
            "INSERT INTO holds (case_id, reason, since, until, note) VALUES (?, ?, ?, ?, ?)",
            [case_id, reason, to_text(since), _iso(until), note],
        ).lastrowid)  # an INSERT always sets it

    def release_holds(self, case_id: int, now: dt.datetime, by: str) -> list[int]:
        ids = [r[0] for r in self.conn.execute(
            "SELECT id FROM holds WHERE case_id = ? AND released_at IS NULL", [case_id])]
        if ids:
            self.conn.execute(
                f"UPDATE holds SET released_at = ?, released_by = ? WHERE id IN ({', '.join('?' * len(ids))})",
                [to_text(now), by, *ids],
            )
        return ids

    def expired_holds(self, today: dt.date) -> list[tuple[int, int, str, dt.date]]:
        """Unreleased holds whose end date has come: (id, case_id, reason, until)."""
        return [
            (r[0], r[1], r[2], dt.date.fromisoformat(r[3]))
            for r in self.conn.execute(
                "SELECT id, case_id, reason, until FROM holds WHERE released_at IS NULL AND until IS NOT NULL AND "
                "until <= ?",
                [today.isoformat()],
            )
        ]

    def expire_hold(self, hold_id: int, now: dt.datetime) -> bool:
        cursor = self.conn.execute(
            "UPDATE holds SET released_at = ?, released_by = 'expiry' WHERE id = ? AND released_at IS NULL",
            [to_text(now), hold_id],
        )
        return cursor.rowcount == 1
