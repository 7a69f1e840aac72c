"""Sending from the outbox: claiming ready actions, recording how each ended, and claims left behind."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Sequence
from typing import Any

from dunning.calendar import from_text, to_text
from dunning.models import Action, ActionStatus, Event
from dunning.store.actions import REFERENCE_KEPT, Actions
from dunning.store.bulk import _execute_rows
from dunning.store.rows import _ACTION_COLUMNS, _action


# A round's sent actions, many to a statement (``_execute_rows``): status, reference, the claim let go.
_FINISH_SENT = (
    "UPDATE actions SET status = 'sent', last_error = NULL, "
    f"reference = {REFERENCE_KEPT.format(new='v.column2', t='actions')}, "
    "claimed_by = NULL, claimed_at = NULL, send_started_at = NULL, updated_at = v.column3 "
    "FROM (VALUES {rows}) AS v WHERE actions.id = v.column1 AND actions.status = 'sending' "
    "AND actions.claimed_by = v.column4"
)


class Claims(Actions):
    """The store's part that dispatchers claim and finish actions through."""

    def count_ready(self, now: dt.datetime) -> int:
        return self.conn.execute(
            "SELECT count(*) FROM actions WHERE status = 'pending' AND not_before <= ?", [to_text(now)]
        ).fetchone()[0]

    def claim(self, now: dt.datetime, wall_now: dt.datetime, claimer: str, limit: int, *,
              handed_over: Collection[str] = (), carry: bool = False) -> list[Action]:
        """Mark up to ``limit`` ready actions as being sent by ``claimer`` and return them.

        Outreach on the ``handed_over`` channels is marked as handed to its channel at once
        (``send_started_at``): channels whose actions left in flight are sent again in any case
        (they recognise a re-send by its key), so the mark need not wait for the send and costs
        no write of its own (``dispatch.batch``).

        ``carry``: when something was claimed, the claim's transaction is left open for the next
        ``transaction()`` to commit with its own work (``begin_carried``; the caller ends it with
        ``end_carried`` if nothing takes it over). Until then no other runner sees the claim, and a
        crash undoes it: the actions are still pending, none of them handed to a channel.
        """
        stamp = to_text(wall_now)
        if carry and not self.conn.in_transaction:
            self.begin_carried()
            try:
                rows = self._claim_rows(now, stamp, claimer, limit, handed_over)
            except BaseException:
                self.end_carried(failed=True)
                raise
            if not rows:
                self.end_carried()  # nothing claimed: nothing to carry
        else:
            with self.transaction():
                rows = self._claim_rows(now, stamp, claimer, limit, handed_over)
        actions = [_action(r) for r in rows]
        actions.sort(key=lambda a: (a.not_before, a.id))
        return actions

    def _claim_rows(self, now: dt.datetime, stamp: str, claimer: str, limit: int,
                    handed_over: Collection[str]) -> list[tuple[Any, ...]]:
        """The claiming statement (``claim``), inside the caller's transaction: the claimed rows."""
        # One statement takes the ready ones and hands them back (RETURNING gives no order: ``claim`` sorts).
        ready = ("SELECT id FROM actions WHERE status = 'pending' AND not_before <= ? "
                 "ORDER BY not_before, id LIMIT ?"
                 # PostgreSQL: workers claim side by side, each passing over the rows another is claiming.
                 + (" FOR UPDATE SKIP LOCKED" if self.dialect == "postgresql" else ""))
        if handed_over:
            channels = sorted(handed_over)
            return self.conn.execute(
                "UPDATE actions SET claimed_by = ?, claimed_at = ?, status = 'sending', send_started_at = "
                f"CASE WHEN kind = 'outreach' AND channel IN ({', '.join('?' * len(channels))}) THEN ? END "
                f"WHERE id IN ({ready}) RETURNING {_ACTION_COLUMNS}",
                [claimer, stamp, *channels, stamp, to_text(now), limit],
            ).fetchall()
        return self.conn.execute(
            f"UPDATE actions SET claimed_by = ?, claimed_at = ?, status = 'sending' WHERE id IN ({ready}) "
            f"RETURNING {_ACTION_COLUMNS}",
            [claimer, stamp, to_text(now), limit],
        ).fetchall()

    def in_flight(self) -> list[tuple[int, str, dt.datetime, str | None, str, bool]]:
        """Actions claimed but never finished: (id, claimed_by, claimed_at, channel, kind, handed to the channel).

        "Handed to the channel" is true too of an action claimed for a channel whose actions left in
        flight are sent again anyway (``claim``'s ``handed_over``), whether or not it got that far.
        """
        return [
            (r[0], r[1], from_text(r[2]), r[3], r[4], r[5] is not None)
            for r in self.conn.execute(
                "SELECT id, claimed_by, claimed_at, channel, kind, send_started_at FROM actions "
                "WHERE status = 'sending'")
        ]

    def mark_send_started(self, action_id: int, wall_now: dt.datetime) -> None:
        """The action is about to be handed to its channel (inside the caller's transaction)."""
        self.conn.execute("UPDATE actions SET send_started_at = ? WHERE id = ?", [to_text(wall_now), action_id])

    def mark_sends_started(self, action_ids: Sequence[int], wall_now: dt.datetime) -> None:
        """``mark_send_started`` for a round's actions in one statement (inside the caller's transaction).

        Those the claim marked already (``claim``'s ``handed_over``) are left as they are: no write.
        """
        for start in range(0, len(action_ids), 500):
            part = list(action_ids[start:start + 500])
            self.conn.execute(f"UPDATE actions SET send_started_at = ? WHERE id IN ({', '.join('?' * len(part))}) "
                              "AND send_started_at IS NULL", [to_text(wall_now), *part])

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
                f"reference = {REFERENCE_KEPT.format(new='?', t='actions')}, attempts = attempts + ?, "
                "claimed_by = NULL, claimed_at = NULL, send_started_at = NULL, updated_at = ? "
                "WHERE id = ? AND status = 'sending' AND claimed_by = ?",
                [status.value, to_text(not_before) if not_before else None, error, reference, reference,
                 int(count_attempt),
                 to_text(now), action.id, claimer],
            )
            if cursor.rowcount != 1:
                return False
            self.append_events(events)
        return True

    def finish_sent(self, claimer: str, now: dt.datetime,
                    outcomes: Sequence[tuple[int, str | None, Sequence[Event]]]) -> set[int]:
        """Record a round's sent actions, (id, reference, evidence) each, in a few statements; returns the ids recorded.

        ``finish`` for many actions at once, inside the caller's transaction:
        only the actions ``claimer`` still holds are recorded (with their
        events, in the order given); the others change nothing, as a second
        ``finish`` would not.
        """
        if not outcomes:
            return set()
        ids = [o[0] for o in outcomes]
        held: set[int] = set()
        if not self.conn.in_transaction:
            raise RuntimeError("finish_sent needs a transaction (the one the round's outcomes are recorded in)")
        for start in range(0, len(ids), 500):
            part = ids[start:start + 500]
            held.update(r[0] for r in self.conn.execute(
                f"SELECT id FROM actions WHERE id IN ({', '.join('?' * len(part))}) AND status = 'sending' "
                "AND claimed_by = ?", [*part, claimer]))
        if not held:
            return held
        now_text = to_text(now)
        # The caller's transaction holds the write lock: no other runner can take a claim between these statements.
        _execute_rows(self.conn, _FINISH_SENT,
                      [(i, reference, now_text, claimer) for i, reference, _ in outcomes if i in held], 4)
        self._append_events([e for i, _, events in outcomes if i in held for e in events])
        return held
