"""Built-in hook implementations: fallbacks any plugin can override."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dunning import hookimpl

if TYPE_CHECKING:
    from dunning.models import Case
    from dunning.priority import CaseFacts


@hookimpl(trylast=True)
def case_priority(case: Case, facts: CaseFacts | None) -> float:
    """Larger balances, broken promises, first-instalment defaults, promises due today first.

    A plugin returning a number wins.
    """
    from dunning import priority  # registered by every command; used by few

    return priority.score(case, facts)
