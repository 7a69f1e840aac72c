"""The case page's forms: log a call, record a payment, place or release a hold.

Each form goes through the operation the command line uses (``dunning
calls log``, ``pay``, ``hold``, ``release``), which checks everything before
it writes: a refused form changes nothing, and the rule's own message is
shown beside the field it is about, in the reader's language where the
refusal carries a code (``OperationError.code``; ``strings.MESSAGES``).
"""

# The Chinese lines are written with full-width punctuation, which the ambiguous-character rule flags.
# ruff: noqa: RUF001

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from dunning import calendar, money, operations
from dunning.models import HoldReason, Obligation
from dunning.web.console import Visit

if TYPE_CHECKING:
    from dunning.runtime import Runtime
    from dunning.work_lists import Said

# Which field a rule's message is about, by the words it uses; the form's first field otherwise.
_FIELD_WORDS: Sequence[tuple[str, str]] = (
    ("days out", "due"), ("in the future", "due"), ("one after the other", "due"), ("--due", "due"),
    ("--until", "until"), ("verification", "verification_sent"), ("reference", "reference"),
    ("amount", "amount"), ("balance", "amount"), ("positive", "amount"), ("promise", "amount"),
)


# Which field a refusal with a code is about: the code says it, whatever the words.
_FIELD_OF_CODE: Mapping[str, str] = {
    "promise_too_far": "due", "promise_in_past": "due", "instalments_out_of_order": "due",
    "promise_over_balance": "amount", "promise_not_positive": "amount", "payment_reference_taken": "reference",
    "dispute_hold_with_end": "until", "date_not_future": "until", "dispute_needs_verification": "verification_sent",
    "item_needs_verification": "verification_sent", "item_not_disputed": "reference",
    "item_already_disputed": "reference", "item_owes_nothing": "reference",
}


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
    """A form refused: the field and the message to show beside it (English), with the refusal's ``code`` and
    ``params`` when it has them, to word it in another language (``shown``)."""

    def __init__(self, field: str, text: str, code: str | None = None,
                 params: Mapping[str, object] | None = None) -> None:
        super().__init__(console_words(text))
        self.field = field
        self.code = code
        self.params = dict(params or {})

    @classmethod
    def refused(cls, exc: Exception, fields: Sequence[str]) -> FormError:
        """An operation's refusal beside the field its message is about, keeping its code."""
        code = getattr(exc, "code", None)
        field = _FIELD_OF_CODE.get(code or "", "")
        return cls(field if field in fields else field_for(str(exc), fields), str(exc), code,
                   getattr(exc, "params", None) if code else None)

    def shown(self, language: str) -> str:
        from dunning.web.strings import message

        return message(language, self.code, self.params) or str(self)


def _moment(visit: Visit, field: str, *, required: bool) -> dt.datetime | None:
    text = visit.form.get(field, "").strip()
    if not text:
        if required:
            raise FormError(field, "required", "required")
        return None
    try:
        return calendar.parse_moment(text, visit.rt.config.zone)
    except ValueError as exc:
        raise FormError(field, str(exc), "not_a_moment", {"text": text}) from None


def _amount(visit: Visit, case_id: int, field: str) -> str | None:
    """The amount as typed, once it reads as one in the case's currency (the operation parses it again)."""
    text = _text(visit, field)
    if text is not None:
        currency = visit.rt.store.case(case_id).currency
        try:
            money.parse(text, currency)
        except money.MoneyError as exc:
            raise FormError(field, str(exc), "not_an_amount", {"text": text, "currency": currency}) from None
    return text


def _text(visit: Visit, field: str) -> str | None:
    return visit.form.get(field, "").strip() or None


