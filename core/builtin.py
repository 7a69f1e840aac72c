"""Built-in hook implementations: fallbacks any plugin can override, and the dispute of single items."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from dunning import hookimpl

if TYPE_CHECKING:
    from dunning.models import Action, Case
    from dunning.priority import CaseFacts
    from dunning.verdicts import Verdict


@hookimpl
def check_action(action: Action, case: Case, now: dt.datetime, ctx: Any) -> Verdict | None:
    """No outreach for a case whose every open item is disputed (``dunning dispute``)."""
    from dunning import disputes  # registered by every command; used by the run alone

    return disputes.outreach_verdict(action, ctx.store.obligations(case.id))


@hookimpl(trylast=True)
def case_priority(case: Case, facts: CaseFacts | None) -> float:
    """Larger balances, broken promises, first-instalment defaults, promises due today first.

    A plugin returning a number wins.
    """
    from dunning import priority  # registered by every command; used by few

    return priority.score(case, facts)
