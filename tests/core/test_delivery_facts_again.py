"""A batch's next round reads its facts again: what has not changed keeps the model built before, the rest is new."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from pathlib import Path

import pytest

from dunning.runtime import Runtime

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def dunning_runtime(dunning_database: str | Path, dunning_runtime: Callable[..., Runtime]) -> Callable[..., Runtime]:
    """Every runtime here opens its store on SQLite, then (the test's second run) on PostgreSQL."""
    return functools.partial(dunning_runtime, database=dunning_database)


def test_facts_read_again_are_the_store_s_as_it_is_now(dunning_runtime, dunning_case) -> None:
    rt = dunning_runtime()
    first, second = dunning_case(rt), dunning_case(rt)
    ids = [first.id, second.id]
    earlier = rt.store.delivery_facts(ids, [], NOW)
    # Between the rounds the first case's balance and the second debtor's contact change.
    with rt.store.transaction():
        rt.store.conn.execute("UPDATE cases SET balance = balance - 100 WHERE id = ?", [first.id])
        rt.store.conn.execute("UPDATE contacts SET bad = 1 WHERE debtor_id = ? AND kind = 'email'",
                              [second.debtor_id])
    again = rt.store.delivery_facts(ids, [], NOW, earlier)
    fresh = rt.store.delivery_facts(ids, [], NOW)

    assert again == fresh  # the same facts as a read without the earlier one
    assert again.cases[first.id].balance == earlier.cases[first.id].balance - 100
    assert again.cases[first.id] is not earlier.cases[first.id]
    assert again.cases[second.id] is earlier.cases[second.id]  # unchanged: the same model
    assert again.debtors[first.debtor_id] is earlier.debtors[first.debtor_id]
    assert again.obligations_of(first.id)[0] is earlier.obligations_of(first.id)[0]
    email = [c for c in again.contacts_of(second.debtor_id) if c.kind == "email"]
    assert [c.bad for c in email] == [True]
    assert email[0] is not next(c for c in earlier.contacts_of(second.debtor_id) if c.kind == "email")
    mobile_then, mobile_now = (next(c for c in f.contacts_of(second.debtor_id) if c.kind == "mobile")
                               for f in (earlier, again))
    assert mobile_now is mobile_then
