"""The collection policy: load and validate its TOML, then decide what is due.

``evaluate(policy, case, today)`` is pure: a case and a date in, the plan
out. Nothing here touches the database or the clock.
"""

from __future__ import annotations

import bisect
import datetime as dt
import tomllib
from decimal import Decimal
from collections.abc import Callable, Iterable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import attrs

from dunning import lifecycle, money, text_checks
from dunning.action_key import ActionKey, occurrence_on
from dunning.compliance.risk import Risk, risk_class
from dunning.models import SIGNAL_KINDS, ActionKind, Case, Stage, Status
from dunning.staff import NOTIFY_ROLES

PRESETS = ("trade-receivables", "consumer-loans")
INTERNAL_ACTIONS = ("lock_account",)
AUDIENCES = ("debtor", "contacts")
DISCLOSURES = ("none", "location", "debt")
# The least time a letter or email that sets a deadline gives (see dunning.deadlines).
NOTICE_DAYS = 14
# Bounded so that a typo such as 36500 cannot make the plan table huge.
MAX_DPD = 3650
MIN_DPD = -365


class PolicyError(ValueError):
    """A policy that cannot be used; the message names the file, key, step and channel."""


@attrs.frozen
class Conditions:
    """When a step or a stage entry applies, beyond its days past due."""

    min_balance: str | None = None
    max_balance: str | None = None
    stages: tuple[Stage, ...] = ()
    min_broken_promises: int | None = None
    # Any of these abnormal signals seen on the case (relocation, business_closed, ...).
    signals: tuple[str, ...] = ()
    # One of these risk classes on the day (see dunning.compliance.risk).
    risk: tuple[str, ...] = ()

    def hold(self, case: Case, stage: Stage, today: dt.date | None = None) -> bool:
        if self.stages and stage not in self.stages:
            return False
        if self.signals and not set(self.signals) & set(case.signals):
            return False
        if self.risk and today is not None and risk_class(case, today).value not in self.risk:
            return False
        if self.min_balance is not None or self.max_balance is not None:
            # Compared in major units: "500.50" means the same in EUR and in
            # JPY (where no case can owe fractions of a yen).
            balance = money.to_decimal(case.balance, case.currency)
            if self.min_balance is not None and balance < Decimal(self.min_balance.replace(",", "")):
                return False
            if self.max_balance is not None and balance > Decimal(self.max_balance.replace(",", "")):
                return False
        if self.min_broken_promises is not None and case.broken_promises < self.min_broken_promises:
            return False
        return True


@attrs.frozen
class Step:
    name: str
    dpds: tuple[int, ...]
    channels: tuple[str, ...] = ()
    template: str | None = None
    notify: str | None = None
    action: str | None = None
    when: Conditions = Conditions()
    requires_approval: bool = False
    required: bool = False
    at: tuple[dt.time, ...] = ()
    audience: str = "debtor"
    disclosure: str = "none"
    fallback: str | None = None
    # Used instead of ``template`` once the debtor has broken a promise.
    firm_template: str | None = None
    description: str = ""

    def options(self) -> dict[str, Any]:
        """What delivery needs to know besides the channel and template."""
        opts: dict[str, Any] = {}
        if self.audience != "debtor":
            opts["audience"] = self.audience
        if self.disclosure != "none":
            opts["disclosure"] = self.disclosure
        if self.fallback:
            opts["fallback"] = self.fallback
        return opts


@attrs.frozen
class StageRule:
    stage: Stage
    entry_dpd: int | None = None
    when: Conditions = Conditions()
    requires_approval: bool = False
    # Days past due at which a case placed in this stage is taken back.
    recall_dpd: int | None = None
    # Enter at once, whatever the days past due, when one of these signals is
    # recorded or the debtor has broken this many promises.
    on_signals: tuple[str, ...] = ()
    on_broken_promises: int | None = None


@attrs.frozen
class Policy:
    name: str
    description: str
    stages: Mapping[Stage, StageRule]
    steps: tuple[Step, ...]
    source: str = "<policy>"
    # What is owed: "loan" (instalments of a loan) or "invoice" (trade
    # invoices). Templates word their messages by it (借款/还款 or 发票/付款).
    debt_kind: str = "invoice"
    # Days from a letter or email to the deadline it sets, at the least.
    notice_days: int = NOTICE_DAYS
    # Sorted days past due at which anything happens; filled by ``compile``.
    points: tuple[int, ...] = ()
    steps_at: Mapping[int, tuple[Step, ...]] = attrs.field(factory=dict)

    def channels(self) -> set[str]:
        return {c for step in self.steps for c in step.channels} | {
            s.fallback for s in self.steps if s.fallback
        }

    def step(self, name: str) -> Step | None:
        return next((s for s in self.steps if s.name == name), None)


