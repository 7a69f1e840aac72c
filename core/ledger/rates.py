"""Reference rates as data with validity dates: which rate was in force on a day. Pure.

A rate history is a list of (valid_from, rate) points: each rate is in force
from its day until the next point. The store keeps them (``dunning rates``);
the rules read them through these functions.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal

import attrs

# The histories the built-in rules read, and what each one is.
REFERENCE_RATES: Mapping[str, str] = {
    "boe-base": "Bank of England Bank Rate",
    "ecb-mro": "ECB main refinancing operations rate",
    "de-basiszins": "Basiszinssatz (§ 247 BGB), Deutsche Bundesbank",
}


class RateMissing(LookupError):
    """No rate of that name was in force on the day asked about."""


@attrs.frozen(order=True)
class RatePoint:
    valid_from: dt.date
    rate: Decimal  # percent a year


def rate_on(history: Sequence[RatePoint], day: dt.date, name: str = "rate") -> Decimal:
    """The rate in force on ``day``: that of the last point on or before it."""
    points = sorted(history)
    index = bisect.bisect_right([p.valid_from for p in points], day)
    if index == 0:
        raise RateMissing(f"no {name} in force on {day.isoformat()} (add it with `dunning rates set {name} ...`)")
    return points[index - 1].rate


def changes_between(history: Sequence[RatePoint], first: dt.date, last: dt.date) -> list[dt.date]:
    """The days after ``first`` up to ``last`` on which a new rate took effect."""
    return sorted(p.valid_from for p in history if first < p.valid_from <= last)
