"""A dispute of one invoice holds that item only. Pure.

``dunning dispute OBLIGATION`` takes the item out of what messages state
(``dunning.owed`` leaves it out) while the case's other items are still
collected. A case whose every open item is disputed has nothing left to
ask for: its outreach is skipped, occurrence by occurrence, until a
dispute is lifted (``dispute OBLIGATION --lift``).
"""

from __future__ import annotations

from collections.abc import Iterable

from dunning.models import Action, ActionKind, Obligation
from dunning.verdicts import Verdict

RULE = "disputed"


def all_disputed(obligations: Iterable[Obligation]) -> bool:
    """Some items are open and disputed, and none is open without a dispute."""
    open_items = [o for o in obligations if o.closed_reason is None and o.open_amount > 0]
    return bool(open_items) and all(o.disputed_on is not None for o in open_items)


def outreach_verdict(action: Action, obligations: Iterable[Obligation]) -> Verdict | None:
    """Skip outreach for a case with nothing undisputed to collect; the confirmation of an opt-out still goes."""
    if action.kind is not ActionKind.OUTREACH or "confirms_opt_out" in action.options:
        return None
    if all_disputed(obligations):
        return Verdict.skip(RULE, "every open item of the case is disputed")
    return None
