"""Ending placements from the command line: by hand, at the end of their period, when the case was resolved."""

from __future__ import annotations

import datetime as dt

from dunning import calendar, lifecycle, operations
from dunning.models import Stage
from dunning.plugins.agency import records
from dunning.plugins.agency.placement import ending_as, stale
from dunning.plugins.agency.records import Placement
from dunning.runtime import Runtime


def recall(rt: Runtime, case_id: int, *, reason: str, by: str, now: dt.datetime) -> tuple[Placement, Stage]:
    """Take a placed case back from its agency: it returns to the stage it came from."""
    current = records.open_placement(rt.store.db, case_id)
    if current is None:
        raise operations.OperationError(f"case {case_id} is not placed with an agency")
    case = rt.store.case(case_id)
    try:
        back_to = lifecycle.recall_target(case)
    except lifecycle.LifecycleError as exc:
        raise operations.OperationError(str(exc)) from None
    operations.escalate(rt, case_id, back_to.value, now=now, reason=reason, by=by)
    return records.placement(rt.store.db, current.id), back_to


def expire(rt: Runtime, now: dt.datetime) -> list[tuple[Placement, Stage]]:
    """Recall every open placement whose agreed period is over (``placement_days`` of its agency)."""
    done: list[tuple[Placement, Stage]] = []
    for placement in records.expired(rt.store.db, rt.today(now)):
        with ending_as("expiry"):
            done.append(recall(rt, placement.case_id, now=now, by="agency:expiry",
                               reason=f"placement with {placement.agency} ended on {placement.expires_on}"))
    return done


def reconcile(rt: Runtime, now: dt.datetime) -> list[Placement]:
    """End open placements of cases that were resolved (paid directly, written off) or moved on without the hook.

    Each goes into that day's recall file, so the agency stops work on it.
    """
    ended: list[Placement] = []
    db = rt.store.db
    for placement in records.placements(db, open_only=True):
        case = rt.store.case(placement.case_id)
        why = stale(placement, case)
        if why is None:
            continue
        with rt.store.transaction():
            if records.end_placement(db, placement.id, ended_at=calendar.to_text(now), ended_on=rt.today(now),
                                     kind=why["how"], reason=why["reason"], balance=case.balance, listed=True):
                rt.store.append_events([rt.event("agency_placement_ended", case, now, channel="agency", data={
                    "placement_id": placement.id, "agency": placement.agency, **why, "balance": case.balance})])
                ended.append(records.placement(db, placement.id))
    return ended
