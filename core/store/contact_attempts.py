"""Contact attempts: what the frequency caps count."""

from __future__ import annotations

import datetime as dt

from dunning.calendar import from_text, to_text
from dunning.store.connection import StoreConnection


class ContactAttempts(StoreConnection):
    """The store's part that counts contact attempts."""

    def record_attempt(self, *, debtor_id: str, case_id: int | None, channel: str, at: dt.datetime, source: str,
                       key: str | None = None, contact: str | None = None, role: str = "debtor",
                       connected: bool | None = None, outcome: str | None = None) -> bool:
        """Count one attempt; with a key, only once (a re-send after a crash is the same attempt)."""
        cursor = self.conn.execute(
            "INSERT OR IGNORE INTO contact_attempts (key, debtor_id, case_id, channel, contact, role, at, connected, "
            "outcome, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [key, debtor_id, case_id, channel, contact, role, to_text(at),
             None if connected is None else int(connected), outcome, source],
        )
        if connected and case_id is not None and role == "debtor":
            self._touch_contact(case_id, at)
        return cursor.rowcount == 1

    def update_attempt(self, key: str, *, contact: str | None = None, role: str | None = None,
                       connected: bool | None = None, outcome: str | None = None) -> bool:
        """Fill in what an attempt reached once it is known (the number dialled, the call's outcome)."""
        row = self.conn.execute("SELECT case_id, at, role FROM contact_attempts WHERE key = ?", [key]).fetchone()
        if row is None:
            return False
        self.conn.execute(
            "UPDATE contact_attempts SET contact = coalesce(?, contact), role = coalesce(?, role), "
            "connected = coalesce(?, connected), outcome = coalesce(?, outcome) WHERE key = ?",
            [contact, role, None if connected is None else int(connected), outcome, key],
        )
        if connected and row[0] is not None and (role or row[2]) == "debtor":
            self._touch_contact(row[0], from_text(row[1]))
        return True

    def forget_attempt(self, key: str) -> None:
        """An attempt that never left (the provider asked to wait) does not count."""
        self.conn.execute("DELETE FROM contact_attempts WHERE key = ?", [key])

    def attempts(self, debtor_id: str, since: dt.datetime, *, excluding_key: str | None = None
                 ) -> list[tuple[dt.datetime, str, str | None, str, bool | None]]:
        """The debtor's attempts since ``since``: (at, channel, contact, role, connected).

        ``excluding_key`` leaves out the attempt of the action being judged
        (a retry of a failed send is the same attempt, not one more).
        """
        return [
            (from_text(r[0]), r[1], r[2], r[3], None if r[4] is None else bool(r[4]))
            for r in self.conn.execute(
                "SELECT at, channel, contact, role, connected FROM contact_attempts WHERE debtor_id = ? AND at >= ? "
                "AND key IS NOT ? ORDER BY at, id", [debtor_id, to_text(since), excluding_key])
        ]

    def contacted_values(self, debtor_id: str, role_not: str = "debtor") -> set[str]:
        """Every contact value (of a role other than ``role_not``) attempted, but those who asked to be called again.

        A third party whose latest call ended with ``call_back`` asked for
        another call; the one-call limit does not hold them.
        """
        return {r[0] for r in self.conn.execute(
            "SELECT a.contact FROM contact_attempts a WHERE a.debtor_id = ? AND a.role != ? AND a.contact IS NOT NULL "
            "AND a.id = (SELECT max(b.id) FROM contact_attempts b WHERE b.debtor_id = a.debtor_id "
            "AND b.contact = a.contact) AND coalesce(a.outcome, '') != 'call_back'",
            [debtor_id, role_not])}

    def _touch_contact(self, case_id: int, at: dt.datetime) -> None:
        self.conn.execute(
            "UPDATE cases SET last_contact_on = max(coalesce(last_contact_on, ''), ?) WHERE id = ?",
            [at.date().isoformat(), case_id],
        )