def log_call(visit: Visit, case_id: int) -> Said:
    """Record what came of the work through the work list the form belongs to (the phone channel's records
    the call as ``dunning calls log`` does); the line to show after it."""
    from dunning.plugin_context import PluginContext
    from dunning.web.assignment import recorder_for
    from dunning.work_lists import OutcomeForm

    fields = ["outcome", "amount", "due", "approve", "note"]
    work_list = recorder_for(visit.rt, visit.form.get("channel"))
    if work_list is None:
        raise FormError("outcome", "no enabled channel records outcomes here", "no_outcomes")
    outcome = visit.form.get("outcome", "")
    if outcome not in work_list.outcomes:
        choices = ", ".join(work_list.outcomes)
        raise FormError("outcome", f"choose one of {choices}", "choose_one", {"choices": choices})
    promised = outcome in work_list.promise_outcomes
    amount = _amount(visit, case_id, "amount")
    if promised and not amount:
        raise FormError("amount", "a promise needs the amount", "promise_needs_amount")
    if not promised and (amount or _text(visit, "due")):
        raise FormError("outcome", "an amount and a date go with a promise only", "promise_fields_only")
    due_at = _moment(visit, "due", required=promised)
    approved_by = None
    if visit.form.get("approve"):
        if visit.user.role == "collector":
            raise FormError("approve", "only a supervisor approves a later date", "supervisor_approves")
        if not promised:
            raise FormError("approve", "an approval goes with a promise only", "approval_promise_only")
        approved_by = visit.user.name
    form = OutcomeForm(outcome=outcome, collector=visit.user.name, note=_text(visit, "note"),
                       promise_amount=amount, due_at=due_at, approved_by=approved_by)
    try:
        return work_list.record_outcome(PluginContext(visit.rt, visit.now), case_id, form)
    except (operations.OperationError, money.MoneyError) as exc:
        raise FormError.refused(exc, fields) from None


def record_payment(visit: Visit, case_id: int) -> Said:
    fields = ["amount", "reference", "at"]
    amount = _amount(visit, case_id, "amount")
    if not amount:
        raise FormError("amount", "required", "required")
    at = _moment(visit, "at", required=False) or visit.now
    try:
        outcome = operations.pay(visit.rt, case_id, amount, at=at, now=visit.now,
                                 reference=_text(visit, "reference"), surplus_to_credit=True, by=visit.user.name)
    except (operations.OperationError, money.MoneyError) as exc:
        raise FormError.refused(exc, fields) from None
    case = outcome.case
    paid, balance = money.display(outcome.amount, case.currency), money.display(case.balance, case.currency)
    return {"en": f"paid {paid}; balance {balance}", "zh_CN": f"已收款 {paid}；余额 {balance}"}


def place_hold(visit: Visit, case_id: int) -> Said:
    fields = ["reason", "until", "note"]
    reason = visit.form.get("reason", "")
    if reason not in {r.value for r in HoldReason}:
        choices = ", ".join(HoldReason)
        raise FormError("reason", f"choose one of {choices}", "choose_one", {"choices": choices})
    until_text = _text(visit, "until")
    try:
        until = dt.date.fromisoformat(until_text) if until_text else None
    except ValueError:
        raise FormError("until", f"not a date (YYYY-MM-DD): {until_text!r}", "not_a_date",
                        {"text": until_text}) from None
    try:
        hold_id = operations.hold(visit.rt, case_id, reason, now=visit.now, until=until, note=_text(visit, "note"),
                                  by=visit.user.name)
    except operations.OperationError as exc:
        raise FormError.refused(exc, fields) from None
    return {"en": f"hold {hold_id} placed ({reason})", "zh_CN": f"暂停 {hold_id} 已设置（{reason}）"}


def release_holds(visit: Visit, case_id: int) -> Said:
    fields = ["note", "verification_sent"]
    try:
        released = operations.release(visit.rt, case_id, now=visit.now, by=visit.user.name,
                                      note=_text(visit, "note"),
                                      verification_sent=bool(visit.form.get("verification_sent")))
    except operations.OperationError as exc:
        raise FormError.refused(exc, fields) from None
    return {"en": f"released {len(released)} hold(s)", "zh_CN": f"已解除 {len(released)} 项暂停"}


def disputed_items(rt: Runtime, case_id: int) -> list[Obligation]:
    """The case's items under dispute, for the lift form (``dunning.web.dispute_form``); the owed figures leave
    them out."""
    return [o for o in rt.store.obligations(case_id) if o.disputed_on is not None and o.closed_reason is None]
