"""The import's amounts worked out in integers (``importer._amount``) are ``money.parse``'s, message included."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dunning import importer, money


def _either(call: object, *args: str) -> int | str:
    try:
        return call(*args)  # type: ignore[operator]
    except money.MoneyError as exc:
        return f"error: {exc}"


# Amounts as files write them, and the near misses: signs, separators, spaces, too many decimals or digits.
_AMOUNTS = st.one_of(
    st.from_regex(r"[0-9]{1,17}(\.[0-9]{0,5})?", fullmatch=True),
    st.from_regex(r"[-+ ]?[0-9,.]{1,12}[ ]?", fullmatch=True),
    st.text(alphabet="0123456789.,- ٣", max_size=10),
)


@settings(max_examples=1500, deadline=None)
@given(_AMOUNTS, st.sampled_from(money.currencies()))
def test_amounts_are_money_parses(text: str, currency: str) -> None:
    assert _either(importer._amount, text, currency) == _either(money.parse, text, currency)


@pytest.mark.parametrize(("text", "currency", "minor"), [
    ("12.5", "EUR", 1250), ("12.50", "EUR", 1250), ("12", "EUR", 1200), ("007.05", "EUR", 705), ("0", "EUR", 0),
    ("1500", "JPY", 1500), ("1.234", "KWD", 1234), ("1,234.50", "EUR", 123450), ("1.500", "EUR", 150),
])
def test_plain_amounts(text: str, currency: str, minor: int) -> None:
    assert importer._amount(text, currency) == minor == money.parse(text, currency)


def test_refused_amounts_keep_their_messages() -> None:
    with pytest.raises(money.MoneyError, match="more decimals than EUR allows"):
        importer._amount("1.234", "EUR")
    with pytest.raises(money.MoneyError, match="too large an amount"):
        importer._amount("1234567890123456", "EUR")
