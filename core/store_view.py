"""The store as plugins see it: typed, read-only.

A plugin reads the core's tables through ``ctx.store`` (a ``StoreView``) and
writes them only through the operations the contexts offer (an attempt, an
evidence event, a payment through ``dunning.operations``); its own tables it
writes through ``ctx.db`` inside ``ctx.transaction()``. ``ReadOnlyStore``
hands on exactly the methods ``StoreView`` names, so a write through the
view is an ``AttributeError``, not a quiet change behind the evidence log.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import sqlite_utils

    from dunning.checkpoints import Checkpoint
    from dunning.models import Action, Case, Contact, Debtor, Event, Hold, Obligation, Payment, Promise
    from dunning.priority import CaseFacts
    from dunning.store import Store


class StoreView(Protocol):
    """What a plugin may read of the core's tables. ``case`` and ``action`` raise ``dunning.NotFound``."""

    def case(self, case_id: int) -> Case: ...
    def cases(self, *, stage: str | None = None, status: str | None = None, limit: int | None = None) -> list[Case]: ...
    def debtor(self, debtor_id: str) -> Debtor | None: ...
    def contacts(self, debtor_id: str) -> list[Contact]: ...
    def contact(self, contact_id: int) -> Contact: ...
    def obligations(self, case_id: int) -> list[Obligation]: ...
    def payments(self, case_id: int) -> list[Payment]: ...
    def payment_reference_exists(self, case_id: int, reference: str) -> bool: ...
    def promises(self, case_id: int) -> list[Promise]: ...
    def promises_due_on(self, day: dt.date, zone: dt.tzinfo,
                        statuses: Iterable[str] = ("pending",)) -> list[Promise]: ...
    def has_pending_promise(self, case_id: int, now: dt.datetime) -> bool: ...
    def holds(self, case_id: int, *, active_on: dt.date | None = None) -> list[Hold]: ...
    def action(self, action_id: int) -> Action: ...
    def actions(self, *, case_id: int | None = None, statuses: Iterable[str] | None = None) -> list[Action]: ...
    def ended_unsent(self, keys: Iterable[str]) -> set[str]: ...
    def events(self, *, case_id: int | None = None, kind: str | None = None, limit: int | None = None,
               after_seq: int = 0) -> list[Event]: ...
    def last_seq(self) -> int: ...
    def latest_checkpoint(self) -> Checkpoint | None: ...
    def opt_outs(self, debtor_id: str, channel: str | None = None) -> list[tuple[str, str | None]]: ...
    def attempts(self, debtor_id: str, since: dt.datetime, *, excluding_key: str | None = None
                 ) -> list[tuple[dt.datetime, str, str | None, str, bool | None]]: ...
    def signals(self, case_id: int) -> list[tuple[str, dt.datetime, str, str | None]]: ...
    def priority_facts(self, case: Case, today: dt.date, zone: dt.tzinfo = dt.UTC) -> CaseFacts: ...
    def cases_by_id(self, case_ids: Sequence[int]) -> dict[int, Case]: ...
    def priority_facts_of(self, cases: Sequence[Case], today: dt.date, zone: dt.tzinfo = dt.UTC,
                          obligations: dict[int, list[Obligation]] | None = None) -> dict[int, CaseFacts]: ...


# The names ReadOnlyStore hands on: StoreView's methods, and nothing else.
VIEW_METHODS: frozenset[str] = frozenset(
    name for name in vars(StoreView) if not name.startswith("_") and callable(vars(StoreView)[name]))


class ReadOnlyStore:
    """A ``StoreView`` over the open store: its read methods, no others, no attributes to set."""

    __slots__ = ("_store",)

    def __init__(self, store: Store):
        object.__setattr__(self, "_store", store)

    def __getattr__(self, name: str) -> Any:
        if name in VIEW_METHODS:
            return getattr(self._store, name)
        raise AttributeError(f"the store view is read-only and has no {name!r}: read through its methods, write "
                             "your own tables through ctx.db in ctx.transaction(), the core's through the operations")

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("the store view is read-only")

    def __dir__(self) -> list[str]:
        return sorted(VIEW_METHODS)

    def __repr__(self) -> str:
        return f"ReadOnlyStore({self._store.path!r})"


def read_only(store: Any) -> Any:
    """``store`` as a ``StoreView``: wraps the core's ``Store``; a view (or None) stays as it is."""
    if store is None or isinstance(store, ReadOnlyStore):
        return store
    return ReadOnlyStore(store)


def underlying(view: Any) -> Store:
    """The core's store behind a view, for the core's own operations a context offers."""
    return view._store if isinstance(view, ReadOnlyStore) else view  # type: ignore[no-any-return]


@contextlib.contextmanager
def plugin_transaction(view: Any, db: sqlite_utils.Database) -> Iterator[None]:
    """A write transaction for a plugin's own tables (and the core's writes a context offers).

    The core store's when the context has one, so the events it holds
    commit with it; else one on ``db``. Joins a transaction already open,
    so a plugin may call it inside ``send`` or ``stage_entered`` where the
    core has one.
    """
    if view is not None:
        with underlying(view).transaction():
            yield
        return
    from dunning.store import write_transaction  # only a bare context without the store lands here

    with write_transaction(db):
        yield
