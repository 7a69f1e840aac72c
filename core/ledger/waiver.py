"""Waiving a case's interest or fees: ``waived`` raised on the open charges, with an event naming who and why."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from dunning import money
from dunning.runtime import Runtime

# What `--fees` waives: the step fees and the fixed compensation alike.
KINDS = {"interest": ("interest",), "fees": ("fee", "compensation")}


class WaiverError(ValueError):
    """A waiver refused; nothing was written."""


def waive(rt: Runtime, case_id: int, what: Sequence[str], *, by: str, reason: str, now: dt.datetime,
          approved_by: str | None = None) -> int:
    """Forgo what is still open of the case's interest and/or fees; returns the amount waived.

    Above ``[ledger] waive_approval_above`` a supervisor other than ``by`` must approve (``approved_by``).
    """
    if not what:
        raise WaiverError("say what to waive: --interest, --fees or both")
    if not reason.strip():
        raise WaiverError("--reason must say why")
    case = rt.store.case(case_id)
    kinds = tuple(k for w in what for k in KINDS[w])
    owed = rt.store.charges_owed(case_id)
    amount = sum(owed[k] for k in kinds)
    if amount <= 0:
        raise WaiverError(f"case {case_id} has no open {' or '.join(what)} to waive")
    settings = rt.config.interest
    if settings.waiver_needs_approval(amount, case.currency) and not approved_by:
        raise WaiverError(f"waiving {money.display(amount, case.currency)} is above "
                          f"{settings.waive_approval_above} ([ledger] waive_approval_above): "
                          "a supervisor must approve it with --approved-by NAME")
    if approved_by is not None and approved_by == by:
        raise WaiverError("--approved-by must name someone other than --by")
    with rt.store.transaction():
        rows = rt.store.waive_charges(case_id, kinds)
        rt.store.append_events([rt.event("charges_waived", case, now, data={
            "what": list(what), "amount": amount, "currency": case.currency, "by": by, "reason": reason,
            "approved_by": approved_by, "charges": [{"id": i, "kind": k, "amount": a} for i, k, a in rows]})])
    return amount
