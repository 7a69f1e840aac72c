"""The contact attempts a round's rules count, read once, and the attempts the round adds, written together.

The frequency caps read each debtor's attempts of the last days, and each
action that passes counts one more. Within a round each debtor comes up
once, so inside the round's transaction (which holds the write lock: no
other runner adds an attempt meanwhile) the attempts read at its start are
still all there are for every debtor in it; the round's own attempts are
written at the end of that same transaction, so two runners still cannot
both pass the last allowed call.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from dunning import calendar
from dunning.compliance.rules import LOOKBACK
from dunning.store import Store
from dunning.store.contact_attempts import KeyedAttempt

# An attempt as ``Store.attempts`` gives it: (at, channel, contact, role, connected).
Attempt = tuple[dt.datetime, str, str | None, str, bool | None]


class RoundAttempts:
    """The round's debtors' recent attempts, and the attempts and sends the round counts, to write together."""

    def __init__(self, store: Store, debtor_ids: Iterable[str], now: dt.datetime):
        self.since = now - LOOKBACK
        self._known: dict[str, list[KeyedAttempt]] = store.attempts_of(sorted(set(debtor_ids)), self.since)
        self._started: list[int] = []
        self._counted: list[tuple[str, str, int, str, str, dt.datetime, str]] = []
        self._added: dict[str, list[KeyedAttempt]] = {}  # by debtor: what ``count`` added

    def attempts(self, debtor_id: str, since: dt.datetime, excluding_key: str | None) -> list[Attempt] | None:
        """``Store.attempts`` from what was read, or None when it was not read (another debtor, further back)."""
        known = self._known.get(debtor_id)
        if known is None or since < self.since:
            return None
        added = self._added.get(debtor_id)
        if added:
            keys = {a[5] for a in known}
            known = sorted([*known, *(a for a in added if a[5] not in keys)], key=lambda a: a[0])
        # ``key != excluding_key`` as SQL's ``key IS NOT ?``: None excludes the attempts without a key.
        return [(at, channel, contact, role, connected) for at, channel, contact, role, connected, key in known
                if at >= since and key != excluding_key]

    def count(self, action_id: int, key: str, debtor_id: str, case_id: int, channel: str, role: str,
              at: dt.datetime) -> None:
        """The action is handed to its channel, and its attempt counts (written by ``write``)."""
        self._started.append(action_id)
        self._counted.append((key, debtor_id, case_id, channel, role, at, channel))
        # Should the debtor come up again in this round, their next action's rules count this one too.
        self._added.setdefault(debtor_id, []).append((at, channel, None, role, None, key))

    def write(self, store: Store) -> None:
        """What ``count`` noted, inside the round's transaction."""
        if self._started:
            store.mark_sends_started(self._started, calendar.utc_now())
            store.record_attempts(self._counted)
        self._started, self._counted, self._added = [], [], {}
