"""Planning: turn every due case's plan into outbox rows, events and a new cursor.

Planning writes the outbox (actions with deterministic keys) in the same
transaction that advances each case's cursor, so a rerun for the same moment
plans nothing new.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from typing import Any

from dunning import calendar
from dunning.dispatch.summary import ProgressCallback, RunSummary
from dunning.models import ActionKind, ActionStatus, Case, Event
from dunning.policy import Plan, Planned, evaluate
from dunning.runtime import Runtime
from dunning.store import CasePlanWrite, action_row_tail

PLAN_BATCH = 2000


def _due_batches(rt: Runtime, today: dt.date) -> Iterator[list[tuple[Case, str | None]]]:
    after: tuple[str, int] | None = None
    while True:
        batch = rt.store.due_cases(today, after, PLAN_BATCH)
        if not batch:
            return
        last = batch[-1][0]
        after = (last.next_action_on.isoformat() if last.next_action_on else "", last.id)
        yield batch


def plan(rt: Runtime, now: dt.datetime, summary: RunSummary, progress: ProgressCallback | None = None) -> None:
    today = rt.today(now)
    planner = _CasePlanner(rt, now, today, summary)
    # Read and evaluate here while the store writes earlier batches on a
    # thread of its own (see Store.save_plans_pipelined). Keyset paging stays
    # right meanwhile: a case the writer has planned moves its
    # next_action_on past today, so no later page can meet it again.
    batches = ([planner.plan(case, tz) for case, tz in batch] for batch in _due_batches(rt, today))
    with contextlib.closing(rt.store.save_plans_pipelined(batches)) as saved_batches:
        for saved in saved_batches:
            summary.cases_planned += saved.cases
            summary.planned += saved.inserted
            summary.superseded += saved.superseded
            if progress:
                progress("plan", saved.submitted)


# An item's outbox row, but for its key and case: (key tail, row tail, the
# planning event's kind or None, that event's data but for the key).
_ItemRow = tuple[Planned, str, tuple[Any, ...], str | None, dict[str, Any]]


class _CasePlanner:
    """Turns each due case's plan into its outbox rows, events and new cursor, for one run.

    Everything about a planned item but the case it is for (its key's tail,
    moment, status and the rest of its row) is worked out once per item and
    debtor time zone: policy.evaluate shares one item among all the cases
    due the same day, so a million cases need a handful of these.
    """

    def __init__(self, rt: Runtime, now: dt.datetime, today: dt.date, summary: RunSummary):
        self.rt, self.now, self.today, self.summary = rt, now, today, summary
        self.now_text = calendar.to_text(now)
        self.enabled = set(rt.plugins.enabled)
        self.zone_name = rt.config.timezone
        self._items: dict[tuple[int, str | None], _ItemRow] = {}

    def plan(self, case: Case, debtor_tz: str | None) -> CasePlanWrite:
        result: Plan = evaluate(self.rt.policy, case, self.today)
        rows = []
        events: list[Event] = []
        for item in result.items:
            hit = self._items.get((id(item), debtor_tz))
            if hit is None or hit[0] is not item:
                hit = self._item_row(item, debtor_tz)
            _, tail, row_tail, event_kind, event_data = hit
            key = f"{case.id}:{tail}"
            rows.append((key, case.id, *row_tail))
            if event_kind is not None:
                events.append(self._event(event_kind, case, item.dpd, item.channel, item.step,
                                          {"key": key, **event_data}))
                if event_kind == "skipped":
                    self.summary.skipped += 1
                else:
                    self.summary.awaiting_approval += 1
        if result.missed:
            self.summary.missed += len(result.missed)
            events.append(self._event("steps_missed", case, result.dpd, None, None, {
                "steps": [{"step": s, "dpd": d} for s, d in result.missed],
                "reason": "past their day when the case was planned; only required steps run late"}))
        return CasePlanWrite(
            case_id=case.id,
            expected_planned_through=case.planned_through,
            planned_through=max(self.today, case.planned_through) if case.planned_through else self.today,
            next_action_on=result.next_action_on,
            actions=rows,
            events=events,
            planned_at=self.now,
        )

    def _item_row(self, item: Planned, debtor_tz: str | None) -> _ItemRow:
        tz = calendar.zone(debtor_tz, self.zone_name)
        not_before = calendar.local_moment(item.day if not item.late else self.today, item.at, tz)
        status, event_kind, data = ActionStatus.PENDING, None, {}
        if item.kind is ActionKind.OUTREACH and item.channel not in self.enabled:
            status, event_kind = ActionStatus.SKIPPED, "skipped"
            data = {"reason": "channel_not_enabled", "detail": f"channel '{item.channel}' is not enabled"}
        elif item.requires_approval:
            status, event_kind = ActionStatus.AWAITING_APPROVAL, "approval_requested"
            data = {"reason": "policy", "detail": f"step '{item.step}' requires approval"}
        if event_kind is not None:
            data |= {"action": item.kind.value, **({"target": item.target} if item.target else {})}
        hit = (item, item.key_tail(), action_row_tail(item, not_before, status, self.now_text), event_kind, data)
        if len(self._items) >= 4096:
            self._items.clear()  # bounded: a run over many days meets many items
        self._items[(id(item), debtor_tz)] = hit
        return hit

    def _event(self, kind: str, case: Case, dpd: int | None, channel: str | None, step: str | None,
               data: dict[str, Any]) -> Event:
        # What rt.event(kind, case, now, dpd=dpd, channel=..., step=..., data=...)
        # builds, without working out the case's days past due again for
        # every event (the caller has them: the plan's, or the item's for an
        # action's event).
        return Event(kind=kind, at=self.now, case_id=case.id, stage=case.stage.value, dpd=dpd, channel=channel,
                     step=step, data=data)


def dry_plan(rt: Runtime, now: dt.datetime, summary: RunSummary) -> None:
    """Count what planning would do at ``now`` (``dunning run --dry-run``), writing nothing."""
    today = rt.today(now)
    enabled = set(rt.plugins.enabled)
    for batch in _due_batches(rt, today):
        for case, _tz in batch:
            result = evaluate(rt.policy, case, today)
            summary.missed += len(result.missed)
            if result.items:
                summary.cases_planned += 1
            for item in result.items:
                if item.kind is ActionKind.OUTREACH and item.channel not in enabled:
                    summary.skipped += 1
                elif item.requires_approval:
                    summary.awaiting_approval += 1
                summary.planned += 1
            # Nothing is written: the keyset cursor moves on by itself.
