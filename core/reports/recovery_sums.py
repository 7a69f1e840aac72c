"""What ``recovery`` adds up per stage, agency and cohort, whichever way it was worked out."""

from __future__ import annotations

from collections import defaultdict

import attrs

# A payment, or payments alike, as credited: (currency, whether a contact was found in the window, its kind, its
# channel, the collector of the last call, payments, amount).
Credit = tuple[str, object, "str | None", "str | None", object, int, int]


@attrs.define
class Sums:
    """What ``recovery.compute`` adds up, keyed as it keys them (the report's tables are made from these)."""

    stage_cases: dict[tuple[str, str], int] = attrs.field(factory=lambda: defaultdict(int))
    stage_placed: dict[tuple[str, str], int] = attrs.field(factory=lambda: defaultdict(int))
    stage_collected: dict[tuple[str, str], int] = attrs.field(factory=lambda: defaultdict(int))
    agency_cases: dict[tuple[str, str], int] = attrs.field(factory=lambda: defaultdict(int))
    agency_placed: dict[tuple[str, str], int] = attrs.field(factory=lambda: defaultdict(int))
    agency_collected: dict[tuple[str, str], int] = attrs.field(factory=lambda: defaultdict(int))
    cohort_cases: dict[tuple[str, str], int] = attrs.field(factory=lambda: defaultdict(int))
    cohort_placed: dict[tuple[str, str], int] = attrs.field(factory=lambda: defaultdict(int))
    cohort_collected: dict[tuple[str, str, int], int] = attrs.field(factory=lambda: defaultdict(int))
