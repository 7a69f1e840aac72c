"""The limitation period: when a debt becomes time-barred. Pure.

By default three years from the due date of the oldest unpaid obligation,
restarted by a payment or a written acknowledgement of the debt. A
time-barred debt can never go to litigation nor be sent a letter that
threatens suit.
"""

from __future__ import annotations

import datetime as dt


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year + years, day=28)


def limitation_ends(oldest_unpaid_due: dt.date, years: int, *, last_payment: dt.date | None = None,
                    last_acknowledgement: dt.date | None = None) -> dt.date:
    """The first day on which the debt is time-barred."""
    start = max(d for d in (oldest_unpaid_due, last_payment, last_acknowledgement) if d is not None)
    return add_years(start, years)


def is_time_barred(today: dt.date, oldest_unpaid_due: dt.date | None, years: int, *,
                   last_payment: dt.date | None = None, last_acknowledgement: dt.date | None = None) -> bool:
    if oldest_unpaid_due is None or years <= 0:
        return False
    return today >= limitation_ends(oldest_unpaid_due, years, last_payment=last_payment,
                                    last_acknowledgement=last_acknowledgement)
