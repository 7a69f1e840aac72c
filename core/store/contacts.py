"""A debtor's contacts, and the channels and contacts they opted out of."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from dunning.calendar import to_text
from dunning.models import Contact
from dunning.store.connection import StoreConnection
from dunning.store.errors import NotFound


class Contacts(StoreConnection):
    """The store's part that reads contacts and keeps opt-outs."""

    def contacts(self, debtor_id: str) -> list[Contact]:
        """The debtor's active contacts: the only ones outreach, rules and plugins ever see."""
        return [
            Contact(debtor_id=r[0], kind=r[1], value=r[2], role=r[3], name=r[4], bad=bool(r[5]), id=r[6])
            for r in self.conn.execute(
                "SELECT debtor_id, kind, value, role, name, bad, id FROM contacts WHERE debtor_id = ? AND active = 1 "
                "ORDER BY id",
                [debtor_id],
            )
        ]

    def contact(self, contact_id: int) -> Contact:
        row = self.conn.execute(
            "SELECT debtor_id, kind, value, role, name, bad, id FROM contacts WHERE id = ?", [contact_id]).fetchone()
        if row is None:
            raise NotFound(f"no contact with id {contact_id}")
        return Contact(
            debtor_id=row[0], kind=row[1], value=row[2], role=row[3], name=row[4], bad=bool(row[5]), id=row[6]
        )

    def mark_contact_bad(self, contact_id: int, reason: str) -> bool:
        cursor = self.conn.execute(
            "UPDATE contacts SET bad = 1, bad_reason = ? WHERE id = ? AND bad = 0", [reason, contact_id])
        return cursor.rowcount == 1

    def add_opt_out(self, debtor_id: str, channel: str, contact: str | None, at: dt.datetime, source: str,
                    note: str | None) -> int:
        return cast(int, self.conn.execute(
            "INSERT INTO opt_outs (debtor_id, channel, contact, at, source, note) VALUES (?, ?, ?, ?, ?, ?)",
            [debtor_id, channel, contact, to_text(at), source, note],
        ).lastrowid)  # an INSERT always sets it

    def withdraw_opt_outs(self, debtor_id: str, channel: str, contact: str | None, at: dt.datetime) -> int:
        cursor = self.conn.execute(
            "UPDATE opt_outs SET withdrawn_at = ? WHERE debtor_id = ? AND channel = ? AND contact IS ? "
            "AND withdrawn_at IS NULL",
            [to_text(at), debtor_id, channel, contact],
        )
        return cursor.rowcount

    def opt_outs(self, debtor_id: str, channel: str | None = None) -> list[tuple[str, str | None]]:
        """The debtor's standing opt-outs as (channel, contact or None for the whole channel)."""
        sql = "SELECT channel, contact FROM opt_outs WHERE debtor_id = ? AND withdrawn_at IS NULL"
        params: list[Any] = [debtor_id]
        if channel is not None:
            sql += " AND channel = ?"
            params.append(channel)
        return [(r[0], r[1]) for r in self.conn.execute(sql + " ORDER BY id", params)]
