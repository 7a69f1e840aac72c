"""What every template sees about what is owed, and what a third party may see of it (pure, no store)."""

from __future__ import annotations

import datetime as dt

import pytest

from dunning.models import Case, Debtor, DebtorKind, Obligation
from dunning.policy import PolicyError, load_policy, load_policy_text
from dunning.templates import DEBT_DETAILS, audience_context, case_context

TODAY = dt.date(2026, 4, 1)
CASE = Case(id=7, debtor_id="D1", currency="GBP", balance=75000, anchor_due_on=dt.date(2026, 3, 1),
            creditor_reference="RF4700000007")
DEBTOR = Debtor(id="D1", name="Lee Chan", kind=DebtorKind.PERSON)
OBLIGATIONS = [
    Obligation(case_id=7, reference="P-1", amount=40000, currency="GBP", issued_on=None, due_on=dt.date(2026, 3, 1)),
    Obligation(case_id=7, reference="P-2", amount=35000, currency="GBP", issued_on=None, due_on=dt.date(2026, 4, 15)),
    Obligation(case_id=7, reference="P-0", amount=10000, currency="GBP", issued_on=None, due_on=dt.date(2026, 2, 1),
               paid=10000),
    # Due today: due, not late.
    Obligation(case_id=7, reference="P-T", amount=5000, currency="GBP", issued_on=None, due_on=TODAY, paid=5000),
]


def context(**extra):
    return case_context(CASE, DEBTOR, OBLIGATIONS, 31, TODAY, {"step": "s"}, debt_kind="loan") | extra


def test_every_template_gets_the_three_figures_on_the_businesss_day():
    c = context()
    assert (c["overdue"], c["not_yet_due"], c["balance"]) == ("GBP 400.00", "GBP 350.00", "GBP 750.00")
    assert (c["overdue_minor"], c["not_yet_due_minor"], c["balance_minor"]) == (40000, 35000, 75000)
    assert c["debt_kind"] == "loan" and c["creditor_reference"] == "RF47 0000 0007"
    assert c["next_due_on"] == dt.date(2026, 4, 15)


def test_the_items_say_which_are_overdue_and_by_how_many_days():
    c = context()
    assert [(i["reference"], i["due_on"], i["open"], i["overdue"], i["days_overdue"]) for i in c["obligations"]] == [
        ("P-1", dt.date(2026, 3, 1), "GBP 400.00", True, 31),
        ("P-2", dt.date(2026, 4, 15), "GBP 350.00", False, 0),
    ]
    assert [i["reference"] for i in c["overdue_obligations"]] == ["P-1"]
    assert [i["reference"] for i in c["later_obligations"]] == ["P-2"]


def test_an_item_due_today_is_due_not_overdue():
    due_today = Obligation(case_id=7, reference="T", amount=100, currency="GBP", issued_on=None, due_on=TODAY)
    c = case_context(CASE, DEBTOR, [due_today], 0, TODAY)
    assert (c["overdue_minor"], c["not_yet_due_minor"]) == (0, 100)
    assert c["debt_kind"] == "invoice"


def test_a_third_party_without_disclosure_sees_none_of_it():
    kept = audience_context(context(), "contacts", "location")
    for key in ("overdue", "overdue_minor", "not_yet_due", "not_yet_due_minor", "balance", "obligations",
                "overdue_obligations", "later_obligations", "next_due_on", "creditor_reference", "debt_kind"):
        assert key in DEBT_DETAILS and key not in kept, key
    assert kept["debtor"] is DEBTOR and kept["case_id"] == 7


def test_a_third_party_told_of_the_debt_sees_the_overdue_amount():
    told = audience_context(context(), "contacts", "debt")
    assert told["overdue"] == "GBP 400.00" and told["balance"] == "GBP 750.00"


def test_a_policy_names_its_kind_of_debt_and_a_misspelt_one_is_refused():
    assert load_policy("consumer-loans").debt_kind == "loan"
    assert load_policy("trade-receivables").debt_kind == "invoice"
    assert load_policy_text('name = "p"\n', "p.toml").debt_kind == "invoice"
    with pytest.raises(PolicyError) as refused:
        load_policy_text('name = "p"\ndebt_kind = "lone"\n', "p.toml")
    assert str(refused.value) == "p.toml: 'debt_kind' must be one of invoice, loan, got 'lone'"
