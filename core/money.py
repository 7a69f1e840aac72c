"""Amounts as integer minor units of an ISO 4217 currency; never float."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

# Minor-unit exponents of the currencies we accept. Most use 2; the
# exceptions are listed because getting them wrong scales a debt by 100.
_EXPONENTS: dict[str, int] = {
    **{
        code: 2
        for code in (
            "AED", "AUD", "BRL", "CAD", "CHF", "CNY", "CZK", "DKK", "EGP", "EUR", "GBP", "HKD", "IDR", "ILS", "INR",
            "MXN", "MYR", "NOK", "NZD", "PHP", "PKR", "PLN", "RON", "RUB", "SAR", "SEK", "SGD", "THB", "TRY", "TWD",
            "USD", "ZAR", "NGN", "KES", "MAD", "ARS", "COP", "PEN", "UAH", "HUF", "BDT", "LKR", "QAR",
        )
    },
    **{code: 0 for code in ("JPY", "KRW", "VND", "CLP", "ISK", "UGX", "XOF", "XAF")},
    **{code: 3 for code in ("BHD", "KWD", "OMR", "JOD", "TND")},
}

# ASCII digits only: "\d" would also take "８９００.００" or "١٢٣.٤٥", which no bank statement means.
_AMOUNT = re.compile(r"^-?([0-9]{1,3}(,[0-9]{3})+|[0-9]+)(\.[0-9]+)?$")
# The integer part's digits at most: 10**15 major units fit an integer minor unit of any
# currency with room to add them up, and no real debt is larger.
MAX_INTEGER_DIGITS = 15


class MoneyError(ValueError):
    """An amount or currency that cannot be used."""


def currencies() -> list[str]:
    return sorted(_EXPONENTS)


def exponent(currency: str) -> int:
    try:
        return _EXPONENTS[currency]
    except KeyError:
        raise MoneyError(f"unknown currency {currency!r}") from None


def parse(text: str | int, currency: str) -> int:
    """Parse "1,234.50" into minor units of ``currency`` (123450 for EUR).

    Thousands separators must be commas in groups of three; more decimals
    than the currency has is an error rather than a silent rounding.
    """
    exp = exponent(currency)
    if isinstance(text, bool):
        raise MoneyError(f"not an amount: {text!r}")
    if isinstance(text, int):
        if len(str(abs(text))) > MAX_INTEGER_DIGITS:
            raise MoneyError(f"too large an amount: {text!r} (at most {MAX_INTEGER_DIGITS} digits before the point)")
        return text * 10**exp
    cleaned = str(text).strip().replace(" ", "")
    if not _AMOUNT.match(cleaned):
        raise MoneyError(f"not an amount: {text!r}")
    if len(cleaned.lstrip("-").split(".")[0].replace(",", "")) > MAX_INTEGER_DIGITS:
        raise MoneyError(f"too large an amount: {text!r} (at most {MAX_INTEGER_DIGITS} digits before the point)")
    try:
        value = Decimal(cleaned.replace(",", ""))
    except InvalidOperation:
        raise MoneyError(f"not an amount: {text!r}") from None
    scaled = value.scaleb(exp)
    if scaled != scaled.to_integral_value():
        raise MoneyError(f"{text!r} has more decimals than {currency} allows ({exp})")
    return int(scaled)


def to_decimal(minor: int, currency: str) -> Decimal:
    """Minor units as an exact Decimal of major units: 123450 EUR -> Decimal("1234.50")."""
    return Decimal(minor).scaleb(-exponent(currency))


def format_minor(minor: int, currency: str, *, grouping: bool = False) -> str:
    """Minor units back to a plain decimal string: 123450 EUR -> "1234.50"."""
    exp = exponent(currency)
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(minor), 10**exp) if exp else (abs(minor), 0)
    whole_text = f"{whole:,}" if grouping else str(whole)
    if exp == 0:
        return f"{sign}{whole_text}"
    return f"{sign}{whole_text}.{frac:0{exp}d}"


def display(minor: int, currency: str) -> str:
    """Human form for listings: "EUR 1,234.50"."""
    return f"{currency} {format_minor(minor, currency, grouping=True)}"
