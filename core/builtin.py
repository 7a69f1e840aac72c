"""Built-in hook implementations: fallbacks any plugin can override."""

from __future__ import annotations

import math

from dunning import hookimpl
from dunning.models import Case


@hookimpl(trylast=True)
def case_priority(case: Case) -> float:
    """Larger balances and more broken promises first; a plugin returning a number wins."""
    return round(math.log10(1 + case.balance) * 10 + case.broken_promises * 5, 3)
