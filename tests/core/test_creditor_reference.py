"""The payment reference a debtor quotes: ISO 11649, one per case, stored on the case, backfilled for old cases."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from pathlib import Path

import sqlite_utils
from hypothesis import given
from hypothesis import strategies as st
from stdnum import iso11649

import pytest

from dunning import creditor_reference
from dunning.migrations import migrations
from dunning.store import Store
from dunning.runtime import Runtime


@pytest.fixture
def dunning_runtime(dunning_database: str | Path, dunning_runtime: Callable[..., Runtime]) -> Callable[..., Runtime]:
    """Every runtime here opens its store on SQLite, then (the test's second run) on PostgreSQL. The database is
    asked for first, so it outlives the runtimes: they are closed before it is dropped."""
    return functools.partial(dunning_runtime, database=dunning_database)


@given(st.integers(min_value=0, max_value=10**12))
def test_every_case_id_gives_a_valid_reference_that_names_it(case_id: int):
    reference = creditor_reference.for_case(case_id)
    assert iso11649.validate(reference) == reference and reference.startswith("RF")
    assert int(reference[4:]) == case_id
    assert creditor_reference.for_case(case_id) == reference  # derived, not drawn


def test_one_mistyped_or_swapped_character_fails_the_check():
    reference = creditor_reference.for_case(1234)
    # By hand (ISO 7064 mod 97-10): 98 - (0000 1234 + "RF" as 2715 + 00) mod 97 = 54.
    assert reference == "RF5400001234"
    assert not creditor_reference.is_valid("RF5400001235")
    assert not creditor_reference.is_valid("RF5400001243")


def test_the_printed_form_is_in_groups_of_four():
    assert creditor_reference.printed(creditor_reference.for_case(1)) == "RF74 0000 0001"


@given(st.integers(min_value=0, max_value=10**12), st.sampled_from(["", " ", "-", "."]))
def test_the_printed_form_is_the_one_python_stdnum_prints(case_id: int, separator: str):
    # Printed without python-stdnum (`cases show` does not import it): the same as its iso11649.format.
    reference = creditor_reference.for_case(case_id)
    typed = separator.join([reference[:4].lower(), reference[4:]])
    assert creditor_reference.printed(typed) == iso11649.format(typed)
    assert creditor_reference.printed(reference) == iso11649.format(reference)


def test_a_new_case_gets_its_reference_when_the_store_opens_it(case_factory, dunning_runtime):
    rt = dunning_runtime()
    first, second = case_factory(rt), case_factory(rt)
    assert first.creditor_reference == creditor_reference.for_case(first.id)
    assert second.creditor_reference == creditor_reference.for_case(second.id) != first.creditor_reference


def test_the_migration_gives_every_existing_case_its_reference(tmp_path: Path):
    path = tmp_path / "old.db"
    db = sqlite_utils.Database(path)
    migrations.apply(db, stop_before="m009_creditor_reference")
    now = dt.datetime(2026, 3, 1, tzinfo=dt.UTC).isoformat()
    db.execute("INSERT INTO debtors (id, name, kind, created_at, updated_at) VALUES ('D1', 'Acme', 'company', ?, ?)",
               [now, now])
    for currency in ("EUR", "GBP", "USD"):
        db.execute("INSERT INTO cases (debtor_id, currency, stage, status, balance, opened_on) "
                   "VALUES ('D1', ?, 'internal', 'open', 0, '2026-03-01')", [currency])
    db.conn.commit()
    db.close()
    store = Store(path)
    try:
        assert [c.creditor_reference for c in store.cases()] == [creditor_reference.for_case(i) for i in (1, 2, 3)]
    finally:
        store.close()
