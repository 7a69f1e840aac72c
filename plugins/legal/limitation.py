"""When a debt becomes time-barred. Pure.

The period starts on the due date of the oldest unpaid obligation and
runs for the jurisdiction's number of years. A payment or a written
acknowledgement of the debt (where the jurisdiction counts it) starts the
period again from its date, but only while the period is still running:
once a debt is time-barred, a later payment does not revive it here. That
is the cautious reading (some jurisdictions do revive a debt that way),
and it is the safe one for the question asked, "may we sue or threaten
suit?". A debt is time-barred from the first day after the period:
due 2023-03-01 with three years, barred from 2026-03-01.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import attrs


def add_years(day: dt.date, years: int) -> dt.date:
    """The same day ``years`` later; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


@attrs.frozen
class Limitation:
    starts_on: dt.date  # the due date, or the last restart
    barred_on: dt.date  # the first day on which the debt is time-barred
    restarted_by: str | None = None  # "payment" or "acknowledgement", if the period was restarted
    years: int = 3

    def is_barred(self, today: dt.date) -> bool:
        return today >= self.barred_on


def limitation(oldest_unpaid_due: dt.date, years: int, *, today: dt.date,
               payments: Iterable[dt.date] = (), acknowledgements: Iterable[dt.date] = (),
               restarted_by: Iterable[str] = ("payment", "acknowledgement")) -> Limitation:
    """The period as it stands on ``today``, given the restarts the jurisdiction counts."""
    counted = set(restarted_by)
    restarts = sorted(
        [(d, "payment") for d in payments if "payment" in counted]
        + [(d, "acknowledgement") for d in acknowledgements if "acknowledgement" in counted]
    )
    current = Limitation(oldest_unpaid_due, add_years(oldest_unpaid_due, years), None, years)
    for day, kind in restarts:
        if day > today:
            break
        # Only a restart while the period runs counts; one after it ended revives nothing.
        if current.starts_on < day < current.barred_on:
            current = Limitation(day, add_years(day, years), kind, years)
    return current


def is_time_barred(today: dt.date, oldest_unpaid_due: dt.date | None, years: int, *,
                   payments: Iterable[dt.date] = (), acknowledgements: Iterable[dt.date] = (),
                   restarted_by: Iterable[str] = ("payment", "acknowledgement")) -> bool:
    """Whether the debt is time-barred on ``today``; a case with nothing unpaid never is."""
    if oldest_unpaid_due is None:
        return False
    return limitation(oldest_unpaid_due, years, today=today, payments=payments, acknowledgements=acknowledgements,
                      restarted_by=restarted_by).is_barred(today)
