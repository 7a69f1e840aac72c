"""Amounts, dates and times written the way the reader's language writes them.

English (and any locale without its own templates) gets the engine's form,
``EUR 1,234.50`` and ``1 March 2026``. Simplified Chinese gets
``人民币 1,234.50 元`` / ``1,234.50 欧元`` and ``2026年3月1日``, which is how a
Chinese business letter states them. Month and currency names come from
the Unicode CLDR through Babel, so every currency has its Chinese name.
"""

from __future__ import annotations

import datetime as dt

from dunning import money

# The languages the shipped templates are written in, as CLDR locales.
_ENGLISH, _CHINESE = "en_GB", "zh_Hans_CN"


def is_chinese(locale: str | None) -> bool:
    return (locale or "").replace("-", "_").lower() in ("zh_cn", "zh", "zh_hans", "zh_hans_cn")


def amount(minor: int, currency: str, locale: str | None) -> str:
    """``EUR 1,234.50``; for Chinese readers ``人民币 1,234.50 元`` or ``1,234.50 欧元``."""
    if not is_chinese(locale):
        return money.display(minor, currency)
    figure = money.format_minor(minor, currency, grouping=True)
    if currency == "CNY":
        return f"人民币 {figure} 元"
    from babel.numbers import get_currency_name  # imported where used: Babel's data is large

    name = get_currency_name(currency, locale=_CHINESE)
    return f"{figure} {name}" if name != currency else f"{currency} {figure}"


def date(day: dt.date, locale: str | None) -> str:
    """``1 March 2026``; for Chinese readers ``2026年3月1日``."""
    from babel.dates import format_date  # imported where used: Babel's data is large

    return format_date(day, "long", locale=_CHINESE if is_chinese(locale) else _ENGLISH)


def moment(when: dt.datetime, locale: str | None) -> str:
    """A date and a time of day in ``when``'s own zone: ``4 March 2026, 17:00``; ``2026年3月4日 17:00``."""
    separator = " " if is_chinese(locale) else ", "
    return f"{date(when.date(), locale)}{separator}{when:%H:%M}"
