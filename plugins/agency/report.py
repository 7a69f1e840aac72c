"""How each agency is doing: placed, recovered, commission owed, speed. Pure, given the records.

Amounts are kept per currency: a report never adds euros to pounds.
Direct payments (made to the creditor while the case was placed) are
shown beside what the agency collected; they earn no commission and do
not count towards the agency's recovery rate.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs

from dunning import money
from dunning.plugins.agency.records import Collected, Placement
from dunning.plugins.agency.settings import AgencySettings


@attrs.frozen
class AgencyLine:
    agency: str
    name: str
    currency: str | None
    cases_placed: int = 0
    open_placements: int = 0
    balance_placed: int = 0
    recovered: int = 0
    direct_payments: int = 0
    commission_owed: int = 0
    days_to_first_payment: tuple[int, ...] = ()

    @property
    def recovery_rate(self) -> Decimal | None:
        if not self.balance_placed:
            return None
        return Decimal(self.recovered) / Decimal(self.balance_placed)

    @property
    def average_days_to_first_payment(self) -> Decimal | None:
        if not self.days_to_first_payment:
            return None
        return (Decimal(sum(self.days_to_first_payment)) / len(self.days_to_first_payment)).quantize(Decimal("0.1"))

    def as_dict(self) -> dict[str, Any]:
        def amount(minor: int) -> str | None:
            return money.format_minor(minor, self.currency) if self.currency else None

        rate = self.recovery_rate
        average = self.average_days_to_first_payment
        return {
            "agency": self.agency,
            "name": self.name,
            "currency": self.currency,
            "cases_placed": self.cases_placed,
            "open_placements": self.open_placements,
            "balance_placed": amount(self.balance_placed),
            "recovered": amount(self.recovered),
            "direct_payments": amount(self.direct_payments),
            "recovery_rate": None if rate is None else float(round(rate * 100, 2)),
            "commission_owed": amount(self.commission_owed),
            "average_days_to_first_payment": None if average is None else float(average),
        }


def build(settings: AgencySettings, placements: Sequence[Placement], collected: Iterable[Collected],
          direct: Mapping[int, int]) -> list[AgencyLine]:
    """One line per agency and currency (agencies with no placements get one empty line).

    ``direct`` maps a placement id to the direct payments made while it was open.
    """
    by_placement: dict[int, list[Collected]] = {}
    for item in collected:
        by_placement.setdefault(item.placement_id, []).append(item)
    lines: dict[tuple[str, str], dict[str, Any]] = {}
    for p in placements:
        line = lines.setdefault((p.agency, p.currency), {
            "cases_placed": 0, "open_placements": 0, "balance_placed": 0, "recovered": 0, "direct_payments": 0,
            "commission_owed": 0, "days_to_first_payment": []})
        line["cases_placed"] += 1
        line["open_placements"] += int(p.is_open)
        line["balance_placed"] += p.balance_placed
        line["direct_payments"] += direct.get(p.id, 0)
        payments = by_placement.get(p.id, [])
        line["recovered"] += sum(c.amount for c in payments)
        line["commission_owed"] += sum(c.commission for c in payments)
        if payments:
            line["days_to_first_payment"].append(max(0, (min(c.happened_on for c in payments) - p.placed_on).days))
    names = {a.id: a.name for a in settings.agencies}
    report: list[AgencyLine] = []
    for agency in sorted(set(names) | {a for a, _ in lines}):
        currencies = sorted(c for a, c in lines if a == agency)
        if not currencies:
            report.append(AgencyLine(agency, names.get(agency, agency), None))
        for currency in currencies:
            values = lines[(agency, currency)]
            values["days_to_first_payment"] = tuple(values["days_to_first_payment"])
            report.append(AgencyLine(agency, names.get(agency, agency), currency, **values))
    return report
