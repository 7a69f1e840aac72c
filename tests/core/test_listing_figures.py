"""A page of cases read in a few queries says what the one-case reads say.

``cases list`` sums what is overdue and not yet due in SQL (``owed_figures_of``) and reads the priority facts
of a page at a time (``priority_facts_of``); ``cases show``, the rules and the messages use ``dunning.owed`` and
``priority_facts`` one case at a time. Here both run over varied cases: paid, part-paid, closed and disputed
items, due yesterday, today and tomorrow, payments (some reversed), promises due today, good and bad numbers.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from dunning.owed import owed_on
from dunning.store import Store

TODAY = dt.date(2026, 3, 10)
NOW = "2026-03-01T09:00:00Z"
CASES = 300


@pytest.fixture
def store(dunning_database: str | Path) -> Iterator[Store]:
    store = Store(dunning_database)  # on SQLite, then on PostgreSQL
    rng = random.Random(16)
    conn = store.conn
    with store.transaction():
        for i in range(1, CASES + 1):
            debtor = f"D{i}"
            conn.execute("INSERT INTO debtors (id, name, kind, created_at, updated_at) VALUES (?, ?, 'person', ?, ?)",
                         [debtor, f"Debtor {i}", NOW, NOW])
            balance = 0
            for n in range(rng.randint(0, 4)):
                amount = rng.choice([1000, 2500, 9999])
                paid = rng.choice([0, 0, amount // 2, amount])
                due = TODAY + dt.timedelta(days=rng.choice([-30, -1, 0, 1, 20]))
                closed = rng.random() < 0.15
                disputed = rng.random() < 0.15
                balance += amount - paid
                conn.execute(
                    "INSERT INTO obligations (case_id, debtor_id, reference, amount, currency, issued_on, due_on, "
                    "paid, closed_reason, closed_on, disputed_on) VALUES (?, ?, ?, ?, 'EUR', NULL, ?, ?, ?, ?, ?)",
                    [i, debtor, f"INV-{i}-{n}", amount, due.isoformat(), paid, "credited" if closed else None,
                     TODAY.isoformat() if closed else None, TODAY.isoformat() if disputed else None])
            conn.execute(
                "INSERT INTO cases (id, debtor_id, currency, stage, status, balance, anchor_due_on, opened_on, "
                "broken_promises, account_locked) VALUES (?, ?, 'EUR', 'internal', 'open', ?, ?, ?, 0, 0)",
                [i, debtor, balance, (TODAY - dt.timedelta(days=30)).isoformat(), "2026-01-01"])
            for _ in range(rng.choice([0, 0, 1, 2])):
                conn.execute("INSERT INTO payments (case_id, amount, at, reference, created_at, reversed_at) "
                             "VALUES (?, 100, ?, NULL, ?, ?)",
                             [i, NOW, NOW, NOW if rng.random() < 0.3 else None])
            if rng.random() < 0.3:
                due_at = rng.choice(["2026-03-10T15:00:00Z", "2026-03-11T15:00:00Z", "2026-03-09T23:00:00Z"])
                conn.execute("INSERT INTO promises (case_id, amount, due_at, status, created_at) "
                             "VALUES (?, 500, ?, ?, ?)", [i, due_at, rng.choice(["pending", "kept"]), NOW])
            for n in range(rng.choice([0, 1, 2])):
                conn.execute("INSERT INTO contacts (debtor_id, kind, value, role, bad, active) "
                             "VALUES (?, ?, ?, ?, ?, ?)",
                             [debtor, rng.choice(["mobile", "home", "email"]), f"+4477009{i:03d}{n}",
                              rng.choice(["debtor", "debtor", "third_party"]), rng.choice([0, 1]),
                              rng.choice([1, 1, 0])])
    yield store
    store.close()


def test_a_page_of_owed_figures_is_what_dunning_owed_says(store: Store) -> None:
    cases = [c for page in store.case_pages(page=64) for c in page]
    figures = store.owed_figures_of([c.id or 0 for c in cases], TODAY)
    assert len(cases) == CASES
    for case in cases:
        owed = owed_on(store.obligations(case.id or 0), TODAY, "EUR")
        assert figures[case.id or 0] == (owed.overdue, owed.not_yet_due), case.id
    assert {f != (0, 0) for f in figures.values()} == {True, False}  # both kinds are in the sample


def test_a_page_of_priority_facts_is_what_each_case_gives(store: Store) -> None:
    cases = [c for page in store.case_pages(page=64) for c in page]
    for zone in (dt.UTC, dt.timezone(dt.timedelta(hours=-5))):
        page_facts = store.priority_facts_of(cases, TODAY, zone)
        obligations = store.obligations_of([c.id or 0 for c in cases])
        assert store.priority_facts_of(cases, TODAY, zone, obligations) == page_facts
        for case in cases:
            assert page_facts[case.id or 0] == store.priority_facts(case, TODAY, zone), case.id
    seen = {name for facts in page_facts.values() for name in facts.reasons()}
    assert seen == {"first payment missed", "promise due today", "partial payer", "lost contact"}
