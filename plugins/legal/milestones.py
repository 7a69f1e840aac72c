"""The milestones of a legal matter and the order they come in. Pure."""

from __future__ import annotations

from collections.abc import Sequence

MILESTONES: tuple[str, ...] = (
    "preservation_requested",  # pre-litigation preservation of assets asked of the court
    "preservation_granted",
    "filed",  # the claim is filed with the court
    "hearing",
    "judgment",  # with the amount awarded
    "enforcement",  # enforcement of the judgment started
    "closed",
    "cost",  # a cost on its own (court fee, bailiff) that belongs to no other milestone
)

# What must have been logged before a milestone can be.
NEEDS: dict[str, str] = {
    "preservation_granted": "preservation_requested",
    "hearing": "filed",
    "judgment": "filed",
    "enforcement": "judgment",
}


def check_milestone(earlier: Sequence[str], milestone: str, *, amount: int | None, cost: int | None) -> None:
    """Raise ValueError if ``milestone`` cannot follow the ``earlier`` ones, or its amounts do not fit."""
    if milestone not in MILESTONES:
        raise ValueError(f"unknown milestone {milestone!r}; use one of {', '.join(MILESTONES)}")
    if "closed" in earlier:
        raise ValueError("the matter is closed; nothing more can be logged on it")
    needed = NEEDS.get(milestone)
    if needed is not None and needed not in earlier:
        raise ValueError(f"{milestone} needs {needed} first")
    if milestone == "judgment" and amount is None:
        raise ValueError("a judgment needs --amount, the amount awarded")
    if milestone != "judgment" and amount is not None:
        raise ValueError("--amount is the amount awarded, for a judgment only (costs go in --cost)")
    if milestone == "cost" and cost is None:
        raise ValueError("a cost entry needs --cost")
    if cost is not None and cost <= 0:
        raise ValueError("--cost must be positive")
    if amount is not None and amount < 0:
        raise ValueError("--amount must not be negative")
