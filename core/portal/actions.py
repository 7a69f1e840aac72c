"""What a debtor does on their page, each through the operation the command line uses.

Every function takes the case id ``links.case_for_token`` answered, checks
with the same rules as the CLI (``dunning.operations``,
``dunning.corrections``), and writes the change with a ``portal`` event
(``by`` = the portal) in one transaction: a refusal is a ``PortalError``
with a message for the debtor, and nothing is written.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from dunning import calendar, corrections, money, operations
from dunning.action_key import ActionKey
from dunning.models import ActionKind, ActionStatus
from dunning.portal import BY
from dunning.portal.page import Page, page

if TYPE_CHECKING:
    from dunning.runtime import Runtime

# The step of an approval-queue action that carries a debtor's request for more time or a plan.
REQUEST_STEP = "portal-request"
# The channel a debtor's visit counts under: no contact rule counts it (it is no attempt to reach anyone).
VISIT_CHANNEL = "portal"


class PortalError(ValueError):
    """A debtor's request the rules refuse; the message is for the debtor, and nothing was written.

    Like ``OperationError`` it may carry a stable ``code`` and its ``params``, from which the page words the
    refusal in the debtor's language (``dunning.web.strings``); the English text stands where it has none.
    """

    def __init__(self, message: str, *, code: str | None = None, **params: object) -> None:
        super().__init__(message)
        self.code = code
        self.params = params

    @classmethod
    def of(cls, exc: Exception) -> PortalError:
        """An operation's refusal passed on to the debtor, keeping its code and parameters."""
        return cls(str(exc), code=getattr(exc, "code", None), **getattr(exc, "params", {}))


def _portal_event(rt: Runtime, case_id: int, now: dt.datetime, action: str, **facts: Any) -> None:
    case = rt.store.case(case_id)
    rt.store.append_events([rt.event("portal", case, now, channel=VISIT_CHANNEL,
                                     data={"action": action, "by": BY, **facts})])


def open_page(rt: Runtime, case_id: int, now: dt.datetime) -> Page:
    """The debtor opened their page: an event each time; the first is a right-party contact.

    It is counted as a connected attempt with the debtor, under a key of its
    own (so once per case), which is how a conversation on the phone counts:
    the case's last contact moves to today and the policy sees a debtor it
    has reached. Opening the page is never an attempt the caps count.
    """
    with rt.store.transaction():
        key = f"portal-opened:{case_id}"
        first = rt.store.record_attempt(debtor_id=rt.store.case(case_id).debtor_id, case_id=case_id,
                                        channel=VISIT_CHANNEL, at=now, source=BY, key=key, outcome="opened_page")
        if first:
            rt.store.update_attempt(key, connected=True)  # now it reached the debtor: the case's last contact moves
            rt.store.wake(case_id, rt.today(now))  # the policy may see the case differently now
        _portal_event(rt, case_id, now, "opened", first=first)
    return page(rt, case_id, now)


# --- promises, more time, plans -----------------------------------------------------


class _Checked(Exception):
    """Raised to roll back a promise written only to check it."""


def _check_promise(rt: Runtime, case_id: int, instalments: Sequence[tuple[str, dt.datetime]],
                   now: dt.datetime) -> None:
    """Every rule ``operations.promise`` applies but the limit on how far out: written, then rolled back."""
    (first_amount, first_due), *later = instalments
    try:
        # The savepoint undoes the check's writes even inside a caller's transaction.
        with rt.store.transaction(), rt.store.savepoint():
            operations.promise(rt, case_id, first_amount, first_due, now=now, approved_by="(checked)", then=later)
            raise _Checked
    except _Checked:
        pass
    except (operations.OperationError, money.MoneyError) as exc:
        raise PortalError.of(exc) from None


def _horizon(rt: Runtime, case_id: int, now: dt.datetime) -> tuple[int, dt.datetime]:
    case = rt.store.case(case_id)
    days = rt.config.profile_for(rt.store.debtor(case.debtor_id)).profile.promise_max_days
    return days, now + dt.timedelta(days=days)


def promise(rt: Runtime, case_id: int, amount: str, due_at: dt.datetime, now: dt.datetime) -> int:
    """A promise to pay within the policy's limit; one further out is refused (``ask_more_time`` asks for it)."""
    _check_promise(rt, case_id, [(amount, due_at)], now)
    days, horizon = _horizon(rt, case_id, now)
    if due_at > horizon:
        raise PortalError(f"a promise may be at most {days} days out (until {calendar.to_text(horizon)}); "
                          "for a later date, ask for more time", code="portal_promise_too_far", days=days,
                          until=calendar.to_text(horizon)[:10])
    with rt.store.transaction():
        promise_id = operations.promise(rt, case_id, amount, due_at, now=now)
        _portal_event(rt, case_id, now, "promise", promise_id=promise_id)
    return promise_id


def _within_request_limits(rt: Runtime, instalments: Sequence[tuple[str, dt.datetime]], now: dt.datetime) -> None:
    limits = rt.config.sections.portal
    if len(instalments) > limits.plan_max_instalments:
        raise PortalError(f"a plan may have at most {limits.plan_max_instalments} instalments",
                          code="plan_too_many", most=limits.plan_max_instalments)
    last = max(when for _, when in instalments)
    if last > now + dt.timedelta(days=limits.request_max_days):
        raise PortalError(f"the last payment may be at most {limits.request_max_days} days from today",
                          code="plan_too_late", days=limits.request_max_days)