@attrs.frozen
class Planned:
    """One thing the plan asks for; becomes a row of the outbox."""

    kind: ActionKind
    step: str
    dpd: int
    day: dt.date  # the local date this occurrence belongs to
    channel: str | None = None
    template: str | None = None
    target: str | None = None
    required: bool = False
    requires_approval: bool = False
    at: dt.time | None = None
    late: bool = False
    options: Mapping[str, Any] = attrs.field(factory=dict)

    def key(self, case_id: int) -> str:
        """The idempotency key: case:step:channel:occurrence (see ``ActionKey``)."""
        return str(ActionKey.for_day(case_id, self.step, self.channel or self.kind.value, self.day, self.at))

    def key_tail(self) -> str:
        """The key without its case: the same for every case that plans this item."""
        return f"{self.step}:{self.channel or self.kind.value}:{occurrence_on(self.day, self.at)}"


@attrs.frozen
class Plan:
    dpd: int
    items: tuple[Planned, ...] = ()
    missed: tuple[tuple[str, int], ...] = ()  # (step, dpd) dropped because they are past
    next_action_on: dt.date | None = None


# --- evaluation -------------------------------------------------------------


def dpd_on(case: Case, day: dt.date) -> int | None:
    if case.anchor_due_on is None:
        return None
    return (day - case.anchor_due_on).days


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
    today_dpd = (today - anchor).days
    points = policy.points
    hi_index = bisect.bisect_right(points, today_dpd)
    next_action_on = anchor + dt.timedelta(days=points[hi_index]) if hi_index < len(points) else None
    planned_through = case.planned_through
    if planned_through is not None and planned_through >= today:
        return Plan(dpd=today_dpd, next_action_on=next_action_on)
    if planned_through is None:
        low = today_dpd - 1 - MAX_DPD * 2  # never planned: everything earlier is past
    else:
        low = (planned_through - anchor).days
    lo_index = bisect.bisect_right(points, low)
    if lo_index >= hi_index:
        return Plan(dpd=today_dpd, next_action_on=next_action_on)

    # The plan depends on the case only through the fields below, and on
    # its balance or broken promises only if a rule on the days looked at
    # has a condition on them: the many cases due together with the same
    # due date and cursor share one Plan (it is immutable) instead of each
    # working it out again.
    index = _policy_index(policy)
    key = (
        id(policy), today, anchor, planned_through, case.stage, case.previous_stage,
        (case.balance, case.currency) if index.balance_rules[hi_index] != index.balance_rules[lo_index] else None,
        case.broken_promises if index.promise_rules[hi_index] != index.promise_rules[lo_index] else None,
        (case.signals, case.last_contact_on, case.last_payment_on, case.broken_promises, case.balance)
        if index.fact_rules[hi_index] != index.fact_rules[lo_index] else None,
    )
    hit = _PLANS.get(key)
    if hit is not None and hit[0] is policy:
        return hit[1]
    plan = _plan_days(policy, case, anchor, today_dpd, points[lo_index:hi_index], index.stage_points, next_action_on)
    if len(_PLANS) >= 4096:
        _PLANS.clear()  # bounded: a run meets a few due dates and cursors at a time
    _PLANS[key] = (policy, plan)
    return plan


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
    )
    if len(_POLICY_INDEXES) >= 64:
        _POLICY_INDEXES.clear()  # bounded: a process loads a handful of policies
    _POLICY_INDEXES[id(policy)] = (policy, index)
    return index


