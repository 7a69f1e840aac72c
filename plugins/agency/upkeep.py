"""Ending placements from the command line: by hand, at the end of their period, when the case was resolved."""

from __future__ import annotations

import datetime as dt
from typing import Any

from dunning import ActionKey, PluginContext, calendar, lifecycle, operations
from dunning.models import ActionKind, Stage
from dunning.plugins.agency import records
from dunning.plugins.agency.placement import ending_as, stale
from dunning.plugins.agency.records import Placement


def recall(rt: PluginContext, case_id: int, *, reason: str, by: str, now: dt.datetime) -> tuple[Placement, Stage]:
    """Take a placed case back from its agency: it returns to the stage it came from."""
    current = records.open_placement(rt.db, case_id)
    if current is None:
        raise operations.OperationError(f"case {case_id} is not placed with an agency")
    case = rt.store.case(case_id)
    try:
        back_to = lifecycle.recall_target(case)
    except lifecycle.LifecycleError as exc:
        raise operations.OperationError(str(exc)) from None
    operations.escalate(rt, case_id, back_to.value, now=now, reason=reason, by=by)
    return records.placement(rt.db, current.id), back_to


def expire(rt: PluginContext, now: dt.datetime) -> list[tuple[Placement, Stage]]:
    """Recall every open placement whose agreed period is over (``placement_days`` of its agency)."""
    done: list[tuple[Placement, Stage]] = []
    for placement in records.expired(rt.db, rt.today(now)):
        with ending_as("expiry"):
            done.append(recall(rt, placement.case_id, now=now, by="agency:expiry",
                               reason=f"placement with {placement.agency} ended on {placement.expires_on}"))
    return done


def reconcile(rt: PluginContext, now: dt.datetime) -> list[Placement]:
    """End open placements of cases that were resolved (paid directly, written off) or moved on without the hook.

    Each goes into that day's recall file, so the agency stops work on it.
    """
    ended: list[Placement] = []
    db = rt.db
    for placement in records.placements(db, open_only=True):
        case = rt.store.case(placement.case_id)
        why = stale(placement, case)
        if why is None:
            continue
        with rt.transaction():
            if records.end_placement(db, placement.id, ended_at=calendar.to_text(now), ended_on=rt.today(now),
                                     kind=why["how"], reason=why["reason"], balance=case.balance, listed=True):
                rt.append_event("agency:placement_ended", case, now, channel="agency", data={
                    "placement_id": placement.id, "agency": placement.agency, **why, "balance": case.balance})
                ended.append(records.placement(db, placement.id))
    return ended


EXPIRY_PREFIX = "placement period ended"


def queue_expiry_recalls(ctx: Any) -> int:
    """At the end of a run: queue a recall for each placement whose period is over; the next run carries it out.

    The recall is an ordinary outbox action (keyed by case and expiry date,
    so it is queued once), delivered by the core like the policy's own
    recalls: the stage change, its evidence and this plugin's recall file
    follow from it. ``dunning agency expire`` does the same at once.
    """
    store = ctx.store
    today = calendar.local_date(ctx.now, ctx.config.zone)
    queued = 0
    for placement in records.expired(ctx.db, today):
        case = store.case(placement.case_id)
        if not case.is_open or case.stage is not Stage.AGENCY:
            continue
        reason = f"{EXPIRY_PREFIX}: {placement.agency}, {placement.expires_on}"
        if ctx.queue_action(case, key=str(ActionKey(case.id, "agency-expiry", ActionKind.RECALL.value,
                                                    str(placement.expires_on))),
                            kind=ActionKind.RECALL, step="agency-expiry", planned_for=today,
                            options={"reason": reason, "placement_id": placement.id}, event="agency:recall_queued",
                            data={"placement_id": placement.id, "agency": placement.agency, "reason": reason},
                            channel="agency"):
            queued += 1
    return queued
