"""The domain's records, as frozen attrs classes.

Rows become models only at the store's edge (``dunning.store``); everything
else passes these around and changes them with ``attrs.evolve``.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import attrs


class Stage(enum.StrEnum):
    """The four stages, in the order a case moves through them."""

    INTERNAL = "internal"
    ONSITE = "onsite"
    AGENCY = "agency"
    LITIGATION = "litigation"


class Status(enum.StrEnum):
    """Open, or one of the three ways a case ends."""

    OPEN = "open"
    PAID = "paid"
    SETTLED = "settled"
    WRITTEN_OFF = "written_off"


class ActionKind(enum.StrEnum):
    """What an outbox row asks for."""

    OUTREACH = "outreach"  # a message or task through a channel
    NOTICE = "notice"  # an internal escalation notice (supervisor, manager, ...)
    LOCK_ACCOUNT = "lock_account"  # block further shipments to the debtor
    ESCALATE = "escalate"  # move the case to a later stage
    RECALL = "recall"  # take the case back from the agency


class ActionStatus(enum.StrEnum):
    AWAITING_APPROVAL = "awaiting_approval"
    PENDING = "pending"
    SENDING = "sending"  # claimed by a dispatcher; outcome not yet recorded
    SENT = "sent"
    FAILED = "failed"  # retries exhausted
    BLOCKED = "blocked"  # a rule forbade it
    SKIPPED = "skipped"  # no longer makes sense (paid, promise made, channel off)
    CANCELLED = "cancelled"  # the case was resolved before it went out
    REJECTED = "rejected"  # an approver said no
    # Held back (a window, a weekend, a holiday) until the next occurrence of
    # the same step and channel was planned for the case: that one goes instead.
    SUPERSEDED = "superseded"
    # Found claimed after a crash on a channel whose provider cannot recognise a
    # re-send (in_doubt = "hold"): it may or may not have gone out; a person decides.
    IN_DOUBT = "in_doubt"


OPEN_ACTION_STATUSES = (
    ActionStatus.AWAITING_APPROVAL,
    ActionStatus.PENDING,
    ActionStatus.SENDING,
    ActionStatus.IN_DOUBT,
)

# What the next run does with an outreach a crash left in flight (``[channels.<name>] in_doubt``).
IN_DOUBT_CHOICES = ("resend", "hold")


class HoldReason(enum.StrEnum):
    DISPUTE = "dispute"  # stops collection until verification is sent
    CEASE = "cease"  # cease communication: only the permitted notices go out
    BANKRUPTCY = "bankruptcy"
    DECEASED = "deceased"
    ATTORNEY = "attorney"  # represented: contact the attorney only
    BREATHING_SPACE = "breathing_space"  # a statutory pause (60 days in the UK)
    OTHER = "other"


class DebtorKind(enum.StrEnum):
    PERSON = "person"
    COMPANY = "company"


class ContactKind(enum.StrEnum):
    MOBILE = "mobile"
    WORK = "work"
    HOME = "home"
    EMAIL = "email"
    POSTAL = "postal"


class ContactRole(enum.StrEnum):
    DEBTOR = "debtor"
    SPOUSE = "spouse"
    RELATIVE = "relative"
    EMERGENCY = "emergency"
    GUARANTOR = "guarantor"
    EMPLOYER = "employer"
    ATTORNEY = "attorney"


# Abnormal signals a collector, a channel or an agency may report about a case;
# the policy can act on them (``on_signals``) and the risk class weighs them.
SIGNAL_KINDS = ("relocation", "ownership_change", "legal_rep_change", "business_closed", "bankruptcy", "fraud")


class PromiseStatus(enum.StrEnum):
    PENDING = "pending"
    KEPT = "kept"
    BROKEN = "broken"


def _non_negative(_: Any, attribute: attrs.Attribute, value: int) -> None:
    if value < 0:
        raise ValueError(f"{attribute.name} must not be negative, got {value}")


def _positive(_: Any, attribute: attrs.Attribute, value: int) -> None:
    if value <= 0:
        raise ValueError(f"{attribute.name} must be positive, got {value}")


@attrs.frozen
class Debtor:
    id: str
    name: str
    kind: DebtorKind = attrs.field(default=DebtorKind.PERSON, converter=DebtorKind)
    country: str | None = None
    timezone: str | None = None
    locale: str | None = None
    # ISO 3166-2 subdivision (``US-NY``): picks the contact rules where a state's differ from its country's.
    region: str | None = None
    # Where the debtor's clock is, as worked out at import (``compliance.zones.stored_zone``): zone names
    # separated by spaces, "" for the business's zone, None when not worked out (since a change cleared it).
    zone: str | None = None


@attrs.frozen
class Contact:
    debtor_id: str
    kind: ContactKind = attrs.field(converter=ContactKind)
    value: str
    role: ContactRole = attrs.field(default=ContactRole.DEBTOR, converter=ContactRole)
    name: str | None = None
    bad: bool = False
    id: int | None = None


@attrs.frozen
class Obligation:
    """An invoice or a loan instalment."""

    case_id: int
    reference: str
    amount: int = attrs.field(validator=_positive)
    currency: str
    issued_on: dt.date | None
    due_on: dt.date
    paid: int = attrs.field(default=0, validator=_non_negative)
    id: int | None = None
    # Closed by the books ("paid_elsewhere", "credited"): kept, owing nothing here.
    closed_reason: str | None = None
    closed_on: dt.date | None = None
    # Disputed since that day: held out of demands while the debtor's other items are collected.
    disputed_on: dt.date | None = None

    @property
    def open_amount(self) -> int:
        return self.amount - self.paid

    @property
    def collectable(self) -> bool:
        """Open, not closed and not disputed: what demands state and outreach collects."""
        return self.closed_reason is None and self.disputed_on is None and self.open_amount > 0


@attrs.frozen
class Case:
    """One debtor's overdue obligations in one currency."""

    id: int
    debtor_id: str
    currency: str
    stage: Stage = attrs.field(default=Stage.INTERNAL, converter=Stage)
    status: Status = attrs.field(default=Status.OPEN, converter=Status)
    balance: int = attrs.field(default=0, validator=_non_negative)
    # Due date of the earliest unpaid obligation: days past due count from it.
    anchor_due_on: dt.date | None = None
    opened_on: dt.date | None = None
    # The last local date the policy was planned for; None before the first run.
    planned_through: dt.date | None = None
    next_action_on: dt.date | None = None
    broken_promises: int = 0
    account_locked: bool = False
    # The stage a recall from the agency returns the case to.
    previous_stage: Stage | None = attrs.field(
        default=None, converter=attrs.converters.optional(Stage)
    )
    stage_entered_on: dt.date | None = None
    resolved_on: dt.date | None = None
    # The last conversation with the debtor, payment and written
    # acknowledgement: for the risk class and the limitation period.
    last_contact_on: dt.date | None = None
    last_payment_on: dt.date | None = None
    last_acknowledged_on: dt.date | None = None
    # Kinds of abnormal signals seen on the case (relocation, bankruptcy, ...).
    signals: tuple[str, ...] = ()
    # The ISO 11649 reference the debtor quotes when paying (dunning.creditor_reference).
    creditor_reference: str | None = None
    # The strategy the case was assigned (dunning.strategies) and the policy it runs under;
    # None: no strategy, and the config's policy.
    strategy: str | None = None
    policy: str | None = None

    @property
    def is_open(self) -> bool:
        return self.status is Status.OPEN


