"""The latest deadline a sent message gave for each case."""

from __future__ import annotations

import datetime as dt

from dunning.calendar import to_text
from dunning.store.connection import StoreConnection


class AnnouncedDeadlines(StoreConnection):
    """The store's part that keeps announced deadlines."""

    def announced_deadline(self, case_id: int) -> tuple[dt.date, str | None] | None:
        """The latest deadline a message sent for the case gave, and the stage it leads to; None if none."""
        row = self.conn.execute("SELECT deadline, stage FROM announced_deadlines WHERE case_id = ?",
                                [case_id]).fetchone()
        return (dt.date.fromisoformat(row[0]), row[1]) if row else None

    def record_deadline(self, case_id: int, deadline: dt.date, stage: str | None, key: str, at: dt.datetime) -> None:
        """Keep the deadline a sent message gave (inside the caller's transaction); an earlier one never replaces a
        later."""
        self.conn.execute(
            "INSERT INTO announced_deadlines (case_id, deadline, stage, key, at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(case_id) DO UPDATE SET deadline = excluded.deadline, stage = excluded.stage, "
            "key = excluded.key, at = excluded.at WHERE excluded.deadline >= announced_deadlines.deadline",
            [case_id, deadline.isoformat(), stage, key, to_text(at)],
        )
