"""The store as the rules read it while a batch is delivered: the batch's facts from memory, the rest from the file.

The contact rules (``check_action``) read the case's debtor, contacts and
open items for every action; delivery has already read them for the whole
batch (``Store.delivery_facts``), so they are handed out again instead of
queried again. The contact attempts the caps count come from the round's
``RoundAttempts`` when it has them (read inside the transaction that
records the new ones); everything else is read from the store as it is now.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from dunning.dispatch.round_attempts import Attempt, RoundAttempts
from dunning.models import Case, Contact, Debtor, Hold, Obligation
from dunning.store import Store
from dunning.store.delivery_facts import DeliveryFacts


class FactsView:
    """A store whose reads of the batch's cases come from ``facts``; any other read goes to ``store``."""

    def __init__(self, store: Store, facts: DeliveryFacts, attempts: RoundAttempts | None = None):
        self._store, self._facts, self._attempts = store, facts, attempts

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def case(self, case_id: int) -> Case:
        found = self._facts.cases.get(case_id)
        return found if found is not None else self._store.case(case_id)

    def debtor(self, debtor_id: str) -> Debtor | None:
        found = self._facts.debtors.get(debtor_id)
        return found if found is not None else self._store.debtor(debtor_id)

    def contacts(self, debtor_id: str) -> list[Contact]:
        if debtor_id in self._facts.contacts:
            return self._facts.contacts_of(debtor_id)
        return self._store.contacts(debtor_id)

    def obligations(self, case_id: int) -> list[Obligation]:
        if case_id in self._facts.obligations:
            return self._facts.obligations_of(case_id)
        return self._store.obligations(case_id)

    def holds(self, case_id: int, *, active_on: dt.date | None = None) -> list[Hold]:
        if case_id not in self._facts.holds:
            return self._store.holds(case_id, active_on=active_on)
        every = self._facts.holds[case_id]
        return [h for h in every if h.active_on(active_on)] if active_on is not None else list(every)

    def opt_outs(self, debtor_id: str, channel: str | None = None) -> list[tuple[str, str | None]]:
        if debtor_id not in self._facts.opt_outs:
            return self._store.opt_outs(debtor_id, channel)
        return [(name, contact) for name, contact in self._facts.opt_outs[debtor_id]
                if channel is None or name == channel]

    def attempts(self, debtor_id: str, since: dt.datetime, *, excluding_key: str | None = None) -> list[Attempt]:
        read = self._attempts.attempts(debtor_id, since, excluding_key) if self._attempts is not None else None
        return read if read is not None else self._store.attempts(debtor_id, since, excluding_key=excluding_key)
