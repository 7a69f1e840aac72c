"""How a payment splits over a case's open items: the pure rule, without a database."""

from __future__ import annotations

import datetime as dt

import pytest

from dunning.ledger.allocation import OpenItem, allocate, described
from dunning.ledger.settings import DEFAULT_ALLOCATION, LedgerSettingsError, effective_order, parse_ledger

OLD = OpenItem("principal", 1, "INV-1", dt.date(2026, 1, 10), 10000)
NEW = OpenItem("principal", 2, "INV-2", dt.date(2026, 2, 10), 5000)
INTEREST_NEW = OpenItem("interest", 2, "INV-2", dt.date(2026, 2, 10), 300, charge_id=11)
INTEREST_OLD = OpenItem("interest", 1, "INV-1", dt.date(2026, 1, 10), 700, charge_id=12)
FEE = OpenItem("fee", 1, "INV-1", dt.date(2026, 1, 10), 500, charge_id=13)
COMPENSATION = OpenItem("compensation", 2, "INV-2", dt.date(2026, 2, 10), 4000, charge_id=14)
ITEMS = [NEW, INTEREST_NEW, OLD, FEE, INTEREST_OLD, COMPENSATION]


def split(order: tuple[str, ...], amount: int) -> list[tuple[str, str, int]]:
    return [(p.item.kind, p.item.reference, p.amount) for p in allocate(ITEMS, order, amount).parts]


def test_the_default_order_pays_fees_then_interest_then_the_oldest_principal():
    assert split(DEFAULT_ALLOCATION, 6000) == [
        ("fee", "INV-1", 500), ("compensation", "INV-2", 4000),  # fees: the fee and the fixed compensation
        ("interest", "INV-1", 700), ("interest", "INV-2", 300),  # interest, oldest item first
        ("principal", "INV-1", 500),  # what is left goes to the oldest invoice
    ]


def test_principal_first_pays_every_invoice_before_any_charge():
    assert split(("principal", "fees", "interest"), 15600) == [
        ("principal", "INV-1", 10000), ("principal", "INV-2", 5000), ("fee", "INV-1", 500),
        ("compensation", "INV-2", 100)]


def test_what_is_left_after_every_item_is_the_surplus():
    allocation = allocate(ITEMS, DEFAULT_ALLOCATION, 25000)
    assert allocation.applied == 20500 and allocation.surplus == 4500
    assert sum(p.amount for p in allocation.parts) + allocation.surplus == 25000


def test_the_event_records_each_obligation_and_charge():
    parts = allocate([OLD, FEE], DEFAULT_ALLOCATION, 1000).parts
    assert described(parts) == [
        {"reference": "INV-1", "kind": "fee", "amount": 500, "obligation_id": 1, "charge_id": 13},
        {"reference": "INV-1", "kind": "principal", "amount": 500, "obligation_id": 1}]


@pytest.mark.parametrize("amount", [0, -5])
def test_an_amount_must_be_positive(amount: int):
    with pytest.raises(ValueError, match="must be positive"):
        allocate(ITEMS, DEFAULT_ALLOCATION, amount)


def test_an_order_must_name_every_group_once():
    with pytest.raises(ValueError, match=r"each of fees, interest, principal once"):
        allocate(ITEMS, ("fees", "principal"), 100)


def test_a_profile_that_wants_principal_first_moves_it_to_the_front():
    assert effective_order(("interest", "fees", "principal"), principal_first=True) == (
        "principal", "interest", "fees")
    assert effective_order(("interest", "fees", "principal"), principal_first=False) == (
        "interest", "fees", "principal")


def test_the_ledger_table_is_checked_and_names_its_key():
    assert parse_ledger({}, "d.toml").allocation == DEFAULT_ALLOCATION
    assert parse_ledger({"allocation": ["principal", "interest", "fees"]}, "d.toml").allocation == (
        "principal", "interest", "fees")
    with pytest.raises(LedgerSettingsError, match=r"'ledger\.allocation' must list each of"):
        parse_ledger({"allocation": ["fees", "fees", "principal"]}, "d.toml")
