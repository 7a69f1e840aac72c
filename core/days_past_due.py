"""Days past due: what every listing shows and every rule counts, apart from the policy so a reading command
need not load the policy to show it."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dunning.models import Case


def dpd_on(case: Case, day: dt.date) -> int | None:
    """Days from the case's earliest open due date to ``day`` (negative before it); None with nothing due."""
    if case.anchor_due_on is None:
        return None
    return (day - case.anchor_due_on).days
