"""What a replay's contacts are expected to recover, by the payment model, with seeded draws for the spread.

A case's chance to pay is one less the chance that none of its contacts in the replay was followed by a
payment; a paying case pays the model's share of its balance at the start. The expected recovery is the
sum of balance x share x chance; the draws (each case paying or not, at random, with its chance) give the
range that nine draws in ten fall in. The same seed gives the same draws.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Sequence

import attrs

DRAWS = 500


@attrs.frozen
class Exposure:
    """A case open at the start: its balance, and the model's chance of each contact the replay made."""

    case_id: int
    currency: str
    balance: int
    rates: tuple[float, ...]

    @property
    def chance(self) -> float:
        return 1.0 - math.prod(1.0 - r for r in self.rates)


@attrs.frozen
class Recovery:
    currency: str
    balance: int  # open at the start, minor units
    expected: int
    low: int  # 5th percentile of the draws
    high: int  # 95th percentile
    paying_cases: float  # expected number of cases that pay


def expected_recovery(exposures: Iterable[Exposure], share: float, *, seed: int, draws: int = DRAWS
                      ) -> list[Recovery]:
    """Per currency (sorted), the expected recovery and the range of ``draws`` seeded draws."""
    by_currency: dict[str, list[Exposure]] = {}
    for e in sorted(exposures, key=lambda e: e.case_id):
        by_currency.setdefault(e.currency, []).append(e)
    out: list[Recovery] = []
    for currency, cases in sorted(by_currency.items()):
        # One generator per currency, seeded by both: adding a currency leaves the others' draws alone.
        rng = random.Random(f"{seed}:{currency}")
        pays = [round(e.balance * share) for e in cases]
        chances = [e.chance for e in cases]
        totals = sorted(sum(p for p, c in zip(pays, chances, strict=True) if rng.random() < c)
                        for _ in range(draws))
        out.append(Recovery(
            currency=currency,
            balance=sum(e.balance for e in cases),
            expected=round(sum(p * c for p, c in zip(pays, chances, strict=True))),
            low=_percentile(totals, 0.05),
            high=_percentile(totals, 0.95),
            paying_cases=sum(chances),
        ))
    return out


def _percentile(sorted_values: Sequence[int], q: float) -> int:
    if not sorted_values:
        return 0
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]
