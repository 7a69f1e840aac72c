"""The collection policy's records: stages, steps, conditions, and the plan ``evaluate`` makes of them.

Frozen attrs classes, built by ``dunning.policy.from_toml`` and read by
``dunning.policy.evaluation``; nothing here reads a file or the clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import attrs

from dunning import money
from dunning.action_key import ActionKey, occurrence_on
from dunning.compliance.risk import risk_class
from dunning.models import ActionKind, Case, Stage

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
        return not (self.min_broken_promises is not None and case.broken_promises < self.min_broken_promises)


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
    # The letter or email that gives the written notice interest runs from (dunning.ledger).
    notice_of_interest: bool = False
    # A fixed fee charged when the step's message is sent, as written ("5.00"), in the case's currency.
    fee: str | None = None

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
    # The largest settlement discount (percent of what is owed) an operator may offer at this stage
    # without a supervisor's approval; None: every discount needs approval.
    max_discount_percent: Decimal | None = None


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
    # A stage change made late is keyed by the day it is made, not the day it was due: a case
    # reopened after a bounced payment catches up its stages again under new keys, where the
    # keys of the first time round would be taken (see ``evaluate``).
    applied_on: dt.date | None = None

    def key(self, case_id: int) -> str:
        """The idempotency key: case:step:channel:occurrence (see ``ActionKey``)."""
        return str(ActionKey.for_day(case_id, self.step, self.channel or self.kind.value, self.applied_on or self.day,
                                     self.at))

    def key_tail(self) -> str:
        """The key without its case: the same for every case that plans this item."""
        return f"{self.step}:{self.channel or self.kind.value}:{occurrence_on(self.applied_on or self.day, self.at)}"


@attrs.frozen
class Plan:
    dpd: int
    items: tuple[Planned, ...] = ()
    missed: tuple[tuple[str, int], ...] = ()  # (step, dpd) dropped because they are past
    next_action_on: dt.date | None = None


# --- evaluation -------------------------------------------------------------


