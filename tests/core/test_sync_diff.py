"""The daily sync's comparison of the books with the store, without a database (dunning.sync)."""

from __future__ import annotations

import datetime as dt

from dunning.models import Contact, Debtor
from dunning.sync import (CREDITED, PAID_ELSEWHERE, BooksItem, Figures, StoredContact, StoredDebtor, StoredItem,
                          diff)

DUE = dt.date(2026, 3, 1)


def books(reference: str, amount: int, open_amount: int | None = None, *, debtor: str = "D1", name: str = "Acme",
          status: str = "open", email: str = "ap@acme.example", due_on: dt.date = DUE) -> BooksItem:
    who = Debtor(id=debtor, name=name, kind="company", country="GB")
    return BooksItem(debtor=who, contacts=(Contact(debtor_id=debtor, kind="email", value=email),),
                     reference=reference, amount=amount, currency="EUR", issued_on=None, due_on=due_on,
                     open_amount=amount if open_amount is None else open_amount, status=status, line=2,
                     given=frozenset({"name", "kind", "country"}))


def stored(*items: StoredItem, contacts: tuple[StoredContact, ...] = ()) -> dict[str, StoredDebtor]:
    known = contacts or (StoredContact(1, Contact(debtor_id="D1", kind="email", value="ap@acme.example", id=1),
                                       True, "import"),)
    return {"D1": StoredDebtor(Debtor(id="D1", name="Acme", kind="company", country="GB"), known, items)}


def item(reference: str, amount: int, paid: int = 0, closed: str | None = None, case_open: bool = True) -> StoredItem:
    return StoredItem(reference, 1, case_open, amount, paid, "EUR", DUE, closed)


def test_a_new_debtor_brings_its_open_items_and_leaves_out_what_is_already_settled():
    [found], problems = diff([books("A", 100), books("B", 50, 0), books("C", 70, status=CREDITED)], {})
    assert not problems and found.new_debtor
    assert [b.reference for b in found.added] == ["A"]


def test_same_books_as_the_store_change_nothing():
    [found], _ = diff([books("A", 100, 60)], stored(item("A", 100, paid=40)))
    assert found.empty


def test_part_paid_in_the_books_is_an_adjustment_with_before_and_after():
    [found], _ = diff([books("A", 100, 60)], stored(item("A", 100)))
    [adjustment] = found.adjusted
    assert adjustment.before == Figures(100, 100, DUE) and adjustment.after == Figures(100, 60, DUE)


def test_missing_zero_and_credited_items_close_with_their_reason():
    rows = [books("B", 50, 0), books("C", 70, status=CREDITED)]
    [found], _ = diff(rows, stored(item("A", 100), item("B", 50), item("C", 70)))
    assert {(c.reference, c.reason) for c in found.closed} == {("A", PAID_ELSEWHERE), ("B", PAID_ELSEWHERE),
                                                               ("C", CREDITED)}


def test_an_item_closed_before_and_listed_open_again_reopens():
    [found], _ = diff([books("A", 100)], stored(item("A", 100, paid=100, closed=PAID_ELSEWHERE)))
    [adjustment] = found.adjusted
    assert adjustment.reopens and adjustment.before.open == 0 and adjustment.after.open == 100


def test_a_renamed_debtor_and_a_changed_email_are_reported_and_the_old_email_retires():
    [found], _ = diff([books("A", 100, name="Acme Holdings", email="billing@acme.example")], stored(item("A", 100)))
    assert [(c.field, c.before, c.after) for c in found.changes] == [("name", "Acme", "Acme Holdings")]
    assert [c.value for c in found.contacts_added] == ["billing@acme.example"]
    assert [c.contact.value for c in found.contacts_retired] == ["ap@acme.example"]


def test_a_contact_an_operator_added_is_not_retired_by_the_books():
    by_hand = StoredContact(2, Contact(debtor_id="D1", kind="mobile", value="+447700900123", id=2), True, "operator")
    own = StoredContact(1, Contact(debtor_id="D1", kind="email", value="ap@acme.example", id=1), True, "import")
    [found], _ = diff([books("A", 100)], stored(item("A", 100), contacts=(own, by_hand)))
    assert found.empty


def test_a_full_sync_closes_the_items_of_debtors_the_file_does_not_name_and_a_partial_one_does_not():
    rows = [books("X", 10, debtor="D2", name="Bolt")]
    partial, _ = diff(rows, stored(item("A", 100)))
    assert [d.debtor_id for d in partial] == ["D2"]
    full, _ = diff(rows, stored(item("A", 100)), full=True)
    assert [(d.debtor_id, [c.reference for c in d.closed]) for d in full] == [("D2", []), ("D1", ["A"])]
    assert not full[1].changes and not full[1].contacts_retired  # unnamed: its details stay


def test_items_of_a_resolved_case_are_left_to_the_books_and_a_currency_change_is_a_problem():
    [found], problems = diff([books("A", 100)], stored(item("A", 100, paid=100, case_open=False)))
    assert found.empty and not problems
    other = StoredItem("A", 1, True, 100, 0, "USD", DUE)
    _, problems = diff([books("A", 100)], stored(other))
    assert problems[0].field == "currency" and "recorded in USD" in problems[0].problem
