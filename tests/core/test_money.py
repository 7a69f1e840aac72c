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


@pytest.mark.parametrize("text", ["８９００.００", "١٢٣.٤٥", "१२३", "12３.00", "1,２34.00"])
def test_amounts_are_ascii_digits_only(text: str) -> None:
    with pytest.raises(money.MoneyError, match="not an amount"):
        money.parse(text, "EUR")


def test_amounts_have_at_most_fifteen_integer_digits() -> None:
    assert money.parse("999,999,999,999,999.99", "EUR") == 99999999999999999
    for too_large in ("1000000000000000.00", "1,000,000,000,000,000", "-1000000000000000"):
        with pytest.raises(money.MoneyError, match="too large an amount"):
            money.parse(too_large, "EUR")
    with pytest.raises(money.MoneyError, match="too large an amount"):
        money.parse(10**15, "JPY")
    with pytest.raises(money.MoneyError, match="not an amount"):
        money.parse(True, "EUR")  # type: ignore[arg-type]


def test_unknown_currency() -> None:
    with pytest.raises(money.MoneyError, match="unknown currency 'XYZ'"):
        money.parse("1.00", "XYZ")


@given(st.integers(min_value=0, max_value=10**15 - 1), st.sampled_from(["EUR", "JPY", "KWD", "CNY"]))
def test_format_and_parse_round_trip(minor: int, currency: str) -> None:
    assert money.parse(money.format_minor(minor, currency), currency) == minor
    assert money.parse(money.format_minor(minor, currency, grouping=True), currency) == minor


def test_display() -> None:
    assert money.display(123450, "EUR") == "EUR 1,234.50"
