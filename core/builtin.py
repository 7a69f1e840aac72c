"""Built-in hook implementations: fallbacks any plugin can override, and the dispute of single items."""

from __future__ import annotations

import datetime as dt
from typing import Any

from dunning import disputes, hookimpl, priority
from dunning.models import Action, Case
from dunning.priority import CaseFacts
from dunning.verdicts import Verdict


@hookimpl
def check_action(action: Action, case: Case, now: dt.datetime, ctx: Any) -> Verdict | None:
    """No outreach for a case whose every open item is disputed (``dunning dispute``)."""
    return disputes.outreach_verdict(action, ctx.store.obligations(case.id))


@hookimpl(trylast=True)
def case_priority(case: Case, facts: CaseFacts | None) -> float:
    """Larger balances, broken promises, first-instalment defaults, promises due today first.

    A plugin returning a number wins.
    """
    return priority.score(case, facts)
