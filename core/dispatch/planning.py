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

import collections
import contextlib
import operator
import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from dunning import calendar
from dunning.dispatch.heap import start_up_heap_frozen
from dunning.dispatch.summary import ProgressCallback, RunSummary
from dunning.models import ActionKind, ActionStatus, Case, Event, Status
from dunning.policy import Plan, Planned, evaluate
from dunning.policy.evaluation import balance_side, looks_at
from dunning.runtime import Runtime
from dunning.store import DUE_ROW_FIELDS, CasePlanWrite, PlanBatch, PlanRows, action_row_tail, due_row_case
from dunning.store.planned_events import EventTemplate
from dunning.strategy_assign import assign_strategies

# Cases per write transaction of ``plan``: each commit waits for the disk (synchronous FULL), so fewer,
# bigger ones; what a batch holds per case is two numbers, so memory stays small. Due cases are read
# READ_PAGE at a time (rows of twenty-odd values each), or PLAN_BATCH if that is less.
PLAN_BATCH = 10_000
READ_PAGE = 2000


def _due_batches(rt: Runtime, today: dt.date) -> Iterator[list[tuple[Case, str | None]]]:
    after: tuple[str, int] | None = None
    while True:
        batch = rt.store.due_cases(today, after, min(PLAN_BATCH, READ_PAGE))
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
        _save(rt, _joined((planner.plan_rows(rows) for rows in _due_row_batches(rt, today)), PLAN_BATCH), summary,
              progress)


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
        rows = rt.store.due_case_rows(today, after, min(PLAN_BATCH, READ_PAGE))
        if not rows:
            return
        last = rows[-1]
        after = (last[_NEXT_ACTION_ON] or "", last[_ID])
        yield rows


def _joined(batches: Iterable[PlanBatch], size: int) -> Iterator[PlanBatch]:
    """Consecutive batches joined into batches of at least ``size`` cases (the last one may be smaller)."""
    joined: PlanBatch | None = None
    for batch in batches:
        if joined is None:
            joined = batch
        else:
            joined.case_ids.extend(batch.case_ids)
            joined.plan_numbers.extend(batch.plan_numbers)
            joined.plans.update(batch.plans)
        if len(joined) >= size:
            yield joined
            joined = None
    if joined is not None:
        yield joined


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
# What a row's plan depends on whatever the policy's rules read: due date, cursor, status, stages, zone.
_LOOKS_KEY = operator.itemgetter(_ANCHOR, _PLANNED_THROUGH, _STATUS, _STAGE, _PREVIOUS_STAGE, _DEBTOR_TZ)
_STRATEGY, _POLICY = DUE_ROW_FIELDS["strategy"], DUE_ROW_FIELDS["policy"]


class _SharedPlan:
    """What planning writes for a case, but for the case's id: the same for every case alike in its plan's key."""

    __slots__ = ("awaiting_approval", "missed", "number", "rows", "skipped")

    def __init__(self, number: int, rows: PlanRows, skipped: int, awaiting_approval: int, missed: int):
        self.number, self.rows = number, rows  # the rows, cursor and events, and their number in a PlanBatch
        self.skipped, self.awaiting_approval, self.missed = skipped, awaiting_approval, missed


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
        self._plans_made = 0  # numbers the plans: a PlanBatch refers to each by its number

    def plan_rows(self, rows: Sequence[tuple[Any, ...]]) -> PlanBatch:
        """What ``plan`` writes for each of these rows of Store.due_case_rows, as one batch."""
        ids: list[int] = []
        shareds: list[_SharedPlan] = []
        looks_cache, shared_cache, looks_key_of = self._looks, self._shared, _LOOKS_KEY
        policies = self.rt.case_policies  # cases alike but for their policy plan apart
        name_of, named = policies.name_of, policies.named
        for row in rows:
            looks_key = (*looks_key_of(row), name_of(row[_ID], row[_STRATEGY], row[_POLICY]))
            looks = looks_cache.get(looks_key)
            if looks is None:
                looks = self._looks_at(row, looks_key)
            if type(looks) is _SharedPlan:
                shared = looks
            else:
                balance, promises, facts = looks  # type: ignore[misc]
                key = (looks_key,
                       balance_side(named(looks_key[-1]), row[_BALANCE], row[_CURRENCY]) if balance else None,
                       row[_BROKEN_PROMISES] if promises else None,
                       (row[_SIGNALS], row[_LAST_CONTACT_ON], row[_LAST_PAYMENT_ON], row[_BROKEN_PROMISES],
                        row[_BALANCE]) if facts else None)
                found = shared_cache.get(key)
                if found is None:
                    if len(shared_cache) >= 4096:
                        shared_cache.clear()  # bounded: signals and contact dates make many keys
                    found = shared_cache[key] = self._share(row)
                shared = found
            ids.append(row[_ID])
            shareds.append(shared)
        # Counted per plan: every case of a plan skips, awaits and misses the same.
        summary = self.summary
        plans: dict[int, PlanRows] = {}
        for shared, count in collections.Counter(shareds).items():
            plans[shared.number] = shared.rows
            summary.skipped += shared.skipped * count
            summary.awaiting_approval += shared.awaiting_approval * count
            summary.missed += shared.missed * count
        return PlanBatch(case_ids=ids, plan_numbers=[shared.number for shared in shareds], plans=plans,
                         planned_at=self.now)

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
        actions: list[tuple[str, tuple[Any, ...]]] = []
        events: list[EventTemplate] = []
        skipped = awaiting = 0
        stage = case.stage.value
        for item in result.items:
            _, tail, row_tail, event_kind, event_data = self._item(item, row[_DEBTOR_TZ])
            actions.append((f":{tail}", row_tail))
            if event_kind is not None:
                events.append(EventTemplate(kind=event_kind, stage=stage, dpd=item.dpd, channel=item.channel,
                                            step=item.step, data=event_data, key_tail=tail))
                skipped += event_kind == "skipped"
                awaiting += event_kind != "skipped"
        if result.missed:
            events.append(EventTemplate(kind="steps_missed", stage=stage, dpd=result.dpd, channel=None, step=None,
                                        data=_missed_data(result)))
        rows = PlanRows(
            expected_planned_through=row[_PLANNED_THROUGH],
            planned_through=self._planned_through(case).isoformat(),
            next_action_on=result.next_action_on.isoformat() if result.next_action_on else None,
            actions=tuple(actions), events=tuple(events))
        self._plans_made += 1
        return _SharedPlan(self._plans_made, rows, skipped, awaiting, len(result.missed))

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
            events.append(self._event("steps_missed", case, result.dpd, None, None, _missed_data(result)))
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


def _missed_data(result: Plan) -> dict[str, Any]:
    """The data of a ``steps_missed`` event."""
    return {"steps": [{"step": s, "dpd": d} for s, d in result.missed],
            "reason": "past their day when the case was planned; only required steps run late"}


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
