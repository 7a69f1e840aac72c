"""Amounts, dates and times written the way the reader's language writes them.

English (and any locale without its own rule) gets the engine's form,
``EUR 1,234.50`` and ``1 March 2026``. Simplified Chinese gets
``人民币 1,234.50 元`` / ``1,234.50 欧元`` and ``2026年3月1日``, which is how a
Chinese business letter states them.
"""

from __future__ import annotations

import datetime as dt

from dunning import money

# Currencies a Chinese reader knows by name; others keep their ISO code.
_ZH_CURRENCY_NAMES = {
    "USD": "美元", "EUR": "欧元", "GBP": "英镑", "HKD": "港元", "JPY": "日元", "TWD": "新台币", "SGD": "新加坡元",
    "AUD": "澳元", "CAD": "加元", "CHF": "瑞士法郎", "KRW": "韩元", "MYR": "林吉特", "THB": "泰铢",
}
_EN_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
              "November", "December")


def is_chinese(locale: str | None) -> bool:
    return (locale or "").replace("-", "_").lower() in ("zh_cn", "zh", "zh_hans", "zh_hans_cn")


def amount(minor: int, currency: str, locale: str | None) -> str:
    """``EUR 1,234.50``; for Chinese readers ``人民币 1,234.50 元`` or ``1,234.50 欧元``."""
    if not is_chinese(locale):
        return money.display(minor, currency)
    figure = money.format_minor(minor, currency, grouping=True)
    if currency == "CNY":
        return f"人民币 {figure} 元"
    name = _ZH_CURRENCY_NAMES.get(currency)
    return f"{figure} {name}" if name else f"{currency} {figure}"


def date(day: dt.date, locale: str | None) -> str:
    """``1 March 2026``; for Chinese readers ``2026年3月1日``."""
    if is_chinese(locale):
        return f"{day.year}年{day.month}月{day.day}日"
    return f"{day.day} {_EN_MONTHS[day.month - 1]} {day.year}"


def moment(when: dt.datetime, locale: str | None) -> str:
    """A date and a time of day in ``when``'s own zone: ``4 March 2026, 17:00``; ``2026年3月4日 17:00``."""
    separator = " " if is_chinese(locale) else ", "
    return f"{date(when.date(), locale)}{separator}{when:%H:%M}"
