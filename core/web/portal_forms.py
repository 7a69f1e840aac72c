"""The debtors' page's forms: read the fields, then call ``dunning.portal`` (which holds every rule).

Each function reads its form, hands it to the portal's action (promise,
more time, plan, dispute, opt-out, payment) and answers what to say after
it; a refusal is a ``FormError`` naming the field, and the action wrote
nothing. Dates are days: "to be paid by 20 March" means by the end of that
day in the config's zone, but never past the furthest moment the form's
limit allows, so the last day offered is always a day that may be chosen.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import attrs

from dunning.portal import actions, payments
from dunning.portal.actions import PortalError
from dunning.portal.providers import payment_providers
from dunning.web.case_forms import FormError, field_for

if TYPE_CHECKING:
    from dunning.runtime import Runtime


@attrs.frozen
class Submitted:
    """A form as the page hands it over."""

    rt: Runtime
    case_id: int
    fields: Mapping[str, str]
    now: dt.datetime
    return_url: str  # the page, for a payment provider to send the debtor back to


@attrs.frozen
class Outcome:
    """What a form did: a key of the words to show, or a provider's address to go to."""

    said: str
    go_to: str | None = None


def _text(form: Submitted, field: str, *, required: bool = True) -> str:
    text = form.fields.get(field, "").strip()
    if required and not text:
        raise FormError(field, "required", "required")
    return text


def by_day(form: Submitted, field: str, limit_days: int) -> dt.datetime:
    """The end of the chosen day in the config's zone, no later than ``limit_days`` from now."""
    text = _text(form, field)
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise FormError(field, f"not a date (YYYY-MM-DD): {text!r}", "not_a_date", {"text": text}) from None
    zone = form.rt.config.zone
    end = dt.datetime.combine(day, dt.time(23, 59), tzinfo=zone).astimezone(dt.UTC)
    latest = form.now + dt.timedelta(days=limit_days)
    # Past the limit's last day the end of the day stands, and the portal's rule refuses it with its message.
    return latest if end > latest and day <= latest.astimezone(zone).date() else end


def _refused(exc: PortalError, fields: list[str]) -> FormError:
    """The refusal beside its field: a limit in days, or a date, is about the date; the console's words else."""
    text = str(exc)
    code, params = exc.code, exc.params if exc.code else None
    if "due" in fields and re.search(r"\bdays\b|\bdate\b|in the future", text):
        return FormError("due", text, code, params)
    return FormError(field_for(text, fields), text, code, params)


def promise(form: Submitted) -> Outcome:
    amount = _text(form, "amount")
    debtor = form.rt.store.debtor(form.rt.store.case(form.case_id).debtor_id)
    due = by_day(form, "due", form.rt.config.profile_for(debtor).profile.promise_max_days)
    try:
        actions.promise(form.rt, form.case_id, amount, due, form.now)
    except PortalError as exc:
        raise _refused(exc, ["amount", "due"]) from None
    return Outcome("done_promise")


def more_time(form: Submitted) -> Outcome:
    amount = _text(form, "amount")
    due = by_day(form, "due", form.rt.config.sections.portal.request_max_days)
    try:
        waiting = actions.ask_more_time(form.rt, form.case_id, amount, due, form.now,
                                        reason=_text(form, "reason", required=False))
    except PortalError as exc:
        raise _refused(exc, ["amount", "due"]) from None
    return Outcome("done_more_time" if waiting is not None else "done_more_time_now")


def plan(form: Submitted) -> Outcome:
    limits = form.rt.config.sections.portal
    instalments: list[tuple[str, dt.datetime]] = []
    for n in range(1, limits.plan_max_instalments + 1):
        amount, due = (form.fields.get(f"{name}_{n}", "").strip() for name in ("amount", "due"))
        if not amount and not due:
            continue
        if not amount:
            raise FormError(f"amount_{n}", "required", "required")
        instalments.append((amount, by_day(form, f"due_{n}", limits.request_max_days)))
    try:
        waiting = actions.ask_plan(form.rt, form.case_id, instalments, form.now,
                                   reason=_text(form, "reason", required=False))
    except PortalError as exc:
        raise FormError("instalments", str(exc), exc.code, exc.params) from None
    return Outcome("done_plan" if waiting is not None else "done_plan_now")


def dispute(form: Submitted) -> Outcome:
    reference = _text(form, "reference")
    try:
        actions.dispute(form.rt, form.case_id, reference, _text(form, "reason", required=False), form.now)
    except PortalError as exc:
        raise FormError("reason" if "why" in str(exc) else "reference", str(exc), exc.code, exc.params) from None
    return Outcome("done_dispute")


def opt_out(form: Submitted) -> Outcome:
    try:
        actions.opt_out(form.rt, form.case_id, _text(form, "channel"), form.now)
    except PortalError as exc:
        raise FormError("channel", str(exc), exc.code, exc.params) from None
    return Outcome("done_opt_out")


def pay(form: Submitted) -> Outcome:
    name = _text(form, "provider")
    provider = payment_providers(form.rt).get(name)
    if provider is None:
        raise FormError("provider", f"no payment provider {name!r}", "no_provider", {"provider": name})
    try:
        url = payments.start_payment(form.rt, provider, form.case_id, _text(form, "amount"), form.now,
                                     return_url=form.return_url)
    except PortalError as exc:
        raise FormError("amount", str(exc), exc.code, exc.params) from None
    return Outcome("done_paid", go_to=url)


FORMS: Mapping[str, Callable[[Submitted], Outcome]] = {
    "promise": promise, "more-time": more_time, "plan": plan, "dispute": dispute, "opt-out": opt_out, "pay": pay,
}
