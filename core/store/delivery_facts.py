"""What delivering a batch of actions reads about their cases, read once for the whole batch.

Delivery re-checks each action against its case just before sending: the
case, the debtor, their contacts, holds, opt-outs and promises, and the
open items its message speaks of. Read one action at a time that is a dozen
queries per action, several of them twice; ``delivery_facts`` reads them for
a whole batch with one ``IN (...)`` query per table, and ``DeliveryFacts``
hands each fact out as the single-row methods of the store would.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import attrs

from dunning.calendar import from_text, to_text
from dunning.models import Case, Contact, Debtor, Hold, Obligation, PromiseStatus
from dunning.store.connection import StoreConnection
from dunning.store.errors import NotFound
from dunning.store.rows import _CASE_COLUMNS, _case, _date

T = TypeVar("T")


@attrs.frozen
class DeliveryFacts:
    """A batch's cases and what the re-checks read about them, as of one moment."""

    cases: dict[int, Case]
    debtors: dict[str, Debtor]
    contacts: dict[str, list[Contact]]  # by debtor: the active ones, in id order
    holds: dict[int, list[Hold]]  # by case: every hold, in id order
    opt_outs: dict[str, list[tuple[str, str | None]]]  # by debtor: the standing ones, in id order
    pending_promise: frozenset[int]  # cases with a promise made by the moment, neither kept nor broken
    promise_statuses: dict[int, PromiseStatus]  # the promises the batch's reminders are for
    obligations: dict[int, list[Obligation]]  # by case, by due date
    # Each model built, by the row it was built from: a later read of the same batch (its next round)
    # hands out the same (frozen) model for a row that has not changed, instead of building it again.
    built: dict[tuple[Any, ...], Any] = attrs.field(factory=dict, eq=False, repr=False)

    def case(self, case_id: int) -> Case:
        found = self.cases.get(case_id)
        if found is None:
            raise NotFound(f"no case with id {case_id}")
        return found

    def debtor(self, debtor_id: str) -> Debtor | None:
        return self.debtors.get(debtor_id)

    def contacts_of(self, debtor_id: str) -> list[Contact]:
        return list(self.contacts.get(debtor_id, ()))

    def holds_on(self, case_id: int, day: dt.date) -> list[Hold]:
        return [h for h in self.holds.get(case_id, ()) if h.active_on(day)]

    def opt_outs_of(self, debtor_id: str) -> list[tuple[str, str | None]]:
        return list(self.opt_outs.get(debtor_id, ()))

    def has_pending_promise(self, case_id: int) -> bool:
        return case_id in self.pending_promise

    def promise_status(self, promise_id: int) -> PromiseStatus:
        found = self.promise_statuses.get(promise_id)
        if found is None:
            raise NotFound(f"no promise with id {promise_id}")
        return found

    def obligations_of(self, case_id: int) -> list[Obligation]:
        return list(self.obligations.get(case_id, ()))


def _marks(values: Sequence[Any]) -> str:
    return ", ".join("?" * len(values))


class DeliveryReads(StoreConnection):
    """The store's part that reads a delivery batch's facts in a few queries."""

    def delivery_facts(self, case_ids: Iterable[int], promise_ids: Iterable[int], now: dt.datetime,
                       earlier: DeliveryFacts | None = None) -> DeliveryFacts:
        """The facts of these cases (and promises) as the per-row reads would give them at ``now``.

        Every row is read again; a row the same as one ``earlier`` read (the batch's first round) gives
        the model built from it then, unchanged (models are frozen).
        """
        built: dict[tuple[Any, ...], Any] = earlier.built if earlier is not None else {}

        def model(row: tuple[Any, ...], make: Callable[[tuple[Any, ...]], T]) -> T:
            found = built.get(row)
            if found is None:
                found = built[row] = make(row)
            return found  # type: ignore[no-any-return]

        ids = sorted(set(case_ids))
        cases = {r[0]: model(r, _case) for r in self.conn.execute(
            f"SELECT {_CASE_COLUMNS} FROM cases WHERE id IN ({_marks(ids)})", ids)} if ids else {}
        debtor_ids = sorted({c.debtor_id for c in cases.values()})
        debtors: dict[str, Debtor] = {}
        contacts: dict[str, list[Contact]] = {d: [] for d in debtor_ids}
        opt_outs: dict[str, list[tuple[str, str | None]]] = {d: [] for d in debtor_ids}
        if debtor_ids:
            marks = _marks(debtor_ids)
            debtors = {r[0]: model(r, _debtor) for r in self.conn.execute(
                f"SELECT id, name, kind, country, timezone, locale, region, zone FROM debtors WHERE id IN ({marks})",
                debtor_ids)}
            for r in self.conn.execute(
                    f"SELECT debtor_id, kind, value, role, name, bad, id FROM contacts WHERE debtor_id IN ({marks}) "
                    "AND active = 1 ORDER BY id", debtor_ids):
                contacts[r[0]].append(model(r, _contact))
            for debtor_id, channel, contact in self.conn.execute(
                    f"SELECT debtor_id, channel, contact FROM opt_outs WHERE debtor_id IN ({marks}) "
                    "AND withdrawn_at IS NULL ORDER BY id", debtor_ids):
                opt_outs[debtor_id].append((channel, contact))
        holds: dict[int, list[Hold]] = {i: [] for i in ids}
        obligations: dict[int, list[Obligation]] = {i: [] for i in ids}
        pending: frozenset[int] = frozenset()
        if ids:
            marks = _marks(ids)
            for r in self.conn.execute(
                    "SELECT case_id, reason, since, until, note, released_at, id FROM holds "
                    f"WHERE case_id IN ({marks}) ORDER BY id", ids):
                holds[r[0]].append(Hold(case_id=r[0], reason=r[1], since=from_text(r[2]), until=_date(r[3]),
                                        note=r[4], released_at=from_text(r[5]) if r[5] else None, id=r[6]))
            for r in self.conn.execute(
                    "SELECT case_id, reference, amount, currency, issued_on, due_on, paid, id, closed_reason, "
                    f"closed_on, disputed_on FROM obligations WHERE case_id IN ({marks}) ORDER BY due_on, id", ids):
                obligations[r[0]].append(model(r, _obligation))
            pending = frozenset(r[0] for r in self.conn.execute(
                f"SELECT DISTINCT case_id FROM promises WHERE case_id IN ({marks}) AND status = 'pending' "
                "AND created_at <= ?", [*ids, to_text(now)]))
        promises = sorted(set(promise_ids))
        statuses = {r[0]: PromiseStatus(r[1]) for r in self.conn.execute(
            f"SELECT id, status FROM promises WHERE id IN ({_marks(promises)})", promises)} if promises else {}
        return DeliveryFacts(cases=cases, debtors=debtors, contacts=contacts, holds=holds, opt_outs=opt_outs,
                             pending_promise=pending, promise_statuses=statuses, obligations=obligations, built=built)


def _debtor(r: tuple[Any, ...]) -> Debtor:
    return Debtor(*r)


def _contact(r: tuple[Any, ...]) -> Contact:
    return Contact(debtor_id=r[0], kind=r[1], value=r[2], role=r[3], name=r[4], bad=bool(r[5]), id=r[6])


def _obligation(r: tuple[Any, ...]) -> Obligation:
    return Obligation(case_id=r[0], reference=r[1], amount=r[2], currency=r[3], issued_on=_date(r[4]),
                      due_on=_date(r[5]) or dt.date.fromisoformat(r[5]), paid=r[6], id=r[7], closed_reason=r[8],
                      closed_on=_date(r[9]), disputed_on=_date(r[10]))
