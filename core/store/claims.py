"""Sending from the outbox: claiming ready actions, recording how each ended, and claims left behind."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from dunning.calendar import from_text, to_text
from dunning.models import Action, ActionStatus, Event
from dunning.store.actions import Actions
from dunning.store.rows import _ACTION_COLUMNS, _action


class Claims(Actions):
    """The store's part that dispatchers claim and finish actions through."""

    def count_ready(self, now: dt.datetime) -> int:
        return self.conn.execute(
            "SELECT count(*) FROM actions WHERE status = 'pending' AND not_before <= ?", [to_text(now)]
        ).fetchone()[0]

    def claim(self, now: dt.datetime, wall_now: dt.datetime, claimer: str, limit: int) -> list[Action]:
        """Mark up to ``limit`` ready actions as being sent by ``claimer`` and return them."""
        with self.transaction():
            ids = [
                r[0]
                for r in self.conn.execute(
                    "SELECT id FROM actions WHERE status = 'pending' AND not_before <= ? "
                    "ORDER BY not_before, id LIMIT ?",
                    [to_text(now), limit],
                )
            ]
            if not ids:
                return []
            marks = ", ".join("?" * len(ids))
            self.conn.execute(
                f"UPDATE actions SET status = 'sending', claimed_by = ?, claimed_at = ? WHERE id IN ({marks})",
                [claimer, to_text(wall_now), *ids],
            )
            rows = self.conn.execute(
                f"SELECT {_ACTION_COLUMNS} FROM actions WHERE id IN ({marks}) ORDER BY not_before, id", ids
            ).fetchall()
        return [_action(r) for r in rows]

    def in_flight(self) -> list[tuple[int, str, dt.datetime, str | None, str, bool]]:
        """Actions claimed but never finished: (id, claimed_by, claimed_at, channel, kind, handed to the channel)."""
        return [
            (r[0], r[1], from_text(r[2]), r[3], r[4], r[5] is not None)
            for r in self.conn.execute(
                "SELECT id, claimed_by, claimed_at, channel, kind, send_started_at FROM actions "
                "WHERE status = 'sending'")
        ]

    def mark_send_started(self, action_id: int, wall_now: dt.datetime) -> None:
        """The action is about to be handed to its channel (inside the caller's transaction)."""
        self.conn.execute("UPDATE actions SET send_started_at = ? WHERE id = ?", [to_text(wall_now), action_id])

    def hold_in_doubt(self, ids: Sequence[int], now: dt.datetime, events: Callable[[Action], Event]) -> int:
        """Set abandoned claims aside for a person (status in_doubt), each with its event; returns how many."""
        held = 0
        with self.transaction():
            for action_id in ids:
                cursor = self.conn.execute(
                    "UPDATE actions SET status = 'in_doubt', claimed_by = NULL, send_started_at = NULL, updated_at = ? "
                    "WHERE id = ? AND status = 'sending'", [to_text(now), action_id])
                if cursor.rowcount:
                    self.append_events([events(self.action(action_id))])
                    held += 1
        return held

    def release_claims(self, ids: Sequence[int]) -> int:
        """Put abandoned claims back in the queue; they keep their key, so a re-send is recognisable."""
        if not ids:
            return 0
        with self.transaction():
            cursor = self.conn.execute(
                "UPDATE actions SET status = 'pending', claimed_by = NULL, send_started_at = NULL "
                "WHERE status = 'sending' "
                f"AND id IN ({', '.join('?' * len(ids))})",
                list(ids),
            )
        return cursor.rowcount

    def finish(self, action: Action, claimer: str, status: ActionStatus, now: dt.datetime, *,
               events: Sequence[Event] = (), not_before: dt.datetime | None = None,
               error: str | None = None, reference: str | None = None, count_attempt: bool = False) -> bool:
        """Record an action's outcome and its evidence in one transaction.

        Only the dispatcher holding the claim may finish it; a second finish
        of the same claim changes nothing and returns False.
        """
        with self.transaction():
            cursor = self.conn.execute(
                "UPDATE actions SET status = ?, not_before = coalesce(?, not_before), last_error = ?, "
                "reference = coalesce(?, reference), attempts = attempts + ?, claimed_by = NULL, "
                "send_started_at = NULL, updated_at = ? WHERE id = ? AND status = 'sending' AND claimed_by = ?",
                [status.value, to_text(not_before) if not_before else None, error, reference, int(count_attempt),
                 to_text(now), action.id, claimer],
            )
            if cursor.rowcount != 1:
                return False
            self.append_events(events)
        return True
