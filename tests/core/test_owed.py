"""What is owed, without a database: overdue, not yet due, balance."""

from __future__ import annotations

import datetime as dt

from dunning.models import Obligation
from dunning.owed import owed_on

D = dt.date


def ob(reference: str, amount: int, due_on: dt.date, paid: int = 0) -> Obligation:
    return Obligation(case_id=1, reference=reference, amount=amount, currency="GBP", issued_on=None,
                      due_on=due_on, paid=paid)


def test_one_instalment_overdue_and_one_due_later():
    owed = owed_on([ob("I-2", 40000, D(2026, 5, 1)), ob("I-1", 40000, D(2026, 4, 1))], D(2026, 4, 2), "GBP")
    assert (owed.overdue, owed.not_yet_due, owed.balance) == (40000, 40000, 80000)
    assert [i.reference for i in owed.items] == ["I-1", "I-2"]
    assert owed.items[0].overdue and owed.items[0].days_overdue == 1
    assert not owed.items[1].overdue and owed.items[1].days_overdue == 0
    assert owed.next_due_on == D(2026, 5, 1)


def test_on_its_due_date_an_item_is_due_not_overdue():
    owed = owed_on([ob("A", 10000, D(2026, 4, 1))], D(2026, 4, 1), "GBP")
    assert (owed.overdue, owed.not_yet_due) == (0, 10000)


def test_only_what_is_still_open_counts_and_paid_items_drop_out():
    owed = owed_on([ob("A", 10000, D(2026, 3, 1), paid=2500), ob("B", 5000, D(2026, 3, 5), paid=5000)],
                   D(2026, 4, 1), "GBP")
    assert owed.overdue == 7500 and owed.not_yet_due == 0
    assert [i.reference for i in owed.items] == ["A"]
    assert owed.overdue_items[0].open == 7500 and owed.next_due_on is None
