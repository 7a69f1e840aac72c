"""What is due for a case on a day: ``evaluate(policy, case, today)``.

Pure: a case and a date in, the plan out. Nothing here touches the
database or the clock.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any

import attrs

from dunning import lifecycle, money
from dunning.days_past_due import dpd_on as dpd_on  # still importable from dunning.policy
from dunning.models import ActionKind, Case, Stage, Status
from dunning.policy.model import MAX_DPD, Conditions, Plan, Planned, Policy, Step


def evaluate(policy: Policy, case: Case, today: dt.date) -> Plan:
    """What is due for ``case`` on ``today`` (a date in the business's zone).

    Every day since the case was last planned is looked at: today's steps
    run; earlier steps are dropped (and reported in ``missed``) unless they
    are ``required``; stage changes are never dropped. Stage entries and
    recalls are projected within the plan, so a case imported at 200 days
    past due plans the same stage path a case followed day by day would.
    """
    # Planning calls this once per due case, a million times on a big
    # portfolio: hence the locals and the early returns.
    anchor = case.anchor_due_on
    if anchor is None or case.status is not Status.OPEN:
        return Plan(dpd=0)
    planned_through = case.planned_through
    today_dpd, lo_index, hi_index = _window(policy.points, anchor, planned_through, today)
    points = policy.points
    next_action_on = anchor + dt.timedelta(days=points[hi_index]) if hi_index < len(points) else None
    if lo_index >= hi_index:
        return Plan(dpd=today_dpd, next_action_on=next_action_on)

    # The plan depends on the case only through the fields below, and on
    # its balance or broken promises only if a rule on the days looked at
    # has a condition on them: the many cases due together with the same
    # due date and cursor share one Plan (it is immutable) instead of each
    # working it out again.
    index = _policy_index(policy)
    balance, promises, facts = _looks_at(index, lo_index, hi_index)
    key = (
        id(policy), today, anchor, planned_through, case.stage, case.previous_stage,
        balance_side(policy, case.balance, case.currency) if balance else None,
        case.broken_promises if promises else None,
        (case.signals, case.last_contact_on, case.last_payment_on, case.broken_promises, case.balance)
        if facts else None,
    )
    hit = _PLANS.get(key)
    if hit is not None and hit[0] is policy:
        return hit[1]
    plan = _plan_days(policy, case, anchor, today_dpd, points[lo_index:hi_index], index.stage_points, next_action_on)
    if len(_PLANS) >= 4096:
        _PLANS.clear()  # bounded: a run meets a few due dates and cursors at a time
    _PLANS[key] = (policy, plan)
    return plan


def _window(points: Sequence[int], anchor: dt.date, planned_through: dt.date | None,
            today: dt.date) -> tuple[int, int, int]:
    """(today's days past due, lo, hi): ``points[lo:hi]`` are the days ``evaluate`` looks at (none if lo >= hi)."""
    today_dpd = (today - anchor).days
    hi_index = bisect.bisect_right(points, today_dpd)
    if planned_through is not None and planned_through >= today:
        return today_dpd, hi_index, hi_index
    # Never planned: everything earlier is past.
    low = today_dpd - 1 - MAX_DPD * 2 if planned_through is None else (planned_through - anchor).days
    return today_dpd, bisect.bisect_right(points, low), hi_index


def _looks_at(index: _PolicyIndex, lo_index: int, hi_index: int) -> tuple[bool, bool, bool]:
    """Whether a rule on ``points[lo_index:hi_index]`` has a condition on the balance, on broken promises,
    on the facts (signals, risk class)."""
    return (index.balance_rules[hi_index] != index.balance_rules[lo_index],
            index.promise_rules[hi_index] != index.promise_rules[lo_index],
            index.fact_rules[hi_index] != index.fact_rules[lo_index])


def looks_at(policy: Policy, anchor: dt.date | None, planned_through: dt.date | None, open_case: bool,
             today: dt.date) -> tuple[bool, bool, bool]:
    """What ``evaluate`` reads of a case beyond its due date, cursor, status and stages, on ``today``.

    (balance and currency, broken promises, facts: signals, last contact,
    last payment, broken promises and balance). Cases alike in those fields
    and in what this says is read get the same Plan: planning uses this to
    share plans between rows before it builds a Case for them.
    """
    if anchor is None or not open_case:
        return False, False, False
    _, lo_index, hi_index = _window(policy.points, anchor, planned_through, today)
    if lo_index >= hi_index:
        return False, False, False
    return _looks_at(_policy_index(policy), lo_index, hi_index)


def _plan_days(policy: Policy, case: Case, anchor: dt.date, today_dpd: int, days: Sequence[int],
               stage_points: frozenset[int], next_action_on: dt.date | None) -> Plan:
    """``evaluate``'s work for the days past due in ``days`` (those after the cursor, up to today)."""
    items: list[Planned] = []
    missed: list[tuple[str, int]] = []
    stage = case.stage
    steps_at = policy.steps_at
    for point in days:
        is_today = point == today_dpd
        day = anchor + dt.timedelta(days=point)
        stage_items: list[Planned] = []
        if point in stage_points:
            stage, stage_items = _stage_changes(policy, case, stage, point, today_dpd, day)
        steps: list[Planned] = []
        for step in steps_at.get(point, ()):
            if not step.when.hold(case, stage, day):
                continue
            if not is_today and not step.required:
                missed.append((step.name, point))
                continue
            steps.extend(_shared_planned(step, point, day, not is_today))
        if stage_items:
            # Recalls first, then the day's steps, then stage entries.
            items.extend(i for i in stage_items if i.kind is ActionKind.RECALL)
            items.extend(steps)
            items.extend(i for i in stage_items if i.kind is ActionKind.ESCALATE)
        else:
            items.extend(steps)
    return Plan(dpd=today_dpd, items=tuple(items), missed=tuple(missed), next_action_on=next_action_on)


# Plans already worked out (see ``evaluate``). The entry holds the policy,
# so the id in its key cannot be reused meanwhile.
_PLANS: dict[tuple[Any, ...], tuple[Policy, Plan]] = {}


@attrs.frozen
class _PolicyIndex:
    """What ``evaluate`` needs to know about a policy's rules beyond ``points``."""

    # Days past due at which a stage rule can do anything (an entry or a
    # recall): other days skip ``_stage_changes``.
    stage_points: frozenset[int]
    # How many of ``points[:i]`` have a rule with a condition on the balance
    # (or on broken promises), for i in 0..len(points): a window of days has
    # one if the counts at its ends differ.
    balance_rules: tuple[int, ...]
    promise_rules: tuple[int, ...]
    # ... or on signals or the risk class.
    fact_rules: tuple[int, ...]
    # The balance thresholds of the rules' conditions (``min_balance``, ``max_balance``), in major units,
    # and per currency the same in minor units (filled in as currencies come).
    min_balances: tuple[Decimal, ...] = ()
    max_balances: tuple[Decimal, ...] = ()
    in_minor_units: dict[str, tuple[tuple[Decimal, ...], tuple[Decimal, ...]]] = attrs.field(factory=dict)


def balance_side(policy: Policy, balance: int, currency: str) -> tuple[Any, ...]:
    """Which side of each balance threshold of ``policy``'s rules ``balance`` is on.

    All that a rule's balance condition (``Conditions.hold``: at least
    ``min_balance``, at most ``max_balance``, in major units) can tell apart:
    cases on the same sides of every threshold get the same plan, whatever
    their balances. Compared exactly, in minor units. An unknown currency
    (which ``hold`` would refuse) keys on the balance itself.
    """
    index = _policy_index(policy)
    thresholds = index.in_minor_units.get(currency)
    if thresholds is None:
        try:
            exp = money.exponent(currency)
        except money.MoneyError:
            return (currency, balance)
        thresholds = index.in_minor_units[currency] = (
            tuple(t.scaleb(exp) for t in index.min_balances), tuple(t.scaleb(exp) for t in index.max_balances))
    at_least, at_most = thresholds
    return (currency, tuple([balance >= t for t in at_least]), tuple([balance <= t for t in at_most]))


_POLICY_INDEXES: dict[int, tuple[Policy, _PolicyIndex]] = {}


def _policy_index(policy: Policy) -> _PolicyIndex:
    hit = _POLICY_INDEXES.get(id(policy))
    if hit is not None and hit[0] is policy:
        return hit[1]
    conditions: dict[int, list[Conditions]] = {}
    for point, steps in policy.steps_at.items():
        conditions.setdefault(point, []).extend(step.when for step in steps)
    for rule in policy.stages.values():
        if rule.entry_dpd is not None:  # recalls have no conditions
            conditions.setdefault(rule.entry_dpd, []).append(rule.when)

    def running_count(depends: Callable[[Conditions], bool]) -> tuple[int, ...]:
        counts = [0]
        for point in policy.points:
            counts.append(counts[-1] + any(depends(c) for c in conditions.get(point, ())))
        return tuple(counts)

    index = _PolicyIndex(
        stage_points=frozenset(
            d for rule in policy.stages.values() for d in (rule.entry_dpd, rule.recall_dpd) if d is not None
        ),
        balance_rules=running_count(lambda c: c.min_balance is not None or c.max_balance is not None),
        promise_rules=running_count(lambda c: c.min_broken_promises is not None),
        fact_rules=running_count(lambda c: bool(c.signals or c.risk)),
        min_balances=_thresholds(c.min_balance for cs in conditions.values() for c in cs),
        max_balances=_thresholds(c.max_balance for cs in conditions.values() for c in cs),
    )
    if len(_POLICY_INDEXES) >= 64:
        _POLICY_INDEXES.clear()  # bounded: a process loads a handful of policies
    _POLICY_INDEXES[id(policy)] = (policy, index)
    return index


def _thresholds(amounts: Iterable[str | None]) -> tuple[Decimal, ...]:
    """The distinct amounts of conditions, as ``Conditions.hold`` reads them."""
    return tuple(sorted({Decimal(a.replace(",", "")) for a in amounts if a is not None}))


def _stage_changes(
    policy: Policy, case: Case, stage: Stage, point: int, today_dpd: int, day: dt.date
) -> tuple[Stage, list[Planned]]:
    planned: list[Planned] = []
    late = point != today_dpd
    applied_on = day + dt.timedelta(days=today_dpd - point) if late else None
    for rule in policy.stages.values():
        if rule.recall_dpd == point and stage is rule.stage:
            previous = case.previous_stage if case.stage is rule.stage else None
            back_to = previous or _stage_before(policy, rule.stage)
            planned.append(
                Planned(
                    ActionKind.RECALL, f"recall-{rule.stage}", point, day, target=back_to.value, late=late,
                    applied_on=applied_on,
                )
            )
            stage = back_to
    for rule in policy.stages.values():
        if rule.entry_dpd != point or lifecycle.rank(rule.stage) <= lifecycle.rank(stage):
            continue
        # A stage whose recall day has already passed is not worth entering.
        if rule.recall_dpd is not None and rule.recall_dpd <= today_dpd:
            continue
        if not rule.when.hold(case, stage, day):
            continue
        planned.append(
            Planned(
                ActionKind.ESCALATE,
                f"enter-{rule.stage}",
                point,
                day,
                target=rule.stage.value,
                requires_approval=rule.requires_approval,
                late=late,
                applied_on=applied_on,
            )
        )
        if not rule.requires_approval:
            stage = rule.stage
    return stage, planned


def _stage_before(policy: Policy, stage: Stage) -> Stage:
    earlier = [s for s in lifecycle.STAGE_ORDER if lifecycle.rank(s) < lifecycle.rank(stage)]
    return earlier[-1] if earlier else Stage.INTERNAL


def _planned_for_step(step: Step, point: int, day: dt.date, *, late: bool) -> list[Planned]:
    common: dict[str, Any] = dict(step=step.name, dpd=point, day=day, template=step.template, required=step.required,
                  requires_approval=step.requires_approval, late=late, options=step.options())
    if step.notify:
        return [Planned(ActionKind.NOTICE, target=step.notify, **common)]
    if step.action:
        return [Planned(ActionKind(step.action), **common)]
    slots: Sequence[dt.time | None] = step.at or (None,)
    return [
        Planned(ActionKind.OUTREACH, channel=channel, at=slot, **common)
        for channel in step.channels
        for slot in slots
    ]


# What a step plans on a given day does not depend on the case, and Planned
# is immutable, so cases due on the same day share one tuple of items
# instead of each building identical ones (a million cases falling due
# together make a million plans). Keyed by the step's identity: the entry
# holds the step itself, so its id cannot be reused while the entry lives.
_SHARED_PLANNED: dict[tuple[int, int, dt.date, bool], tuple[Step, tuple[Planned, ...]]] = {}
_SHARED_PLANNED_MAX = 4096


def _shared_planned(step: Step, point: int, day: dt.date, late: bool) -> tuple[Planned, ...]:
    key = (id(step), point, day, late)
    hit = _SHARED_PLANNED.get(key)
    if hit is not None and hit[0] is step:
        return hit[1]
    items = tuple(_planned_for_step(step, point, day, late=late))
    if len(_SHARED_PLANNED) >= _SHARED_PLANNED_MAX:
        _SHARED_PLANNED.clear()  # bounded: a long simulation walks many days
    _SHARED_PLANNED[key] = (step, items)
    return items


def _next_day(policy: Policy, anchor: dt.date, today_dpd: int) -> dt.date | None:
    index = bisect.bisect_right(policy.points, today_dpd)
    if index >= len(policy.points):
        return None
    return anchor + dt.timedelta(days=policy.points[index])


# --- loading and validation ---------------------------------------------------