def _stage_changes(
    policy: Policy, case: Case, stage: Stage, point: int, today_dpd: int, day: dt.date
) -> tuple[Stage, list[Planned]]:
    planned: list[Planned] = []
    for rule in policy.stages.values():
        if rule.recall_dpd == point and stage is rule.stage:
            previous = case.previous_stage if case.stage is rule.stage else None
            back_to = previous or _stage_before(policy, rule.stage)
            planned.append(
                Planned(ActionKind.RECALL, f"recall-{rule.stage}", point, day, target=back_to.value, late=point != today_dpd)
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
                late=point != today_dpd,
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


_STEP_KEYS = {
    "name", "dpd", "every", "channels", "template", "notify", "action", "requires_approval",
    "required", "at", "audience", "disclosure", "fallback", "description",
    "min_balance", "max_balance", "stage", "min_broken_promises", "signals", "risk", "firm_template",
}
_STAGE_KEYS = {"entry_dpd", "requires_approval", "recall_dpd", "min_balance", "max_balance", "min_broken_promises",
               "signals", "risk", "on_signals", "on_broken_promises"}


def load_policy_text(text: str, source: str) -> Policy:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{source}: not valid TOML: {text_checks.toml_error(exc, text)}") from None
    return parse_policy(data, source)


def load_policy(name_or_path: str, base_dir: Path | None = None) -> Policy:
    """A preset by name, or a policy file by path (relative to ``base_dir``)."""
    if name_or_path in PRESETS:
        return load_policy_text(preset_text(name_or_path), f"preset {name_or_path}")
    path = Path(name_or_path)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    if not path.exists():
        raise PolicyError(
            f"{name_or_path!r} is neither a preset ({', '.join(PRESETS)}) nor an existing policy file"
        )
    return load_policy_text(read_policy_file(path), str(path))


def read_policy_file(path: Path) -> str:
    try:
        return text_checks.read_utf8(path)
    except ValueError as exc:
        raise PolicyError(f"{path}: {exc}") from None


def preset_text(name: str) -> str:
    if name not in PRESETS:
        raise PolicyError(f"no preset named {name!r}; presets: {', '.join(PRESETS)}")
    return resources.files("dunning").joinpath(f"presets/{name}.toml").read_text(encoding="utf-8")


# What a policy's debts are, for the wording of its messages.
DEBT_KINDS = ("invoice", "loan")


def parse_policy(data: Mapping[str, Any], source: str) -> Policy:
    for key in data:
        if key not in {"name", "description", "debt_kind", "notice_days", "stages", "steps"}:
            raise PolicyError(f"{source}: unknown key '{key}' (allowed: name, description, debt_kind, notice_days, stages, "
                              "steps)")
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise PolicyError(f"{source}: 'name' is required and must be a string")
    debt_kind = data.get("debt_kind", "invoice")
    if debt_kind not in DEBT_KINDS:
        raise PolicyError(f"{source}: 'debt_kind' must be one of {', '.join(DEBT_KINDS)}, got {debt_kind!r}")
    stages = _parse_stages(data.get("stages", {}), source)
    raw_steps = data.get("steps", [])
    if not isinstance(raw_steps, list):
        raise PolicyError(f"{source}: 'steps' must be an array of tables ([[steps]])")
    steps: list[Step] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_steps):
        step = _parse_step(raw, index, source)
        if step.name in seen:
            raise PolicyError(f"{source}: step '{step.name}' is defined twice")
        seen.add(step.name)
        steps.append(step)
    notice_days = _int(data.get("notice_days", NOTICE_DAYS), f"{source}: 'notice_days'", low=1, high=365)
    return compile_policy(Policy(name=name, description=str(data.get("description", "")), stages=stages,
                                 steps=tuple(steps), source=source, debt_kind=debt_kind, notice_days=notice_days))


def compile_policy(policy: Policy) -> Policy:
    """Index the steps by day so evaluation is a binary search, not a scan."""
    at: dict[int, list[Step]] = {}
    for step in policy.steps:
        for d in step.dpds:
            at.setdefault(d, []).append(step)
    points = set(at)
    for rule in policy.stages.values():
        if rule.entry_dpd is not None:
            points.add(rule.entry_dpd)
        if rule.recall_dpd is not None:
            points.add(rule.recall_dpd)
    return attrs.evolve(policy, points=tuple(sorted(points)), steps_at={d: tuple(s) for d, s in at.items()})


def _where(step: str | None, source: str) -> str:
    return f"{source}: step '{step}'" if step else source


def _conditions(raw: Mapping[str, Any], where: str) -> Conditions:
    values: dict[str, Any] = {}
    for key in ("min_balance", "max_balance"):
        if key in raw:
            amount = raw[key]
            if not isinstance(amount, (str, int)) or isinstance(amount, bool):
                raise PolicyError(f"{where}: '{key}' must be an amount such as \"500.00\"")
            try:
                minor = money.parse(amount, "USD")
            except money.MoneyError as exc:
                raise PolicyError(f"{where}: '{key}': {exc}") from None
            if minor < 0:
                raise PolicyError(f"{where}: '{key}' must not be negative, got {amount!r}")
            values[key] = str(amount)
    if "stage" in raw:
        names = raw["stage"] if isinstance(raw["stage"], list) else [raw["stage"]]
        values["stages"] = tuple(_stage(n, f"{where}: 'stage'") for n in names)
    if "min_broken_promises" in raw:
        values["min_broken_promises"] = _int(raw["min_broken_promises"], f"{where}: 'min_broken_promises'", low=0)
    if "signals" in raw:
        values["signals"] = _names(raw["signals"], SIGNAL_KINDS, f"{where}: 'signals'")
    if "risk" in raw:
        values["risk"] = _names(raw["risk"], tuple(r.value for r in Risk), f"{where}: 'risk'")
    return Conditions(**values)