def ask_more_time(rt: Runtime, case_id: int, amount: str, due_at: dt.datetime, now: dt.datetime,
                  reason: str = "") -> int | None:
    """A promise beyond the policy's limit, for a supervisor to approve; returns the waiting action's id.

    A date within the limit needs nobody's approval: it is recorded as a
    promise at once, and None is returned.
    """
    return _request(rt, case_id, [(amount, due_at)], now, reason, what="more_time")


def ask_plan(rt: Runtime, case_id: int, instalments: Sequence[tuple[str, dt.datetime]], now: dt.datetime,
             reason: str = "") -> int | None:
    """A plan of instalments within ``[portal]``'s limits: recorded at once when it ends within the promise
    limit, else queued for a supervisor (returns the waiting action's id)."""
    if len(instalments) < 2:
        raise PortalError("a plan has at least two instalments", code="plan_too_few")
    return _request(rt, case_id, instalments, now, reason, what="plan")


def _request(rt: Runtime, case_id: int, instalments: Sequence[tuple[str, dt.datetime]], now: dt.datetime,
             reason: str, *, what: str) -> int | None:
    _within_request_limits(rt, instalments, now)
    _check_promise(rt, case_id, instalments, now)
    (first_amount, first_due), *later = instalments
    days, horizon = _horizon(rt, case_id, now)
    if max(when for _, when in instalments) <= horizon:
        with rt.store.transaction():
            promise_id = operations.promise(rt, case_id, first_amount, first_due, now=now, then=later)
            _portal_event(rt, case_id, now, what, promise_id=promise_id, approved=False)
        return None
    case = rt.store.case(case_id)
    asked = [{"amount": text, "due_at": calendar.to_text(when)} for text, when in instalments]
    total = sum(money.parse(text, case.currency) for text, _ in instalments)
    detail = (f"the debtor asks through the portal to pay {money.display(total, case.currency)} "
              + (f"in {len(instalments)} instalments " if len(instalments) > 1 else "")
              + f"by {calendar.to_text(instalments[-1][1])[:10]}, beyond the {days}-day promise limit"
              + (f": {reason.strip()}" if reason.strip() else ""))
    key = str(ActionKey(case_id, REQUEST_STEP, VISIT_CHANNEL, uuid.uuid4().hex[:12]))
    with rt.store.transaction():
        if _waiting_request(rt, case_id) is not None:
            raise PortalError("an earlier request of yours is still waiting for an answer", code="request_waiting")
        rt.store.add_action(key=key, case_id=case_id, kind=ActionKind.NOTICE, step=REQUEST_STEP,
                            target="supervisor", planned_for=rt.today(now), not_before=now, now=now,
                            dpd=rt.dpd(case, now), requires_approval=True,
                            options={"request": what, "instalments": asked, "reason": reason.strip()})
        action = next(a for a in rt.store.actions(case_id=case_id) if a.key == key)
        rt.store.append_events([rt.event("approval_requested", case, now, step=REQUEST_STEP, action_id=action.id,
                                         data={"rule": "portal", "reason": detail, "key": key})])
        _portal_event(rt, case_id, now, what, action_id=action.id, instalments=asked)
    assert action.id is not None
    return action.id


def _waiting_request(rt: Runtime, case_id: int) -> int | None:
    waiting = [a for a in rt.store.actions(case_id=case_id, statuses=[ActionStatus.AWAITING_APPROVAL.value])
               if a.step == REQUEST_STEP]
    return waiting[0].id if waiting else None


def grant(rt: Runtime, action_id: int, *, by: str, now: dt.datetime) -> int:
    """A supervisor approved a debtor's request (``dunning approve``): the promise or plan, approved by ``by``.

    Called inside the approval's transaction: a promise the rules now refuse
    (a date that has passed, a balance paid down) refuses the approval too.
    """
    action = rt.store.action(action_id)
    asked = [(str(i["amount"]), calendar.parse_moment(str(i["due_at"]), rt.config.zone))
             for i in action.options["instalments"]]
    (first_amount, first_due), *later = asked
    return operations.promise(rt, action.case_id, first_amount, first_due, now=now, approved_by=by, then=later)


# --- disputes and opt-outs ----------------------------------------------------------


def dispute(rt: Runtime, case_id: int, reference: str, reason: str, now: dt.datetime) -> None:
    """Dispute one item of the case with a reason, as ``dunning dispute CASE/REFERENCE`` does."""
    if not reason.strip():
        raise PortalError("say why you dispute it", code="dispute_reason_required")
    try:
        with rt.store.transaction():
            corrections.dispute(rt, f"{case_id}/{reference}", reason=reason.strip(), by=BY, now=now)
            _portal_event(rt, case_id, now, "dispute", reference=reference)
    except operations.OperationError as exc:
        raise PortalError.of(exc) from None


def opt_out(rt: Runtime, case_id: int, channel: str, now: dt.datetime, note: str | None = None) -> int:
    """Stop one channel (or medium) for this debtor, as ``dunning opt-out`` does."""
    debtor_id = rt.store.case(case_id).debtor_id
    try:
        with rt.store.transaction():
            opt_out_id = operations.opt_out(rt, debtor_id, channel, now=now, source=BY, note=note)
            _portal_event(rt, case_id, now, "opt_out", opt_out=channel, opt_out_id=opt_out_id)
    except operations.OperationError as exc:
        raise PortalError.of(exc) from None
    return opt_out_id
