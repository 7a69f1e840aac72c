"""What puts a case near the top of a work queue (call list, visit list): pure rules.

The facts come from the store (``priority_facts`` in ``dunning.work``); the
score here is what the built-in ``case_priority`` returns, and any plugin
answering ``case_priority`` overrides it.
"""

from __future__ import annotations

import math

import attrs

from dunning.models import Case


@attrs.frozen
class CaseFacts:
    """What a collector's queue weighs besides the balance."""

    # Never paid anything and the first instalment or invoice is the one overdue:
    # the strongest early sign of a loan that will not be repaid.
    first_instalment_default: bool = False
    promise_due_today: bool = False
    # Paid something, still owes: the debtor is willing and reachable.
    partial_payer: bool = False
    # Every phone number the debtor gave is marked bad (or none was given).
    lost_contact: bool = False

    def reasons(self) -> list[str]:
        """The facts that hold, most urgent first, as short labels for a queue."""
        labels = (
            ("first_instalment_default", "first payment missed"),
            ("promise_due_today", "promise due today"),
            ("partial_payer", "partial payer"),
            ("lost_contact", "lost contact"),
        )
        return [label for name, label in labels if getattr(self, name)]


# Weights in the same units as the balance term (10 per order of magnitude):
# a first-instalment default outranks a balance a thousand times larger.
WEIGHTS = {
    "first_instalment_default": 30.0,
    "promise_due_today": 25.0,
    "partial_payer": 15.0,
    "lost_contact": 10.0,
}


def score(case: Case, facts: CaseFacts | None = None) -> float:
    """Larger balances, broken promises and the facts above first."""
    base = math.log10(1 + case.balance) * 10 + case.broken_promises * 5
    if facts is not None:
        base += sum(weight for name, weight in WEIGHTS.items() if getattr(facts, name))
    return round(base, 3)
