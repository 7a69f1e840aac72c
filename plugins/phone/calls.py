"""The call list's rules: settings, collectors, outcomes, order, export. Pure; no database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from dunning.plugins.phone import numbers

# --- settings ------------------------------------------------------------------


@attrs.frozen
class PhoneSettings:
    """The ``[channels.phone]`` table."""

    collectors: tuple[str, ...] = ()
    mix: Mapping[str, float] = attrs.field(factory=lambda: dict(numbers.MIX))
    # Parts of the day for steps without `at` times; None: by the debtor's kind.
    slots: tuple[str, ...] | None = None
    company: str = ""
    callback: str = ""

    def slots_for(self, debtor_kind: str) -> tuple[str, ...]:
        if self.slots:
            return self.slots
        return numbers.BUSINESS_SLOTS if str(debtor_kind) == "company" else numbers.SLOTS


_PHONE_KEYS = ("callback", "collectors", "company", "mix", "slots")


def phone_settings(raw: Mapping[str, Any]) -> PhoneSettings:
    """Read ``[channels.phone]``; raise ValueError naming the first bad key."""
    for key in sorted(raw):
        if key not in _PHONE_KEYS:
            raise ValueError(f"unknown key {key!r} (allowed: {', '.join(_PHONE_KEYS)})")
    collectors = raw.get("collectors", [])
    if not isinstance(collectors, list) or not all(isinstance(c, str) and c.strip() for c in collectors):
        raise ValueError("'collectors' must be a list of names, such as [\"ann\", \"bob\"]")
    if len(set(collectors)) != len(collectors):
        raise ValueError("'collectors' names someone twice")
    mix = raw.get("mix", numbers.MIX)
    if not isinstance(mix, Mapping):
        raise ValueError("'mix' must be a table such as { mobile = 75, work = 12, home = 8 }")
    for kind, weight in mix.items():
        if kind not in numbers.PHONE_KINDS:
            raise ValueError(f"'mix' has {kind!r}; kinds are {', '.join(numbers.PHONE_KINDS)}")
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or weight < 0:
            raise ValueError(f"'mix.{kind}' must be a number of 0 or more")
    if not any(mix.values()):
        raise ValueError("'mix' gives every kind of number a weight of 0")
    slots = raw.get("slots")
    if slots is not None and (
        not isinstance(slots, list) or not slots or any(s not in numbers.SLOTS for s in slots)
    ):
        raise ValueError(f"'slots' must be a non-empty list of {', '.join(numbers.SLOTS)}")
    for key in ("company", "callback"):
        if not isinstance(raw.get(key, ""), str):
            raise ValueError(f"{key!r} must be a string")
    return PhoneSettings(
        collectors=tuple(c.strip() for c in collectors),
        mix={kind: float(mix.get(kind, 0)) for kind in numbers.PHONE_KINDS},
        slots=tuple(slots) if slots else None,
        company=raw.get("company", ""),
        callback=raw.get("callback", ""),
    )


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
