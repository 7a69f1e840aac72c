"""What an agency earns on a payment it collected. Pure.

A flat commission is a percentage of the payment. A scale by amount
recovered works like tax brackets: each part of the payment is charged at
the rate of the band the placement's running total is in when that part
comes in, so a payment that crosses a band boundary is split. A scale by
age charges the whole payment at the rate of the band the debt's days past
due at placement fall in. The result is rounded once, half up, to the
currency's minor unit.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import attrs

from dunning import money
from dunning.plugins.agency.settings import Commission


@attrs.frozen
class Charge:
    """The commission on one payment, in minor units, and how it was reached."""

    amount: int
    rate: str  # "25%", or "30% of 1,000.00 + 20% of 500.00"


def commission_on(commission: Commission, payment: int, currency: str, *, recovered_before: int = 0,
                  age_days: int = 0) -> Charge:
    """The commission owed on ``payment`` (minor units of ``currency``).

    ``recovered_before`` is what the agency had already collected on this
    placement (scale ``recovered``); ``age_days`` the debt's days past due
    when it was placed (scale ``age``).
    """
    if payment <= 0:
        raise ValueError("a payment must be positive")
    if commission.by == "recovered":
        return _by_recovered(commission, payment, currency, recovered_before)
    if commission.by == "age":
        band = [b for b in commission.bands if b.start <= age_days][-1]
        return Charge(_round(Decimal(payment) * band.percent / 100), f"{band.percent}%")
    percent = commission.bands[0].percent
    return Charge(_round(Decimal(payment) * percent / 100), f"{percent}%")


def _by_recovered(commission: Commission, payment: int, currency: str, recovered_before: int) -> Charge:
    exponent = money.exponent(currency)
    starts = [int(band.start.scaleb(exponent).to_integral_value(ROUND_HALF_UP)) for band in commission.bands]
    low, high = recovered_before, recovered_before + payment
    total = Decimal(0)
    parts: list[str] = []
    for index, band in enumerate(commission.bands):
        band_low = starts[index]
        band_high = starts[index + 1] if index + 1 < len(starts) else None
        part = min(high, band_high if band_high is not None else high) - max(low, band_low)
        if part <= 0:
            continue
        total += Decimal(part) * band.percent / 100
        parts.append(f"{band.percent}% of {money.format_minor(part, currency, grouping=True)}")
    return Charge(_round(total), " + ".join(parts))


def _round(value: Decimal) -> int:
    return int(value.to_integral_value(ROUND_HALF_UP))
