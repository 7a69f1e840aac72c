"""Built-in hook implementations: fallbacks any plugin can override."""

from __future__ import annotations

from dunning import hookimpl, priority
from dunning.models import Case
from dunning.priority import CaseFacts


@hookimpl(trylast=True)
def case_priority(case: Case, facts: CaseFacts | None) -> float:
    """Larger balances, broken promises, first-instalment defaults, promises due today first.

    A plugin returning a number wins.
    """
    return priority.score(case, facts)
