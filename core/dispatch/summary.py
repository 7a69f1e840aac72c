"""What one run did, counted as it goes: the figures `dunning run` prints."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs


@attrs.define
class RunSummary:
    planned: int = 0
    sent: int = 0
    deferred: int = 0
    blocked: int = 0
    failed: int = 0
    escalated: int = 0
    awaiting_approval: int = 0
    skipped: int = 0
    # Occurrences dropped because the runner did not run on their day (see
    # the ``steps_missed`` events), and pending ones a newer occurrence of the
    # same step and channel replaced (``superseded`` events).
    missed: int = 0
    superseded: int = 0
    internal: int = 0  # notices and account locks carried out
    cases_planned: int = 0
    holds_lifted: int = 0
    promises_kept: int = 0
    promises_broken: int = 0
    # The ledger's work (dunning.ledger): interest and compensation posted, settlement offers decided.
    charges_posted: int = 0
    settlements_settled: int = 0
    settlements_lapsed: int = 0
    blocked_by_rule: dict[str, int] = attrs.field(factory=dict)
    deferred_by_rule: dict[str, int] = attrs.field(factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


# Told how far a run has got, batch by batch: the phase ("plan", "deliver") and the work the batch held.
ProgressCallback = Callable[[str, int], None]
