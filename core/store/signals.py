"""Signals noticed about a case (a relocation, a bankruptcy, ...) and where they came from."""

from __future__ import annotations

import datetime as dt
from typing import cast

from dunning.calendar import from_text, to_text
from dunning.store.connection import StoreConnection


class Signals(StoreConnection):
    """The store's part that records signals."""

    def add_signal(self, case_id: int, kind: str, at: dt.datetime, source: str, note: str | None) -> int:
        signal_id = cast(int, self.conn.execute(
            "INSERT INTO signals (case_id, kind, at, source, note) VALUES (?, ?, ?, ?, ?)",
            [case_id, kind, to_text(at), source, note],
        ).lastrowid)  # an INSERT always sets it
        # The case keeps the set of kinds seen, for the risk class and policy conditions.
        self.conn.execute(
            "UPDATE cases SET signals = CASE WHEN signals = '' THEN ?1 "
            "WHEN instr(',' || signals || ',', ',' || ?1 || ',') > 0 THEN signals ELSE signals || ',' || ?1 END "
            "WHERE id = ?2",
            [kind, case_id],
        )
        return signal_id

    def signals(self, case_id: int) -> list[tuple[str, dt.datetime, str, str | None]]:
        """The case's signals, oldest first: (kind, at, source, note)."""
        return [
            (r[0], from_text(r[1]), r[2], r[3])
            for r in self.conn.execute(
                "SELECT kind, at, source, note FROM signals WHERE case_id = ? ORDER BY at, id", [case_id])
        ]