@attrs.frozen
class Action:
    """A row of the outbox: something planned for a case, and its fate."""

    key: str  # case:step:channel:occurrence, unique; handed to providers
    case_id: int
    kind: ActionKind = attrs.field(converter=ActionKind)
    step: str
    planned_for: dt.date
    not_before: dt.datetime
    status: ActionStatus = attrs.field(converter=ActionStatus)
    channel: str | None = None
    template: str | None = None
    # For notices the role told; for escalations the stage aimed at.
    target: str | None = None
    dpd: int | None = None
    required: bool = False
    requires_approval: bool = False
    approved_by: str | None = None
    attempts: int = 0
    last_error: str | None = None
    reference: str | None = None
    options: dict[str, Any] = attrs.field(factory=dict)
    created_at: dt.datetime | None = None
    id: int | None = None


@attrs.frozen
class Event:
    """One entry of the append-only evidence log."""

    kind: str
    at: dt.datetime
    case_id: int | None = None
    stage: str | None = None
    dpd: int | None = None
    channel: str | None = None
    step: str | None = None
    action_id: int | None = None
    data: dict[str, Any] = attrs.field(factory=dict)
    # The wall clock when it was written; ``at`` is the business moment
    # (``--now`` may set it back for rehearsals and backdated entries).
    recorded_at: dt.datetime | None = None
    seq: int | None = None
    prev_hash: str | None = None
    hash: str | None = None


@attrs.frozen
class Promise:
    case_id: int
    amount: int = attrs.field(validator=_positive)
    due_at: dt.datetime
    status: PromiseStatus = attrs.field(default=PromiseStatus.PENDING, converter=PromiseStatus)
    created_at: dt.datetime | None = None
    id: int | None = None


@attrs.frozen
class Payment:
    case_id: int
    amount: int = attrs.field(validator=_positive)
    at: dt.datetime
    reference: str | None = None
    id: int | None = None


@attrs.frozen
class Hold:
    case_id: int
    reason: HoldReason = attrs.field(converter=HoldReason)
    since: dt.datetime
    until: dt.date | None = None
    note: str | None = None
    released_at: dt.datetime | None = None
    id: int | None = None

    def active_on(self, day: dt.date) -> bool:
        return self.released_at is None and (self.until is None or day < self.until)
