"""Preferred times to reach a debtor, from collection practice. Preferences, never prohibitions.

Mornings, Mondays and the first days of the month answer best; the lunch
break (about 11:45-14:00), the last days of the month and the last hour of
the working day answer worst. The call list sorts by this score within the
same priority, and a call without a time of its own is scheduled at the best
slot of its day.
"""

from __future__ import annotations

import datetime as dt

LUNCH = (dt.time(11, 45), dt.time(14, 0))
WORKDAY_ENDS = dt.time(18, 0)
# Candidate moments for a call with no time of its own: morning, afternoon, evening.
SLOTS = {"morning": dt.time(9, 30), "afternoon": dt.time(15, 0), "evening": dt.time(19, 0)}


def preference(local: dt.datetime) -> float:
    """How good a moment is for a call, in the debtor's local time: higher is better (about -3 .. +3)."""
    score = 0.0
    t = local.time()
    if dt.time(8, 0) <= t < LUNCH[0]:
        score += 1.5  # mornings
    if LUNCH[0] <= t < LUNCH[1]:
        score -= 2.0  # lunch break
    if (dt.datetime.combine(local.date(), WORKDAY_ENDS) - dt.timedelta(hours=1)).time() <= t < WORKDAY_ENDS:
        score -= 1.0  # the last hour of the working day
    if local.weekday() == 0:
        score += 0.5  # Mondays
    if local.day <= 5:
        score += 0.5  # start of the month, after pay day
    first_of_next_month = (local.date().replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    if (first_of_next_month - local.date()).days <= 3:
        score -= 0.5  # month-end: money is short before pay day
    return score


def best_slot(day: dt.date, zone: dt.tzinfo, allowed: tuple[str, ...] = tuple(SLOTS)) -> str:
    """The slot of ``day`` with the best preference (ties: the earlier one)."""
    return max(allowed, key=lambda name: (preference(dt.datetime.combine(day, SLOTS[name], zone)),
                                          -list(SLOTS).index(name)))
