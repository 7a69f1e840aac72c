"""Dates and amounts as the debtor's language writes them, from the Unicode CLDR through Babel.

A letter to a debtor with ``locale = "de_DE"`` says ``14. Juni 2026`` and
``1.234,56 €``; with ``zh_CN``, ``2026年6月14日`` and ``€1,234.56``; in
English, ``14 June 2026`` and ``€1,234.56``. The words around them (column
heads, "Total", the slip) are wording, kept in the ``letter-labels`` files
an administrator edits; how a date or an amount is written is the
language's own, so it comes from CLDR and no table of ours.

A debtor without a locale, with a bare ``en``, or with one CLDR does not
know, is written to in British English, the English the shipped letters
are written in (``Yours faithfully``, day before month).

How many decimals an amount has comes from dunning's ISO 4217 table
(``dunning.money``), never from CLDR: the two must not disagree about what
a minor unit is.

Babel is imported inside the functions: its data is large, and a command
that writes no letter should not load it.
"""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING

import attrs

from dunning import money

if TYPE_CHECKING:
    from babel import Locale

# What a letter falls back to, and what a bare "en" means: see above.
DEFAULT_LOCALE = "en_GB"


@attrs.frozen
class Formats:
    """How one letter writes dates and amounts; ``locale`` is the CLDR locale used (``de_DE``, ``en_GB``)."""

    locale: str

    def date(self, day: dt.date) -> str:
        """The date as a sentence writes it: ``14 June 2026``, ``14. Juni 2026``, ``2026年6月14日``."""
        from babel.dates import format_date  # imported where used: Babel's data is large

        return format_date(day, "long", locale=_cldr(self.locale))

    def table_date(self, day: dt.date) -> str:
        """The date in a table's narrow column: ``14 Jun 2026``, ``14.06.2026``, ``2026年6月14日``."""
        from babel.dates import format_date

        return format_date(day, "medium", locale=_cldr(self.locale))

    def amount(self, minor: int, currency: str) -> str:
        """Minor units with the currency's symbol, as the language writes them: ``1.234,56 €``, ``€1,234.56``."""
        return _amount(minor, currency, self.locale)

    def currency_name(self, currency: str) -> str:
        """The currency's name in the language: ``Euro``, ``欧元``; the ISO code when CLDR has none."""
        from babel.numbers import get_currency_name

        return get_currency_name(currency, locale=_cldr(self.locale))


def for_locale(locale: str | None) -> Formats:
    """The formats for a debtor's ``locale`` (``de_DE``, ``zh-CN``, ``en``, None)."""
    return Formats(_resolve(locale))


@lru_cache(maxsize=64)
def _resolve(locale: str | None) -> str:
    from babel import Locale, UnknownLocaleError

    wanted = (locale or "").strip().replace("-", "_")
    if not wanted or wanted.lower() == "en":
        return DEFAULT_LOCALE
    try:
        return str(Locale.parse(wanted))
    except (UnknownLocaleError, ValueError):
        return DEFAULT_LOCALE


@lru_cache(maxsize=64)
def _cldr(locale: str) -> Locale:
    from babel import Locale

    return Locale.parse(locale)


def _amount(minor: int, currency: str, locale: str) -> str:
    exponent = money.exponent(currency)
    cldr = _cldr(locale)
    # The language's currency pattern (where the symbol goes, the separators), with ISO's decimals.
    pattern = copy.copy(cldr.currency_formats["standard"])
    pattern.frac_prec = (exponent, exponent)
    text = pattern.apply(Decimal(minor).scaleb(-exponent), cldr, currency=currency, currency_digits=False)
    # A narrow no-break space (French, Swiss groups) is outside the letter's Latin font; a no-break space is not.
    return text.replace("\u202f", "\u00a0")
