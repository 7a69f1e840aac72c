"""What a policy file may hold: its tables as attrs classes, checked by ``dunning.schema``.

``dunning.policy.from_toml`` structures a file into ``PolicyFile`` and then
builds the model (``Step``, ``StageRule``, ``Conditions``) from it. The rules
a type cannot say (a range's order, a step's one kind of outreach, stages in
order) are validators and ``__attrs_post_init__`` checks here.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from dunning import lifecycle, money
from dunning.compliance.risk import Risk
from dunning.models import SIGNAL_KINDS, Stage
from dunning.policy.model import AUDIENCES, DISCLOSURES, INTERNAL_ACTIONS, MAX_DPD, MIN_DPD, NOTICE_DAYS
from dunning.schema import Invalid, must, one_of
from dunning.staff import NOTIFY_ROLES

# What a policy's debts are, for the wording of its messages.
DEBT_KINDS = ("invoice", "loan")
RISKS = tuple(r.value for r in Risk)
STAGES = tuple(s.value for s in Stage)


def days(low: int = MIN_DPD, high: int = MAX_DPD) -> Any:
    """A whole number of days from ``low`` to ``high``."""
    return must("a whole number", lambda n: low <= n <= high, fails=f"must be between {low} and {high}, got {{value}}")


def listed(value: str | Sequence[str] | None) -> tuple[str, ...]:
    """One name or a list of them, as a tuple."""
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def names_in(allowed: Sequence[str]) -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    """A validator: one name or a list of names, each among ``allowed``."""

    def check(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        for name in listed(value):
            if name not in allowed:
                raise Invalid(f"{{key}} has {name!r}; use {', '.join(allowed)}", attribute.name)

    return check


def _minor(attribute: attrs.Attribute[Any], value: str | int) -> int:
    """``value`` in minor units, or Invalid naming the key with money's own message."""
    try:
        return money.parse(value, "USD")
    except money.MoneyError as exc:
        raise Invalid(f"{{key}}: {exc}", attribute.name) from None


def amount(_instance: Any, attribute: attrs.Attribute[Any], value: str | int | None) -> None:
    """An amount in major units ("500.00"), never negative."""
    if value is not None and _minor(attribute, value) < 0:
        raise Invalid(f"{{key}} must not be negative, got {value!r}", attribute.name)


AMOUNT = {"expects": 'an amount such as "500.00"'}


def fee_amount(_instance: Any, attribute: attrs.Attribute[Any], value: str | None) -> None:
    """A step's fee in major units ("5.00"): more than zero."""
    if value is not None and _minor(attribute, value) <= 0:
        raise Invalid(f"{{key}} must be positive, got {value!r}", attribute.name)


PERCENT = must("a number from 0 to 100", lambda n: 0 <= n <= 100)
NAMES = {"expects": "a name or a list of names"}


@attrs.frozen(kw_only=True)
class ConditionKeys:
    """When a step or a stage entry applies, beyond its days past due."""

    min_balance: str | int | None = attrs.field(default=None, validator=amount, metadata=AMOUNT)
    max_balance: str | int | None = attrs.field(default=None, validator=amount, metadata=AMOUNT)
    min_broken_promises: int | None = attrs.field(default=None, validator=days(low=0))
    # Any of these abnormal signals seen on the case (relocation, business_closed, ...).
    signals: str | list[str] | None = attrs.field(default=None, validator=names_in(SIGNAL_KINDS), metadata=NAMES)
    # One of these risk classes on the day (see dunning.compliance.risk).
    risk: str | list[str] | None = attrs.field(default=None, validator=names_in(RISKS), metadata=NAMES)


