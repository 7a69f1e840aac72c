"""Which agency gets a case. Pure.

1. Eligible: the case's currency is one the agency takes, its balance is
   within the agency's minimum and maximum, and the agency has room
   (fewer open placements than its capacity).
2. Best recovery rate: the average share of the placed balance the agency
   collected over its last ``recovery_window`` placements, in whole
   percentage points. An agency with no placements yet counts as equal to
   the best, so a new agency gets cases to prove itself on.
3. Ties by round robin: the agency whose last placement is the oldest (or
   that has none) goes first; then by id, so the choice never depends on
   the order of the settings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

import attrs

from dunning import money
from dunning.plugins.agency.settings import Agency


@attrs.frozen
class AgencyRecord:
    """What the choice needs to know about an agency's placements so far."""

    open_placements: int = 0
    # Share of the placed balance collected, per placement, newest first.
    recent_rates: tuple[Decimal, ...] = ()
    last_placed_at: str | None = None  # stored UTC text: sorts in time order

    @property
    def recovery_rate(self) -> Decimal | None:
        if not self.recent_rates:
            return None
        return sum(self.recent_rates, Decimal(0)) / len(self.recent_rates)


def why_not(agency: Agency, balance: int, currency: str, open_placements: int) -> str | None:
    """Why ``agency`` cannot take a case of this balance now, or None if it can."""
    if agency.currencies and currency not in agency.currencies:
        return f"does not take {currency} (takes {', '.join(agency.currencies)})"
    major = money.to_decimal(balance, currency)
    if agency.min_balance is not None and major < agency.min_balance:
        return f"balance {money.format_minor(balance, currency)} is below its minimum {agency.min_balance}"
    if agency.max_balance is not None and major > agency.max_balance:
        return f"balance {money.format_minor(balance, currency)} is above its maximum {agency.max_balance}"
    if agency.capacity is not None and open_placements >= agency.capacity:
        return f"full ({open_placements} open placements, capacity {agency.capacity})"
    return None


@attrs.frozen
class Choice:
    agency: Agency | None
    # Every agency that could not take the case, with the reason.
    refused: Mapping[str, str]
    rate: Decimal | None = None


def choose(agencies: Sequence[Agency], balance: int, currency: str, records: Mapping[str, AgencyRecord]) -> Choice:
    """The agency that gets a case of ``balance`` in ``currency``, by the rule above."""
    refused: dict[str, str] = {}
    eligible: list[tuple[Agency, AgencyRecord]] = []
    for agency in agencies:
        record = records.get(agency.id, AgencyRecord())
        reason = why_not(agency, balance, currency, record.open_placements)
        if reason is None:
            eligible.append((agency, record))
        else:
            refused[agency.id] = reason
    if not eligible:
        return Choice(None, refused)
    known = [r.recovery_rate for _, r in eligible if r.recovery_rate is not None]
    best = max(known) if known else Decimal(0)

    def points(record: AgencyRecord) -> int:
        rate = record.recovery_rate if record.recovery_rate is not None else best
        return int((rate * 100).to_integral_value())

    agency, record = min(eligible, key=lambda pair: (-points(pair[1]), pair[1].last_placed_at or "", pair[0].id))
    return Choice(agency, refused, record.recovery_rate)
