"""The limitation period: when a debt becomes time-barred. Pure; the one rule for compliance and legal.

The rule:

- The period starts on the due date of the oldest unpaid obligation and
  runs for ``years`` (three by default; the compliance profile or the legal
  plugin's jurisdiction says how many). A debt is time-barred from the first
  day after the period: due 2023-03-01 with three years, barred from
  2026-03-01. 29 February ends on 28 February in a common year.
- A part payment or a written acknowledgement of the debt starts the period
  again from its date, but only while the period still runs, that is before
  the day the debt became time-barred. Restarts chain: each one made in time
  starts a new period.
- Once a debt is time-barred, a later payment or acknowledgement does not
  revive it. England and Wales (Limitation Act 1980, s. 29(7)) and Germany
  (BGB section 212, a new start only of a period still running) read it so;
  some US states let a later payment or written promise revive a debt, and
  the engine does not follow them: the question asked here is "may we sue or
  threaten suit?", and for it the cautious answer is the safe one.
- What counts as a restart is the jurisdiction's to say (``restarted_by``:
  payments, acknowledgements, both or neither); payments before the period
  started, and anything dated after ``today``, restart nothing.

``dunning.compliance.rules`` applies it with the profile's number of years;
the legal plugin with each jurisdiction's years and ``restarted_by``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import attrs

RESTARTS = ("payment", "acknowledgement")


def add_years(day: dt.date, years: int) -> dt.date:
    """The same day ``years`` later; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


@attrs.frozen
class Limitation:
    starts_on: dt.date  # the due date, or the last restart made in time
    barred_on: dt.date  # the first day on which the debt is time-barred
    restarted_by: str | None = None  # "payment" or "acknowledgement", if the period was restarted
    years: int = 3

    def is_barred(self, today: dt.date) -> bool:
        return today >= self.barred_on


def limitation(oldest_unpaid_due: dt.date, years: int, *, today: dt.date,
               payments: Iterable[dt.date] = (), acknowledgements: Iterable[dt.date] = (),
               restarted_by: Iterable[str] = RESTARTS) -> Limitation:
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
        # Only a restart while the period runs counts; one on or after the day it ended revives nothing.
        if current.starts_on < day < current.barred_on:
            current = Limitation(day, add_years(day, years), kind, years)
    return current


def is_time_barred(today: dt.date, oldest_unpaid_due: dt.date | None, years: int, *,
                   payments: Iterable[dt.date] = (), acknowledgements: Iterable[dt.date] = (),
                   restarted_by: Iterable[str] = RESTARTS) -> bool:
    """Whether the debt is time-barred on ``today``; nothing unpaid, or no period (0 years), never is."""
    if oldest_unpaid_due is None or years <= 0:
        return False
    return limitation(oldest_unpaid_due, years, today=today, payments=payments, acknowledgements=acknowledgements,
                      restarted_by=restarted_by).is_barred(today)
