"""The call list's rules: settings, collectors, outcomes, order, export. Pure; no database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from dunning.plugins.phone import numbers
from dunning.schema import Invalid, must, structure

# --- settings ------------------------------------------------------------------


def _mix(weights: Mapping[str, float]) -> dict[str, float]:
    """A weight for every kind of number (0 for those not given); ``Invalid`` names what is wrong."""
    for kind, weight in weights.items():
        if kind not in numbers.PHONE_KINDS:
            raise Invalid(f"{{key}} has {kind!r}; kinds are {', '.join(numbers.PHONE_KINDS)}", "mix")
        if weight < 0:
            raise Invalid(f"{{key}} must be a number of 0 or more, got {weight!r}", ("mix", kind))
    if not any(weights.values()):
        raise Invalid("{key} gives every kind of number a weight of 0", "mix")
    return {kind: float(weights.get(kind, 0)) for kind in numbers.PHONE_KINDS}


def _stripped(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(name.strip() for name in names)


def _roster(_instance: Any, attribute: attrs.Attribute[Any], names: tuple[str, ...]) -> None:
    if len(set(names)) != len(names):
        raise Invalid("{key} names someone twice", attribute.name)


@attrs.frozen(kw_only=True)
class PhoneSettings:
    """The ``[channels.phone]`` table, as written and as used."""

    collectors: tuple[str, ...] = attrs.field(
        default=(), converter=_stripped,
        validator=[must('a list of names, such as ["ann", "bob"]', lambda names: all(names)), _roster])
    mix: Mapping[str, float] = attrs.field(factory=lambda: dict(numbers.MIX), converter=_mix, metadata={
        "expects": "a table such as { mobile = 75, work = 12, home = 8 }"})
    # Parts of the day for steps without `at` times; None: by the debtor's kind.
    slots: tuple[str, ...] | None = attrs.field(default=None, validator=must(
        f"a non-empty list of {', '.join(numbers.SLOTS)}",
        lambda slots: bool(slots) and set(slots) <= set(numbers.SLOTS)))
    company: str = ""
    callback: str = ""

    def slots_for(self, debtor_kind: str) -> tuple[str, ...]:
        if self.slots:
            return self.slots
        return numbers.BUSINESS_SLOTS if str(debtor_kind) == "company" else numbers.SLOTS


def phone_settings(raw: Mapping[str, Any]) -> PhoneSettings:
    """Read ``[channels.phone]``; raise ValueError naming the first bad key."""
    return structure(raw, PhoneSettings)


def collector_for(case_id: int, collectors: Sequence[str]) -> str | None:
    """The collector who works a case: the same one every day while the roster stays the same."""
    if not collectors:
        return None
    return collectors[case_id % len(collectors)]


# --- tasks and outcomes -----------------------------------------------------------


OPEN, DONE = "open", "done"

# What a collector can record after a call, and what each means.
OUTCOMES: Mapping[str, str] = {
    "no_answer": "nobody picked up",
    "busy": "the line was busy",
    "wrong_number": "the number is not the debtor's; it is marked bad and not dialled again",
    "left_message": "a voicemail or a message with whoever answered",
    "right_party": "spoke with the debtor",
    "third_party": "spoke with someone else",
    "call_back": "a third party asked to be called again (the one-call limit for location calls lifts for them)",
    "promise": "the debtor promised to pay (--promise and --due)",
    "refused": "the debtor refused to pay",
    "disputed": "the debtor disputes the debt; collection holds until it is looked into",
    "paid_claimed": "the debtor says it is paid; check the payment records",
}

# Outcomes in which the collector spoke with the person called, and those in which nobody was reached.
CONVERSATIONS = frozenset({"right_party", "promise", "refused", "disputed", "paid_claimed"})
NOT_REACHED = frozenset({"no_answer", "busy", "left_message", "wrong_number"})


def check_log(outcome: str, promise_amount: str | None, due: str | None) -> None:
    """Raise ValueError if the options of ``calls log`` do not fit together."""
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}; use one of {', '.join(OUTCOMES)}")
    if outcome == "promise" and not (promise_amount and due):
        raise ValueError("--outcome promise needs --promise AMOUNT and --due DATETIME")
    if outcome != "promise" and (promise_amount or due):
        raise ValueError("--promise and --due go with --outcome promise only")


def connected(outcome: str, audience: str) -> bool | None:
    """Whether the call reached the person it was meant for, as the contact rules count it.

    The core's caps count conversations and unanswered attempts; a relative
    picking up the debtor's phone is neither, and must not make the debtor
    count as reached (None: an attempt, nothing more).
    """
    if outcome in CONVERSATIONS:
        return True
    if outcome in NOT_REACHED:
        return False
    if outcome in ("third_party", "call_back"):
        return True if audience == "contacts" else None
    return None


@attrs.frozen
class CallTask:
    """A row of ``phone_calls``: one call a collector is to make, and what came of it."""

    key: str
    case_id: int
    debtor_id: str
    due_on: dt.date
    number: str
    slot: str
    contact_id: int | None = None
    number_kind: str | None = None
    contact_name: str | None = None
    contact_role: str | None = None
    template: str | None = None
    step: str | None = None
    audience: str = "debtor"
    disclosure: str = "none"
    collector: str | None = None
    status: str = OPEN
    outcome: str | None = None
    logged_at: dt.datetime | None = None
    note: str | None = None
    created_at: dt.datetime | None = None
    id: int | None = None

    @property
    def options(self) -> dict[str, str]:
        """The step options templates see, as dispatch hands them."""
        opts = {}
        if self.audience != "debtor":
            opts["audience"] = self.audience
        if self.disclosure != "none":
            opts["disclosure"] = self.disclosure
        return opts


def first_task(tasks: Iterable[CallTask]) -> CallTask | None:
    """The task a call belongs to when several are open: the earliest part of the day."""
    ordered = sorted(tasks, key=lambda t: (slot_rank(t.slot), t.id or 0))
    return ordered[0] if ordered else None


def slot_rank(slot: str) -> int:
    return numbers.SLOTS.index(slot) if slot in numbers.SLOTS else len(numbers.SLOTS)


# --- the list ---------------------------------------------------------------------


@attrs.frozen
class CallRow:
    """One line of a collector's list."""

    call_id: int
    key: str
    case_id: int
    debtor_id: str
    debtor_name: str
    number: str
    kind: str | None
    slot: str
    priority: float
    reasons: tuple[str, ...]
    step: str | None
    template: str | None
    audience: str
    balance: str
    balance_minor: int
    currency: str
    dpd: int | None
    collector: str | None
    contact_name: str | None = None
    # How good the slot is in the debtor's time today (dunning.compliance.slots): a tie-breaker.
    slot_score: float = 0.0
    # A promise to pay due today: the row is its reminder and check call,
    # to be made at these times (HH:MM, the business's zone).
    promise_id: int | None = None
    call_at: tuple[str, ...] = ()

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)

    def as_json(self) -> dict[str, Any]:
        return {**attrs.asdict(self), "reasons": list(self.reasons), "reason": self.reason}


