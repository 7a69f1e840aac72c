"""Principal, interest, fees and the total, as demands and `cases show` state them. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dunning import money

# What a template sees besides the owed figures (dunning.templates.case_context); a third party never does.
FIGURE_KEYS = ("principal", "principal_minor", "interest", "interest_minor", "fees", "fees_minor", "total_due",
               "total_due_minor", "has_charges")


def demand_figures(charges: Mapping[str, int], principal: int, currency: str) -> dict[str, Any]:
    """The case's open principal, open interest, open fees (fixed compensation included) and their sum.

    Nothing is charged before the written notice of interest went out, so a
    demand shows interest and fees exactly from that day on.
    """
    interest = charges.get("interest", 0)
    fees = charges.get("fee", 0) + charges.get("compensation", 0)
    total = principal + interest + fees
    return {
        "principal": money.display(principal, currency), "principal_minor": principal,
        "interest": money.display(interest, currency), "interest_minor": interest,
        "fees": money.display(fees, currency), "fees_minor": fees,
        "total_due": money.display(total, currency), "total_due_minor": total,
        "has_charges": bool(interest or fees),
    }
