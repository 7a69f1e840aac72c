"""Aging buckets: days past due cut into ranges, configurable by their upper bounds."""

from __future__ import annotations

import functools
from collections.abc import Sequence

import attrs

NOT_YET_DUE = "not yet due"
# The states a case can end in rather than sit in a bucket.
PAID, SETTLED, WRITTEN_OFF = "paid", "settled", "written_off"
DEFAULT_BOUNDS = (30, 60, 90, 180)


@attrs.frozen
class Buckets:
    """``bounds`` (30, 60, 90, 180) make: not yet due, 1-30, 31-60, 61-90, 91-180, 181+."""

    bounds: tuple[int, ...] = DEFAULT_BOUNDS

    @property
    def labels(self) -> tuple[str, ...]:
        labels = [NOT_YET_DUE]
        low = 1
        for high in self.bounds:
            labels.append(f"{low}-{high}")
            low = high + 1
        labels.append(f"{low}+")
        return tuple(labels)

    def label(self, dpd: int) -> str:
        """The bucket of ``dpd`` days past due (0 or less: not yet due)."""
        return _label(self.bounds, dpd)

    def is_overdue(self, label: str) -> bool:
        return label in self.labels[1:]


@functools.lru_cache(maxsize=8192)
def _label(bounds: tuple[int, ...], dpd: int) -> str:
    if dpd <= 0:
        return NOT_YET_DUE
    low = 1
    for high in bounds:
        if dpd <= high:
            return f"{low}-{high}"
        low = high + 1
    return f"{low}+"


def parse_bounds(text: str) -> Buckets:
    """``"30,60,90,180"`` -> Buckets; ValueError naming what is wrong."""
    try:
        bounds = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise ValueError(f"--buckets must be whole numbers of days such as 30,60,90,180, got {text!r}") from None
    if not bounds or any(b < 1 for b in bounds) or list(bounds) != sorted(set(bounds)):
        raise ValueError(f"--buckets must be rising numbers of days of 1 or more, got {text!r}")
    return Buckets(bounds)


def ordered(labels: Sequence[str], buckets: Buckets) -> list[str]:
    """``labels`` in bucket order, end states last."""
    order = {label: i for i, label in enumerate([*buckets.labels, PAID, SETTLED, WRITTEN_OFF])}
    return sorted(set(labels), key=lambda label: (order.get(label, len(order)), label))
