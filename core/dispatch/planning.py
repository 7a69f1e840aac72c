"""Planning: turn every due case's plan into outbox rows, events and a new cursor.

Planning writes the outbox (actions with deterministic keys) in the same
transaction that advances each case's cursor, so a rerun for the same moment
plans nothing new.

``plan`` works on the store's rows: cases alike in everything their plan
depends on (due date, cursor, stages, zone, and what the policy's rules on
those days look at) share what planning writes for them, worked out once
from the first such case; each case adds only its id to it. ``plan_case_by_case``
builds a Case and a ``CasePlanWrite`` per case: the plain way, kept as the
reference the fast path is tested against.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from dunning import calendar
from dunning.dispatch.heap import start_up_heap_frozen
from dunning.dispatch.summary import ProgressCallback, RunSummary
from dunning.models import ActionKind, ActionStatus, Case, Event, Status
from dunning.policy import Plan, Planned, evaluate
from dunning.policy.evaluation import looks_at
from dunning.runtime import Runtime
from dunning.strategy_assign import assign_strategies
from dunning.store import DUE_ROW_FIELDS, CasePlanWrite, PlanBatch, action_row_tail, due_row_case

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
    assign_strategies(rt, now)
    with start_up_heap_frozen():
        today = rt.today(now)
        planner = _CasePlanner(rt, now, today, summary)
        # Read and evaluate here while the store writes earlier batches on a
        # thread of its own (see Store.save_plans_pipelined). Keyset paging stays
        # right meanwhile: a case the writer has planned moves its
        # next_action_on past today, so no later page can meet it again.
        _save(rt, (planner.plan_rows(rows) for rows in _due_row_batches(rt, today)), summary, progress)


def plan_case_by_case(rt: Runtime, now: dt.datetime, summary: RunSummary,
                      progress: ProgressCallback | None = None) -> None:
    """``plan`` through a Case and a CasePlanWrite per case: what ``plan`` must write, the slow way."""
    assign_strategies(rt, now)
    today = rt.today(now)
    planner = _CasePlanner(rt, now, today, summary)
    _save(rt, ([planner.plan(case, tz) for case, tz in batch] for batch in _due_batches(rt, today)), summary,
          progress)


def _due_row_batches(rt: Runtime, today: dt.date) -> Iterator[list[tuple[Any, ...]]]:
    after: tuple[str, int] | None = None
    while True:
        rows = rt.store.due_case_rows(today, after, PLAN_BATCH)
        if not rows:
            return
        last = rows[-1]
        after = (last[_NEXT_ACTION_ON] or "", last[_ID])
        yield rows


def _save(rt: Runtime, batches: Iterable[Sequence[CasePlanWrite] | PlanBatch], summary: RunSummary,
          progress: ProgressCallback | None) -> None:
    with contextlib.closing(rt.store.save_plans_pipelined(batches)) as saved_batches:
        for saved in saved_batches:
            summary.cases_planned += saved.cases
            summary.planned += saved.inserted
            summary.superseded += saved.superseded
            if progress:
                progress("plan", saved.submitted)


# Where ``plan_rows`` finds what it reads in a row of Store.due_case_rows.
_ID, _DEBTOR_TZ = DUE_ROW_FIELDS["id"], DUE_ROW_FIELDS["timezone"]
_ANCHOR, _PLANNED_THROUGH = DUE_ROW_FIELDS["anchor_due_on"], DUE_ROW_FIELDS["planned_through"]
_NEXT_ACTION_ON, _STATUS = DUE_ROW_FIELDS["next_action_on"], DUE_ROW_FIELDS["status"]
_STAGE, _PREVIOUS_STAGE = DUE_ROW_FIELDS["stage"], DUE_ROW_FIELDS["previous_stage"]
_BALANCE, _CURRENCY = DUE_ROW_FIELDS["balance"], DUE_ROW_FIELDS["currency"]
_BROKEN_PROMISES, _SIGNALS = DUE_ROW_FIELDS["broken_promises"], DUE_ROW_FIELDS["signals"]
_LAST_CONTACT_ON, _LAST_PAYMENT_ON = DUE_ROW_FIELDS["last_contact_on"], DUE_ROW_FIELDS["last_payment_on"]
_STRATEGY, _POLICY = DUE_ROW_FIELDS["strategy"], DUE_ROW_FIELDS["policy"]


class _SharedPlan:
    """What planning writes for a case, but for the case's id: the same for every case alike in its plan's key."""

    __slots__ = ("awaiting_approval", "events", "missed", "next_action_on", "planned_through", "skipped", "stage",
                 "tails")

    def __init__(self, planned_through: str, next_action_on: str | None, tails: tuple[tuple[str, int], ...],
                 events: tuple[tuple[int, str, int | None, str | None, str | None, dict[str, Any]], ...],
                 missed: Plan | None, stage: str, skipped: int, awaiting_approval: int):
        self.planned_through, self.next_action_on = planned_through, next_action_on
        self.tails = tails  # (key tail, tail number) per action, in the plan's order
        # (index into ``tails``, kind, dpd, channel, step, data but for the key) per action with an event
        self.events = events
        self.missed = missed  # the plan, if it missed steps (its ``steps_missed`` event)
        self.stage = stage
        self.skipped, self.awaiting_approval = skipped, awaiting_approval


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
        # plan_rows' caches: a row's due date, cursor, status, stages and zone to what else
        # the plan reads of it (or, if nothing, to its _SharedPlan); then to the _SharedPlan.
        self._looks: dict[tuple[Any, ...], _SharedPlan | tuple[bool, bool, bool]] = {}
        self._shared: dict[tuple[Any, ...], _SharedPlan] = {}
        self._tail_numbers: dict[tuple[Any, ...], int] = {}
        self._tails: dict[int, tuple[Any, ...]] = {}

    def plan_rows(self, rows: Sequence[tuple[Any, ...]]) -> PlanBatch:
        """What ``plan`` writes for each of these rows of Store.due_case_rows, as one batch."""
        cursors: list[tuple[str, str | None, int, str | None]] = []
        actions: list[tuple[str, int, int]] = []
        events: list[Event] = []
        used: dict[int, _SharedPlan] = {}
        summary, now = self.summary, self.now
        looks_cache, shared_cache = self._looks, self._shared
        policies = self.rt.case_policies  # cases alike but for their policy plan apart
        for row in rows:
            case_id = row[_ID]
            looks_key = (row[_ANCHOR], row[_PLANNED_THROUGH], row[_STATUS], row[_STAGE], row[_PREVIOUS_STAGE],
                         row[_DEBTOR_TZ], policies.name_of(case_id, row[_STRATEGY], row[_POLICY]))
            looks = looks_cache.get(looks_key)
            if looks is None:
                looks = self._looks_at(row, looks_key)
            if isinstance(looks, _SharedPlan):
                shared = looks
            else:
                balance, promises, facts = looks
                key = (looks_key,
                       (row[_BALANCE], row[_CURRENCY]) if balance else None,
                       row[_BROKEN_PROMISES] if promises else None,
                       (row[_SIGNALS], row[_LAST_CONTACT_ON], row[_LAST_PAYMENT_ON], row[_BROKEN_PROMISES],
                        row[_BALANCE]) if facts else None)
                found = shared_cache.get(key)
                if found is None:
                    if len(shared_cache) >= 4096:
                        shared_cache.clear()  # bounded: balances make many keys on a few days
                    found = shared_cache[key] = self._share(row)
                shared = found
            cursors.append((shared.planned_through, shared.next_action_on, case_id, row[_PLANNED_THROUGH]))
            if shared.tails:
                used[id(shared)] = shared
                keys = [f"{case_id}:{tail}" for tail, _ in shared.tails]
                actions.extend(zip(keys, [case_id] * len(keys), [n for _, n in shared.tails], strict=True))
                for index, kind, dpd, channel, step, data in shared.events:
                    events.append(Event(kind=kind, at=now, case_id=case_id, stage=shared.stage, dpd=dpd,
                                        channel=channel, step=step, data={"key": keys[index], **data}))
                summary.skipped += shared.skipped
                summary.awaiting_approval += shared.awaiting_approval
            if shared.missed is not None:
                summary.missed += len(shared.missed.missed)
                events.append(self._missed_event(case_id, shared.stage, shared.missed))
        tails = {n: self._tails[n] for shared in used.values() for _, n in shared.tails}
        return PlanBatch(cursors=cursors, actions=actions, tails=tails, events=events, planned_at=now)

    def _looks_at(self, row: tuple[Any, ...], looks_key: tuple[Any, ...]) -> _SharedPlan | tuple[bool, bool, bool]:
        """What else of a row the plan reads (see policy.evaluation.looks_at); its _SharedPlan if nothing."""
        anchor = dt.date.fromisoformat(row[_ANCHOR]) if row[_ANCHOR] else None
        planned_through = dt.date.fromisoformat(row[_PLANNED_THROUGH]) if row[_PLANNED_THROUGH] else None
        policy = self.rt.case_policies.named(looks_key[-1])  # the case's policy, by name (see plan_rows)
        reads = looks_at(policy, anchor, planned_through, row[_STATUS] == Status.OPEN.value, self.today)
        looks = reads if any(reads) else self._share(row)
        if len(self._looks) >= 4096:
            self._looks.clear()  # bounded: a run meets a few hundred due dates and cursors
        self._looks[looks_key] = looks
        return looks

    def _share(self, row: tuple[Any, ...]) -> _SharedPlan:
        """The _SharedPlan of ``row``'s case, worked out from it (through ``plan``, the reference)."""
        case = due_row_case(row)
        result = evaluate(self.rt.policy_for(case), case, self.today)
        tails: list[tuple[str, int]] = []
        events: list[tuple[int, str, int | None, str | None, str | None, dict[str, Any]]] = []
        skipped = awaiting = 0
        for index, item in enumerate(result.items):
            _, tail, row_tail, event_kind, event_data = self._item(item, row[_DEBTOR_TZ])
            number = self._tail_numbers.get(row_tail)
            if number is None:
                number = self._tail_numbers[row_tail] = len(self._tail_numbers)
                self._tails[number] = row_tail
            tails.append((tail, number))
            if event_kind is not None:
                events.append((index, event_kind, item.dpd, item.channel, item.step, event_data))
                skipped += event_kind == "skipped"
                awaiting += event_kind != "skipped"
        return _SharedPlan(
            planned_through=self._planned_through(case).isoformat(),
            next_action_on=result.next_action_on.isoformat() if result.next_action_on else None,
            tails=tuple(tails), events=tuple(events), missed=result if result.missed else None,
            stage=case.stage.value, skipped=skipped, awaiting_approval=awaiting)

    def _missed_event(self, case_id: int, stage: str, result: Plan) -> Event:
        return Event(kind="steps_missed", at=self.now, case_id=case_id, stage=stage, dpd=result.dpd, data={
            "steps": [{"step": s, "dpd": d} for s, d in result.missed],
            "reason": "past their day when the case was planned; only required steps run late"})

    def plan(self, case: Case, debtor_tz: str | None) -> CasePlanWrite:
        result: Plan = evaluate(self.rt.policy_for(case), case, self.today)
        rows = []
        events: list[Event] = []
        for item in result.items:
            _, tail, row_tail, event_kind, event_data = self._item(item, debtor_tz)
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
            planned_through=self._planned_through(case),
            next_action_on=result.next_action_on,
            actions=rows,
            events=events,
            planned_at=self.now,
        )

    def _planned_through(self, case: Case) -> dt.date:
        return max(self.today, case.planned_through) if case.planned_through else self.today

    def _item(self, item: Planned, debtor_tz: str | None) -> _ItemRow:
        hit = self._items.get((id(item), debtor_tz))
        if hit is None or hit[0] is not item:
            hit = self._item_row(item, debtor_tz)
        return hit

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
            result = evaluate(rt.policy_for(case), case, today)
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