@attrs.frozen(kw_only=True)
class StepTable(ConditionKeys):
    """One ``[[steps]]`` table."""

    name: str = attrs.field(validator=must("a step name", lambda n: n.strip() != "" and ":" not in n,
                                           fails="must be a name without ':' (a step name may not contain ':'), "
                                                 "got {value}"))
    dpd: int | list[int] = attrs.field(metadata={
        "expects": "a day such as 7, or a range such as [14, 27]",
        "required": "{key} is required (a day such as 7, or a range such as [14, 27])"})
    every: int | None = attrs.field(default=None, validator=days(low=1))
    channels: str | list[str] | None = attrs.field(default=None, metadata={"expects": "a list of channel names"})
    template: str | None = None
    notify: str | None = attrs.field(default=None, validator=one_of(NOTIFY_ROLES))
    action: str | None = attrs.field(default=None, validator=one_of(INTERNAL_ACTIONS))
    requires_approval: bool = False
    required: bool = False
    at: list[str] | None = attrs.field(default=None, metadata={
        "expects": 'a list of local times such as ["09:30", "15:00"]'})
    audience: str = attrs.field(default="debtor", validator=one_of(AUDIENCES))
    disclosure: str = attrs.field(default="none", validator=one_of(DISCLOSURES))
    fallback: str | None = attrs.field(default=None, metadata={"expects": "a channel name"})
    # Used instead of ``template`` once the debtor has broken a promise.
    firm_template: str | None = None
    description: str = ""
    # Only these stages (one name or a list).
    stage: str | list[str] | None = attrs.field(default=None, validator=names_in(STAGES), metadata=NAMES)
    # The letter or email that gives the written notice interest on arrears needs (dunning.ledger).
    notice_of_interest: bool = False
    # A fixed fee charged when the step's message goes out, in the case's currency's major units.
    fee: str | None = attrs.field(default=None, validator=fee_amount, metadata={
        "expects": 'an amount such as "5.00"'})

    def __attrs_post_init__(self) -> None:
        self.dpds()  # a range checked now: the error names the step
        channels = listed(self.channels)
        if self.notice_of_interest and not channels:
            raise Invalid("{key} marks a letter or email step; this step sends no message", "notice_of_interest")
        if not all(channels):
            raise Invalid("{key} must be a list of channel names", "channels")
        given = [k for k, v in (("channels", channels), ("notify", self.notify), ("action", self.action)) if v]
        if len(given) != 1:
            raise Invalid(f"give exactly one of 'channels', 'notify' or 'action' (got {', '.join(given) or 'none'})")
        if channels and self.template is None:
            raise Invalid("a step with channels needs a 'template'")
        if self.firm_template is not None and not channels:
            raise Invalid("{key} must be a template name, on a step with channels", "firm_template")
        self.times()

    def dpds(self) -> tuple[int, ...]:
        """The days past due the step runs on: one, or each ``every`` days of a range."""
        check = days()
        if isinstance(self.dpd, int):
            if self.every is not None:
                raise Invalid("{key} needs 'dpd' to be a range [first, last]", "every")
            check.test("dpd", self.dpd)
            return (self.dpd,)
        if len(self.dpd) != 2:
            raise Invalid("{key} as a range needs two days, [first, last]", "dpd")
        first, last = self.dpd
        check.test("dpd", first)
        check.test("dpd", last)
        if last < first:
            raise Invalid(f"{{key}} range [{first}, {last}] ends before it starts", "dpd")
        return tuple(range(first, last + 1, self.every or 1))

    def times(self) -> tuple[dt.time, ...]:
        """The local times of day the step's actions are set for, in order (none: no set time)."""
        if self.at is None:
            return ()
        if not self.at:
            raise Invalid('{key} must be a list of local times such as ["09:30", "15:00"] '
                          "(leave it out for no set time)", "at")
        times: list[dt.time] = []
        for value in self.at:
            try:
                times.append(dt.time.fromisoformat(value))
            except ValueError:
                raise Invalid(f'{{key}} has {value!r}, not a time such as "09:30"', "at") from None
        if len(set(times)) != len(times):
            raise Invalid("{key} lists a time twice", "at")
        return tuple(sorted(times))


