"""Contact attempts: what the frequency caps count."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from dunning.calendar import from_text, to_text
from dunning.store.bulk import _execute_rows
from dunning.store.connection import StoreConnection
from dunning.store.pg_locks import lock_debtors

# A round's new attempts, many to a statement (``_execute_rows``); a key already counted is the same attempt.
# An action's attempt names the action by its id, not its key (m035): the key is kept for the others alone.
_INSERT_ATTEMPTS = (
    "INSERT OR IGNORE INTO contact_attempts (key, action_id, debtor_id, case_id, channel, role, at, source) "
    "SELECT CASE WHEN a.id IS NULL THEN v.column1 END, a.id, v.column2, v.column3, v.column4, v.column5, v.column6, "
    "v.column7 FROM (VALUES {rows}) AS v LEFT JOIN actions a ON a.key = v.column1 WHERE v.column2 IS NOT NULL"
)

# An attempt's key as the callers know it: its own, or its action's.
_KEY_OF = "coalesce({t}.key, (SELECT k.key FROM actions k WHERE k.id = {t}.action_id))"

# An attempt as ``attempts_of`` gives it: (at, channel, contact, role, connected, key).
KeyedAttempt = tuple[dt.datetime, str, str | None, str, bool | None, str | None]


class ContactAttempts(StoreConnection):
    """The store's part that counts contact attempts."""

    def record_attempt(self, *, debtor_id: str, case_id: int | None, channel: str, at: dt.datetime, source: str,
                       key: str | None = None, contact: str | None = None, role: str = "debtor",
                       connected: bool | None = None, outcome: str | None = None) -> bool:
        """Count one attempt; with a key, only once (a re-send after a crash is the same attempt)."""
        action_id = self._action_id(key)
        cursor = self.conn.execute(
            "INSERT OR IGNORE INTO contact_attempts (key, action_id, debtor_id, case_id, channel, contact, role, at, "
            "connected, outcome, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [None if action_id is not None else key, action_id, debtor_id, case_id, channel, contact, role,
             to_text(at), None if connected is None else int(connected), outcome, source],
        )
        if connected and case_id is not None and role == "debtor":
            self._touch_contact(case_id, at)
        return cursor.rowcount == 1

    def update_attempt(self, key: str, *, contact: str | None = None, role: str | None = None,
                       connected: bool | None = None, outcome: str | None = None) -> bool:
        """Fill in what an attempt reached once it is known (the number dialled, the call's outcome)."""
        where, param = self._where_key(key)
        row = self.conn.execute(f"SELECT case_id, at, role FROM contact_attempts WHERE {where}", [param]).fetchone()
        if row is None:
            return False
        self.conn.execute(
            "UPDATE contact_attempts SET contact = coalesce(?, contact), role = coalesce(?, role), "
            f"connected = coalesce(?, connected), outcome = coalesce(?, outcome) WHERE {where}",
            [contact, role, None if connected is None else int(connected), outcome, param],
        )
        if connected and row[0] is not None and (role or row[2]) == "debtor":
            self._touch_contact(row[0], from_text(row[1]))
        return True

    def forget_attempt(self, key: str) -> None:
        """An attempt that never left (the provider asked to wait) does not count."""
        where, param = self._where_key(key)
        self.conn.execute(f"DELETE FROM contact_attempts WHERE {where}", [param])

    def _action_id(self, key: str | None) -> int | None:
        """The id of the action whose key is ``key``, if there is one (its attempts are kept by that id)."""
        if key is None:
            return None
        row = self.conn.execute("SELECT id FROM actions WHERE key = ?", [key]).fetchone()
        return None if row is None else int(row[0])

    def _where_key(self, key: str) -> tuple[str, Any]:
        """The condition (and its one parameter) that finds the attempt ``key`` names."""
        action_id = self._action_id(key)
        return ("key = ?", key) if action_id is None else ("action_id = ?", action_id)

    def attempts(self, debtor_id: str, since: dt.datetime, *, excluding_key: str | None = None
                 ) -> list[tuple[dt.datetime, str, str | None, str, bool | None]]:
        """The debtor's attempts since ``since``: (at, channel, contact, role, connected).

        ``excluding_key`` leaves out the attempt of the action being judged
        (a retry of a failed send is the same attempt, not one more).
        Inside a transaction on PostgreSQL, first waits for the debtor's lock (``pg_locks``).
        """
        lock_debtors(self.conn, [debtor_id])
        # ``key IS NOT ?`` on the key as callers know it (``_KEY_OF``): None leaves out the attempts without one.
        params: list[Any] = []
        if excluding_key is None:
            other = "(key IS NOT NULL OR action_id IS NOT NULL)"
        else:
            excluded_action = self._action_id(excluding_key)
            other = "key IS NOT ?"
            params.append(excluding_key)
            if excluded_action is not None:
                other += " AND action_id IS NOT ?"
                params.append(excluded_action)
        return [
            (from_text(r[0]), r[1], r[2], r[3], None if r[4] is None else bool(r[4]))
            for r in self.conn.execute(
                "SELECT at, channel, contact, role, connected FROM contact_attempts WHERE debtor_id = ? AND at >= ? "
                f"AND {other} ORDER BY at, id", [debtor_id, to_text(since), *params])
        ]

    def attempts_of(self, debtor_ids: Sequence[str], since: dt.datetime) -> dict[str, list[KeyedAttempt]]:
        """Each debtor's attempts since ``since`` (as ``attempts`` gives them, with their key), in one query."""
        found: dict[str, list[KeyedAttempt]] = {d: [] for d in debtor_ids}
        if not found:
            return found
        lock_debtors(self.conn, found)  # a cap check: see ``attempts``
        ids = sorted(found)
        for r in self.conn.execute(
                f"SELECT c.debtor_id, c.at, c.channel, c.contact, c.role, c.connected, {_KEY_OF.format(t='c')} "
                f"FROM contact_attempts c WHERE c.debtor_id IN ({', '.join('?' * len(ids))}) AND c.at >= ? "
                "ORDER BY c.at, c.id",
                [*ids, to_text(since)]):
            found[r[0]].append((from_text(r[1]), r[2], r[3], r[4], None if r[5] is None else bool(r[5]), r[6]))
        return found

    def record_attempts(self, attempts: Sequence[tuple[str, str, int, str, str, dt.datetime, str]]) -> None:
        """Count many keyed attempts, (key, debtor, case, channel, role, at, source) each, as ``record_attempt`` would.

        For attempts not known to have connected (nothing to touch on the case).
        """
        rows: list[tuple[Any, ...]] = [(key, debtor, case, channel, role, to_text(at), source)
                                       for key, debtor, case, channel, role, at, source in attempts]
        _execute_rows(self.conn, _INSERT_ATTEMPTS, rows, 7)

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
