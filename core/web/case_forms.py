"""The case page's forms: log a call, record a payment, place or release a hold.

Each form goes through the operation the command line uses (``dunning
calls log``, ``pay``, ``hold``, ``release``), which checks everything before
it writes: a refused form changes nothing, and the rule's own message is
shown beside the field it is about.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

from dunning import calendar, money, operations
from dunning.models import HoldReason, Obligation
from dunning.web.console import Visit

if TYPE_CHECKING:
    from dunning.runtime import Runtime

# Which field a rule's message is about, by the words it uses; the form's first field otherwise.
_FIELD_WORDS: Sequence[tuple[str, str]] = (
    ("days out", "due"), ("in the future", "due"), ("one after the other", "due"), ("--due", "due"),
    ("--until", "until"), ("verification", "verification_sent"), ("reference", "reference"),
    ("amount", "amount"), ("balance", "amount"), ("positive", "amount"), ("promise", "amount"),
)


def field_for(message: str, fields: Sequence[str]) -> str:
    lowered = message.lower()
    for words, field in _FIELD_WORDS:
        if words in lowered and field in fields:
            return field
    return fields[0]


# The rules speak to the command line in places; the console says the same without the option's name.
_CONSOLE_WORDS: Sequence[tuple[str, str]] = (
    ("a later date or a plan needs a supervisor: --approved-by NAME", "a later date needs a supervisor's approval"),
    ("; say so with --verification-sent", "; tick that it was sent"),
)


def console_words(message: str) -> str:
    for said, meant in _CONSOLE_WORDS:
        message = message.replace(said, meant)
    return message


class FormError(ValueError):
    """A form refused: the field and the message to show beside it."""

    def __init__(self, field: str, text: str) -> None:
        super().__init__(console_words(text))
        self.field = field


def _moment(visit: Visit, field: str, *, required: bool) -> dt.datetime | None:
    text = visit.form.get(field, "").strip()
    if not text:
        if required:
            raise FormError(field, "required")
        return None
    try:
        return calendar.parse_moment(text, visit.rt.config.zone)
    except ValueError as exc:
        raise FormError(field, str(exc)) from None


def _text(visit: Visit, field: str) -> str | None:
    return visit.form.get(field, "").strip() or None


def log_call(visit: Visit, case_id: int) -> str:
    """Record a call's outcome as ``dunning calls log`` does; the line to show after it."""
    from dunning.plugins.phone import calls as rules
    from dunning.plugins.phone.outcomes import record_call
    from dunning.plugin_context import PluginContext
    from dunning.web.assignment import phone_settings

    fields = ["outcome", "amount", "due", "approve", "note"]
    settings = phone_settings(visit.rt)
    if settings is None:
        raise FormError("outcome", "the phone channel is not enabled")
    outcome = visit.form.get("outcome", "")
    amount = _text(visit, "amount")
    if outcome not in rules.OUTCOMES:
        raise FormError("outcome", f"choose one of {', '.join(rules.OUTCOMES)}")
    if outcome == "promise" and not amount:
        raise FormError("amount", "a promise needs the amount")
    if outcome != "promise" and (amount or _text(visit, "due")):
        raise FormError("outcome", "an amount and a date go with the outcome promise only")
    due_at = _moment(visit, "due", required=outcome == "promise")
    approved_by = None
    if visit.form.get("approve"):
        if visit.user.role == "collector":
            raise FormError("approve", "only a supervisor approves a later date")
        if outcome != "promise":
            raise FormError("approve", "an approval goes with the outcome promise only")
        approved_by = visit.user.name
    try:
        logged = record_call(PluginContext(visit.rt, visit.now), case_id, outcome, now=visit.now,
                             settings=settings, note=_text(visit, "note"), collector=visit.user.name,
                             promise_amount=amount, due_at=due_at, approved_by=approved_by)
    except (operations.OperationError, money.MoneyError) as exc:
        raise FormError(field_for(str(exc), fields), str(exc)) from None
    parts = [f"call {logged.call.id} logged as {outcome}"]
    if logged.promise_id is not None:
        parts.append(f"promise {logged.promise_id} recorded")
    if logged.hold_id is not None:
        parts.append(f"dispute hold {logged.hold_id} placed")
    return "; ".join(parts)


def record_payment(visit: Visit, case_id: int) -> str:
    fields = ["amount", "reference", "at"]
    amount = _text(visit, "amount")
    if not amount:
        raise FormError("amount", "required")
    at = _moment(visit, "at", required=False) or visit.now
    try:
        outcome = operations.pay(visit.rt, case_id, amount, at=at, now=visit.now,
                                 reference=_text(visit, "reference"), surplus_to_credit=True, by=visit.user.name)
    except (operations.OperationError, money.MoneyError) as exc:
        raise FormError(field_for(str(exc), fields), str(exc)) from None
    case = outcome.case
    return (f"paid {money.display(outcome.amount, case.currency)}; "
            f"balance {money.display(case.balance, case.currency)}")


def place_hold(visit: Visit, case_id: int) -> str:
    fields = ["reason", "until", "note"]
    reason = visit.form.get("reason", "")
    if reason not in {r.value for r in HoldReason}:
        raise FormError("reason", f"choose one of {', '.join(HoldReason)}")
    until_text = _text(visit, "until")
    try:
        until = dt.date.fromisoformat(until_text) if until_text else None
    except ValueError:
        raise FormError("until", f"not a date (YYYY-MM-DD): {until_text!r}") from None
    try:
        hold_id = operations.hold(visit.rt, case_id, reason, now=visit.now, until=until, note=_text(visit, "note"),
                                  by=visit.user.name)
    except operations.OperationError as exc:
        raise FormError(field_for(str(exc), fields), str(exc)) from None
    return f"hold {hold_id} placed ({reason})"


def release_holds(visit: Visit, case_id: int) -> str:
    fields = ["note", "verification_sent"]
    try:
        released = operations.release(visit.rt, case_id, now=visit.now, by=visit.user.name,
                                      note=_text(visit, "note"),
                                      verification_sent=bool(visit.form.get("verification_sent")))
    except operations.OperationError as exc:
        raise FormError(field_for(str(exc), fields), str(exc)) from None
    return f"released {len(released)} hold(s)"


def disputed_items(rt: Runtime, case_id: int) -> list[Obligation]:
    """The case's items under dispute, for the lift form (``dunning.web.dispute_form``); the owed figures leave
    them out."""
    return [o for o in rt.store.obligations(case_id) if o.disputed_on is not None and o.closed_reason is None]
