"""A round's outcomes recorded together, at the end of the round's transaction.

One by one, every outcome is an UPDATE of its action and a pass of the hash
chain for its events. Inside a round's transaction (which holds the write
lock) the claims cannot change hands, so whether this runner still holds
each of them is read once, when the round's first outcome is noted; each outcome is then noted
and the round's rows are written in a few statements when it ends, in the
same transaction: a crash before the commit leaves none of them, as before.

The evidence keeps its order within each case. A sent action's events go
in at once, because more of its case may follow in the round (a stage's
plugins, the accruals a send gives); any other outcome (deferred, skipped,
blocked, failed, awaiting approval, cancelled) is the last word of its
action in the round, and a debtor comes up once a round, so its events wait
for the round's end and go in with one pass of the chain.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from dunning.calendar import to_text
from dunning.models import Action, ActionStatus, Event
from dunning.store import Store
from dunning.store.actions import ClaimedOutcome


class RoundOutcomes:
    """The outcomes of a round's actions, noted as they come and written by ``write``."""

    def __init__(self, store: Store, claimer: str, action_ids: Iterable[int]):
        if not store.conn.in_transaction:
            raise RuntimeError("a round's outcomes are read and written inside the round's transaction")
        self.store, self.claimer = store, claimer
        self._ids = list(action_ids)
        # Read when the first outcome is noted (most rounds of sent outreach note none here): the round's
        # transaction holds the write lock from its start, so the claims read then are those held at the start.
        self._held: set[int] | None = None
        self._rows: list[ClaimedOutcome] = []
        self._events: list[Event] = []
        self._times: dict[dt.datetime, str] = {}  # a round's outcomes share their moments: each formatted once

    def _text(self, moment: dt.datetime) -> str:
        text = self._times.get(moment)
        if text is None:
            text = self._times[moment] = to_text(moment)
        return text

    def finish(self, action: Action, status: ActionStatus, now: dt.datetime, events: Sequence[Event], *,
               not_before: dt.datetime | None = None, error: str | None = None, reference: str | None = None,
               count_attempt: bool = False) -> bool:
        """``Store.finish`` for one action of the round: False (and nothing noted) when its claim is not held."""
        if self._held is None:
            self._held = self.store.claims_held(sorted(set(self._ids)), self.claimer)
        if action.id not in self._held:
            return False
        self._held.discard(action.id)  # a second finish of the same claim changes nothing, as with ``Store.finish``
        self._rows.append((action.id, status.value, self._text(not_before) if not_before else None, error,
                           reference, int(count_attempt), self._text(now), self.claimer))
        if status is ActionStatus.SENT:
            self.store.append_events(events)
        else:
            self._events.extend(events)
        return True

    def write(self) -> None:
        """The rows and the waiting evidence of the round, inside its transaction (a second call adds nothing)."""
        rows, events, self._rows, self._events = self._rows, self._events, [], []
        self.store.finish_claimed(rows)
        if events:
            self.store.append_events(events)