def _names(value: Any, allowed: Sequence[str], where: str) -> tuple[str, ...]:
    names = value if isinstance(value, list) else [value]
    for name in names:
        if name not in allowed:
            raise PolicyError(f"{where} has {name!r}; use {', '.join(allowed)}")
    return tuple(names)


def _stage(name: Any, where: str) -> Stage:
    try:
        return Stage(name)
    except ValueError:
        raise PolicyError(f"{where}: unknown stage {name!r} (stages: {', '.join(Stage)})") from None


def _int(value: Any, where: str, *, low: int = MIN_DPD, high: int = MAX_DPD) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise PolicyError(f"{where} must be a whole number, got {value!r}")
    if not low <= value <= high:
        raise PolicyError(f"{where} must be between {low} and {high}, got {value}")
    return value


def _bool(raw: Mapping[str, Any], key: str, where: str) -> bool:
    value = raw.get(key, False)
    if not isinstance(value, bool):
        raise PolicyError(f"{where}: '{key}' must be true or false")
    return value


def _parse_stages(raw: Any, source: str) -> dict[Stage, StageRule]:
    if not isinstance(raw, dict):
        raise PolicyError(f"{source}: 'stages' must be a table ([stages.onsite] ...)")
    rules: dict[Stage, StageRule] = {}
    for name, table in raw.items():
        stage = _stage(name, f"{source}: stages")
        where = f"{source}: stages.{name}"
        if not isinstance(table, dict):
            raise PolicyError(f"{where} must be a table")
        for key in table:
            if key not in _STAGE_KEYS:
                raise PolicyError(f"{where}: unknown key '{key}' (allowed: {', '.join(sorted(_STAGE_KEYS))})")
        if stage is Stage.INTERNAL and table.get("entry_dpd") is not None:
            raise PolicyError(f"{where}: 'entry_dpd' makes no sense for internal, where every case starts")
        entry = _int(table["entry_dpd"], f"{where}: 'entry_dpd'") if "entry_dpd" in table else None
        recall = _int(table["recall_dpd"], f"{where}: 'recall_dpd'") if "recall_dpd" in table else None
        if recall is not None and stage is not Stage.AGENCY:
            raise PolicyError(f"{where}: 'recall_dpd' applies only to the agency stage")
        if recall is not None and entry is not None and recall <= entry:
            raise PolicyError(f"{where}: 'recall_dpd' ({recall}) must come after 'entry_dpd' ({entry})")
        rules[stage] = StageRule(
            stage=stage,
            entry_dpd=entry,
            when=_conditions(table, where),
            requires_approval=_bool(table, "requires_approval", where),
            recall_dpd=recall,
            on_signals=_names(table["on_signals"], SIGNAL_KINDS, f"{where}: 'on_signals'") if "on_signals" in table else (),
            on_broken_promises=(_int(table["on_broken_promises"], f"{where}: 'on_broken_promises'", low=1)
                                if "on_broken_promises" in table else None),
        )
    entries = [(r.entry_dpd, r.stage) for r in rules.values() if r.entry_dpd is not None]
    ordered = sorted(entries, key=lambda e: lifecycle.rank(e[1]))
    for (d1, s1), (d2, s2) in zip(ordered, ordered[1:]):
        if d2 < d1:
            raise PolicyError(f"{source}: stages.{s2}.entry_dpd ({d2}) comes before stages.{s1}.entry_dpd ({d1})")
    return rules