def reasons(fact_reasons: Sequence[str], step: str | None, template: str | None, audience: str) -> tuple[str, ...]:
    """Why the call is on the list: the case's facts first, then what the policy asked for."""
    asked = step or template or "call"
    if template and template != step:
        asked = f"{asked} ({template})"
    if audience != "debtor":
        asked += ", third party"
    return (*fact_reasons, asked)


def order(rows: Iterable[CallRow]) -> list[CallRow]:
    """Promises due today first, the earliest first; then the highest priority, then the calls in the better
    slots; within a case, the day's earlier calls first."""
    return sorted(rows, key=lambda r: (r.promise_id is None, r.call_at[:1], -r.priority, -r.slot_score, r.case_id,
                                       slot_rank(r.slot), r.call_id))


def promise_call_times(due_at: dt.datetime, before: dt.timedelta, after: dt.timedelta,
                       zone: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
    """When to call about a promise: a reminder ``before`` its time, a check ``after`` it (in ``zone``)."""
    return (due_at - before).astimezone(zone), (due_at + after).astimezone(zone)


def promise_reason(amount: str, due_at: dt.datetime, remind_at: dt.datetime, check_at: dt.datetime,
                   broken: bool) -> str:
    """The line a collector reads: what was promised, for when, and when to call."""
    due = f"{due_at:%H:%M}"
    if broken:
        return f"promise of {amount} due {due} not kept: call to ask why"
    return f"promise of {amount} due {due}: call {remind_at:%H:%M} to remind, {check_at:%H:%M} to check"


# A plain dialer-import layout: one number per line, the rest for the agent's screen.
CSV_COLUMNS: tuple[str, ...] = ("phone_number", "name", "case_id", "priority", "slot", "collector", "key")


def export_row(row: CallRow) -> dict[str, Any]:
    return {
        "phone_number": row.number,
        "name": row.contact_name or row.debtor_name,
        "case_id": row.case_id,
        "priority": f"{row.priority:g}",
        "slot": row.slot,
        "collector": row.collector or "",
        "key": row.key,
    }