@attrs.frozen(kw_only=True)
class StageTable(ConditionKeys):
    """One ``[stages.<stage>]`` table: when a case enters (or, for agency, leaves) the stage."""

    entry_dpd: int | None = attrs.field(default=None, validator=days())
    requires_approval: bool = False
    # Days past due at which a case placed with an agency is taken back.
    recall_dpd: int | None = attrs.field(default=None, validator=days())
    on_signals: str | list[str] | None = attrs.field(default=None, validator=names_in(SIGNAL_KINDS), metadata=NAMES)
    on_broken_promises: int | None = attrs.field(default=None, validator=days(low=1))
    # The largest discount a settlement offer at this stage may give without approval (dunning offer).
    max_discount_percent: int | float | None = attrs.field(default=None, validator=PERCENT)

    def __attrs_post_init__(self) -> None:
        if self.recall_dpd is not None and self.entry_dpd is not None and self.recall_dpd <= self.entry_dpd:
            raise Invalid(f"{{key}} ({self.recall_dpd}) must come after 'entry_dpd' ({self.entry_dpd})", "recall_dpd")


@attrs.frozen(kw_only=True)
class PolicyFile:
    """A whole policy file."""

    name: str = attrs.field(validator=must("a string", lambda n: n != "", fails="must not be empty"),
                            metadata={"required": "{key} is required and must be a string"})
    description: str = ""
    debt_kind: str = attrs.field(default="invoice", validator=one_of(DEBT_KINDS))
    # Days from a letter or email to the deadline it sets, at the least.
    notice_days: int = attrs.field(default=NOTICE_DAYS, validator=days(1, 365))
    stages: dict[str, StageTable] = attrs.field(factory=dict, metadata={"expects": "a table ([stages.onsite] ...)"})
    steps: list[StepTable] = attrs.field(factory=list, metadata={"expects": "an array of tables ([[steps]])"})

    def __attrs_post_init__(self) -> None:
        for name, table in self.stages.items():
            if name not in STAGES:
                raise Invalid(f"unknown stage {name!r} (stages: {', '.join(STAGES)})", "stages", literal=True)
            if name == Stage.INTERNAL and table.entry_dpd is not None:
                raise Invalid("{key} makes no sense for internal, where every case starts",
                              ("stages", name, "entry_dpd"))
            if name != Stage.AGENCY and table.recall_dpd is not None:
                raise Invalid("{key} applies only to the agency stage", ("stages", name, "recall_dpd"))
        entries = sorted(((t.entry_dpd, Stage(s)) for s, t in self.stages.items() if t.entry_dpd is not None),
                         key=lambda e: lifecycle.rank(e[1]))
        for (d1, s1), (d2, s2) in itertools.pairwise(entries):
            if d2 < d1:
                raise Invalid(f"stages.{s2}.entry_dpd ({d2}) comes before stages.{s1}.entry_dpd ({d1})")
        seen: set[str] = set()
        for step in self.steps:
            if step.name in seen:
                raise Invalid(f"step '{step.name}' is defined twice", literal=True)
            seen.add(step.name)


def where(path: Sequence[str | int], data: Mapping[str, Any]) -> tuple[str, Sequence[str | int]]:
    """Where in a policy a path points, as its messages say it: ``step 's'``, ``stages.agency`` or the file.

    Returns that prefix ("" for the file) and the rest of the path.
    """
    if len(path) >= 2 and path[0] == "steps" and isinstance(path[1], int):
        steps = data.get("steps")
        step = steps[path[1]] if isinstance(steps, list) and path[1] < len(steps) else None
        name = step.get("name") if isinstance(step, dict) else None
        if isinstance(name, str) and name.strip() and path[2:] != ("name",):
            return f"step '{name}'", path[2:]
        return f"steps[{path[1]}]", path[2:]
    if len(path) >= 3 and path[0] == "stages":
        return f"stages.{path[1]}", path[2:]
    return "", path