def _parse_step(raw: Any, index: int, source: str) -> Step:
    if not isinstance(raw, dict):
        raise PolicyError(f"{source}: steps[{index}] must be a table")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise PolicyError(f"{source}: steps[{index}] needs a 'name'")
    where = _where(name, source)
    if ":" in name:
        raise PolicyError(f"{where}: a step name may not contain ':'")
    for key in raw:
        if key not in _STEP_KEYS:
            raise PolicyError(f"{where}: unknown key '{key}' (allowed: {', '.join(sorted(_STEP_KEYS))})")
    dpds = _dpds(raw, where)
    channels = raw.get("channels", [])
    if isinstance(channels, str):
        channels = [channels]
    if not isinstance(channels, list) or not all(isinstance(c, str) and c for c in channels):
        raise PolicyError(f"{where}: 'channels' must be a list of channel names")
    notify, action = raw.get("notify"), raw.get("action")
    given = [k for k, v in (("channels", channels), ("notify", notify), ("action", action)) if v]
    if len(given) != 1:
        raise PolicyError(f"{where}: give exactly one of 'channels', 'notify' or 'action' (got {', '.join(given) or 'none'})")
    if notify is not None and notify not in NOTIFY_ROLES:
        raise PolicyError(f"{where}: 'notify' must be one of {', '.join(NOTIFY_ROLES)}, got {notify!r}")
    if action is not None and action not in INTERNAL_ACTIONS:
        raise PolicyError(f"{where}: 'action' must be one of {', '.join(INTERNAL_ACTIONS)}, got {action!r}")
    template = raw.get("template")
    if channels and not isinstance(template, str):
        raise PolicyError(f"{where}: a step with channels needs a 'template'")
    audience = raw.get("audience", "debtor")
    if audience not in AUDIENCES:
        raise PolicyError(f"{where}: 'audience' must be one of {', '.join(AUDIENCES)}, got {audience!r}")
    disclosure = raw.get("disclosure", "none")
    if disclosure not in DISCLOSURES:
        raise PolicyError(f"{where}: 'disclosure' must be one of {', '.join(DISCLOSURES)}, got {disclosure!r}")
    fallback = raw.get("fallback")
    if fallback is not None and not isinstance(fallback, str):
        raise PolicyError(f"{where}: 'fallback' must be a channel name")
    firm_template = raw.get("firm_template")
    if firm_template is not None and (not isinstance(firm_template, str) or not channels):
        raise PolicyError(f"{where}: 'firm_template' must be a template name, on a step with channels")
    return Step(
        name=name,
        dpds=dpds,
        channels=tuple(channels),
        template=template,
        notify=notify,
        action=action,
        when=_conditions(raw, where),
        requires_approval=_bool(raw, "requires_approval", where),
        required=_bool(raw, "required", where),
        at=_times(raw["at"], where) if "at" in raw else (),
        audience=audience,
        disclosure=disclosure,
        fallback=fallback,
        firm_template=firm_template,
        description=str(raw.get("description", "")),
    )


def _dpds(raw: Mapping[str, Any], where: str) -> tuple[int, ...]:
    if "dpd" not in raw:
        raise PolicyError(f"{where}: 'dpd' is required (a day such as 7, or a range such as [14, 27])")
    value = raw["dpd"]
    every = raw.get("every")
    if isinstance(value, list):
        if len(value) != 2:
            raise PolicyError(f"{where}: 'dpd' as a range needs two days, [first, last]")
        first, last = (_int(v, f"{where}: 'dpd'") for v in value)
        if last < first:
            raise PolicyError(f"{where}: 'dpd' range [{first}, {last}] ends before it starts")
        step = _int(every, f"{where}: 'every'", low=1) if every is not None else 1
        return tuple(range(first, last + 1, step))
    if every is not None:
        raise PolicyError(f"{where}: 'every' needs 'dpd' to be a range [first, last]")
    return (_int(value, f"{where}: 'dpd'"),)


def _times(values: Any, where: str) -> tuple[dt.time, ...]:
    if not isinstance(values, list) or not values:
        raise PolicyError(f"{where}: 'at' must be a list of local times such as [\"09:30\", \"15:00\"]"
                          + (" (leave it out for no set time)" if values == [] else ""))
    times: list[dt.time] = []
    for value in values:
        try:
            times.append(dt.time.fromisoformat(value))
        except (TypeError, ValueError):
            raise PolicyError(f"{where}: 'at' has {value!r}, not a time such as \"09:30\"") from None
    if len(set(times)) != len(times):
        raise PolicyError(f"{where}: 'at' lists a time twice")
    return tuple(sorted(times))


def check_channels(policy: Policy, known: Iterable[str], enabled: Iterable[str]) -> list[str]:
    """Raise for a channel nobody provides; return warnings for ones not enabled."""
    known_set, enabled_set = set(known), set(enabled)
    warnings: list[str] = []
    for step in policy.steps:
        for channel in list(step.channels) + ([step.fallback] if step.fallback else []):
            if channel not in known_set:
                raise PolicyError(
                    f"{policy.source}: step '{step.name}': unknown channel '{channel}' "
                    f"(known: {', '.join(sorted(known_set))})"
                )
            if channel not in enabled_set:
                warnings.append(
                    f"step '{step.name}': channel '{channel}' is not enabled; its actions will be skipped with an event"
                )
    return warnings
