from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dunning import money


@pytest.mark.parametrize(
    "text, currency, minor",
    [("1,234.50", "EUR", 123450), ("1234.5", "USD", 123450), ("12", "EUR", 1200), ("1,000", "JPY", 1000),
     ("0.125", "KWD", 125), (" 7.00 ", "GBP", 700)],
)
def test_parse(text: str, currency: str, minor: int) -> None:
    assert money.parse(text, currency) == minor


@pytest.mark.parametrize("text", ["1.234", "12,34", "abc", "1,2345.00", "", "1e3"])
def test_parse_refuses_what_it_would_have_to_guess(text: str) -> None:
    with pytest.raises(money.MoneyError):
        money.parse(text, "EUR")


def test_unknown_currency() -> None:
    with pytest.raises(money.MoneyError, match="unknown currency 'XYZ'"):
        money.parse("1.00", "XYZ")


@given(st.integers(min_value=0, max_value=10**15), st.sampled_from(["EUR", "JPY", "KWD", "CNY"]))
def test_format_and_parse_round_trip(minor: int, currency: str) -> None:
    assert money.parse(money.format_minor(minor, currency), currency) == minor
    assert money.parse(money.format_minor(minor, currency, grouping=True), currency) == minor


def test_display() -> None:
    assert money.display(123450, "EUR") == "EUR 1,234.50"
