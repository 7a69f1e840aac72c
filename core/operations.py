"""What an operator does to a case by hand: payments, promises, holds, approvals, stage changes.

Each operation validates first, then writes its change and its evidence
event in one transaction, so a refused operation leaves the store as it was.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Sequence
from typing import Any, Concatenate, ParamSpec, TypeVar

import attrs

from dunning import calendar, lifecycle, money, phones, rule_hooks
from dunning.action_key import ActionKey
from dunning.compliance.media import MEDIA, applies_to, medium_of
from dunning.dispatch import change_stage, trigger_escalation
from dunning.models import SIGNAL_KINDS, Action, ActionKind, ActionStatus, Case, HoldReason, Stage, Status
from dunning.plugin_context import PluginContext, runtime_of
from dunning.runtime import Runtime
from dunning.store import Conflict, NotFound


class OperationError(ValueError):
    """An operation refused; nothing was written.

    The text is the command line's. A refusal a form can meet also carries a
    stable ``code`` and its ``params``, from which the browser console words
    it in the reader's language (``dunning.web.strings``).
    """

    def __init__(self, message: str, *, code: str | None = None, **params: object) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


_Parameters = ParamSpec("_Parameters")
_Result = TypeVar("_Result")


def _for_plugins(
    operation: Callable[Concatenate[Runtime, _Parameters], _Result],
) -> Callable[Concatenate[Runtime | PluginContext, _Parameters], _Result]:
    """Let the operation take a plugin command's ``PluginContext`` where the core passes its runtime."""
    @functools.wraps(operation)
    def run(rt: Runtime | PluginContext, *args: _Parameters.args, **kwargs: _Parameters.kwargs) -> _Result:
        return operation(runtime_of(rt), *args, **kwargs)
    return run


@attrs.frozen
class PaymentOutcome:
    case: Case
    amount: int
    allocation: tuple[tuple[str, int], ...]
    cancelled: int
    credit: int = 0  # the part beyond what was owed, now a credit on the debtor


def _open_case(rt: Runtime, case_id: int) -> Case:
    case = rt.store.case(case_id)
    if not case.is_open:
        raise OperationError(f"case {case_id} is {case.status}, not open", code="case_not_open", case_id=case_id,
                             status=str(case.status))
    return case


@_for_plugins
def pay(rt: Runtime, case_id: int, amount_text: str, *, at: dt.datetime, now: dt.datetime,
        reference: str | None = None, surplus_to_credit: bool = False, by: str | None = None) -> PaymentOutcome:
    """Apply a payment in the ``[ledger] allocation`` order; nothing left owed resolves the case as paid.

    Beyond what is owed, a payment is refused unless ``surplus_to_credit``:
    then it is recorded in full and the surplus becomes a credit on the debtor.
    ``by`` (the web console's signed-in person) goes into the payment's event.
    """
    from dunning.ledger.payments import apply_payment

    case = rt.store.case(case_id)
    try:
        amount = money.parse(amount_text, case.currency)
    except money.MoneyError as exc:
        raise OperationError(str(exc)) from None
    if reference and rt.store.payment_reference_exists(case_id, reference):
        raise OperationError(f"a payment with reference {reference!r} is already recorded on case {case_id}",
                             code="payment_reference_taken", reference=reference, case_id=case_id)
    applied = apply_payment(rt, case, amount, at=at, now=now, reference=reference,
                            surplus_to_credit=surplus_to_credit, **({"by": by} if by else {}))
    allocation = tuple((p.item.reference, p.amount) for p in applied.allocation.parts)
    return PaymentOutcome(applied.case, amount, allocation, applied.cancelled, applied.credit)


def _resolve(rt: Runtime, case: Case, resolution: Status, now: dt.datetime, *, reason: str) -> int:
    cancelled = rt.store.cancel_open_actions(case.id, now, f"case {resolution}")
    rt.store.update_case(case.id, status=resolution, resolved_on=rt.today(now), next_action_on=None)
    rt.store.release_holds(case.id, now, by=f"resolved as {resolution}")
    rt.store.append_events([rt.event("resolved", case, now, data={
        "as": resolution.value, "reason": reason, "balance": case.balance, "cancelled_actions": cancelled})])
    return cancelled


def resolve(rt: Runtime, case_id: int, resolution: str, *, now: dt.datetime, reason: str) -> int:
    case = rt.store.case(case_id)
    try:
        status = Status(resolution)
        lifecycle.check_resolution(case, status)
    except ValueError as exc:
        raise OperationError(str(exc)) from None
    with rt.store.transaction():
        return _resolve(rt, case, status, now, reason=reason)


@_for_plugins
def promise(rt: Runtime, case_id: int, amount_text: str, due_at: dt.datetime, *, now: dt.datetime,
            approved_by: str | None = None, then: Sequence[tuple[str, dt.datetime]] = ()) -> int:
    """Record a promise to pay, or a short plan of instalments (``then`` adds the later ones).

    A promise further out than the profile's ``promise_max_days`` (2 days by
    default) is refused unless a supervisor approved it (``approved_by``).
    A reminder goes out ``promise_reminder_minutes`` before each instalment
    on the first enabled reminder channel. Returns the first promise's id.
    """
    case = _open_case(rt, case_id)
    profile = rt.config.profile_for(rt.store.debtor(case.debtor_id)).profile
    instalments: list[tuple[int, dt.datetime]] = []
    for text, when in [(amount_text, due_at), *then]:
        try:
            amount = money.parse(text, case.currency)
        except money.MoneyError as exc:
            raise OperationError(str(exc)) from None
        if amount <= 0:
            raise OperationError(f"a promised amount must be positive, got {text}", code="promise_not_positive",
                                 amount=text)
        if when <= now:
            raise OperationError(f"a promise must be due in the future, got {calendar.to_text(when)}",
                                 code="promise_in_past", due=calendar.to_text(when))
        if instalments and when <= instalments[-1][1]:
            raise OperationError("instalments must fall due one after the other", code="instalments_out_of_order")
        instalments.append((amount, when))
    total = sum(a for a, _ in instalments)
    if total > case.balance:
        raise OperationError(f"the promise ({money.display(total, case.currency)}) is more than the balance "
                             f"({money.display(case.balance, case.currency)})", code="promise_over_balance",
                             promise=money.display(total, case.currency),
                             balance=money.display(case.balance, case.currency))
    horizon = now + dt.timedelta(days=profile.promise_max_days)
    if instalments[-1][1] > horizon and not approved_by:
        raise OperationError(
            f"a promise may be at most {profile.promise_max_days} days out (until {calendar.to_text(horizon)}); "
            "a later date or a plan needs a supervisor: --approved-by NAME", code="promise_too_far",
            days=profile.promise_max_days, until=calendar.to_text(horizon))
    reminder_channel = next((c for c in profile.promise_reminder_channels if c in rt.plugins.enabled), None)
    with rt.store.transaction():
        ids: list[int] = []
        for amount, when in instalments:
            promise_id = rt.store.add_promise(case_id, amount, when, now, approved_by=approved_by,
                                              plan_id=ids[0] if ids else None)
            ids.append(promise_id)
            rt.store.wake(case_id, calendar.local_date(when, rt.config.zone))
            events = [
                rt.event(
                    "promise",
                    case,
                    now,
                    data={
                        "promise_id": promise_id,
                        "amount": amount,
                        "currency": case.currency,
                        "due_at": calendar.to_text(when),
                        "approved_by": approved_by,
                        **(
                            {"plan_id": ids[0], "instalment": len(ids), "of": len(instalments)}
                            if len(instalments) > 1
                            else {}
                        ),
                    },
                )
            ]
            remind_at = when - profile.promise_reminder_before
            if reminder_channel and remind_at > now:
                rt.store.add_action(
                    key=str(ActionKey(case_id, "promise-reminder", reminder_channel, str(promise_id))), case_id=case_id,
                    kind=ActionKind.OUTREACH, step="promise-reminder", channel=reminder_channel,
                    template="promise-reminder", planned_for=calendar.local_date(remind_at, rt.config.zone),
                    not_before=remind_at, now=now, dpd=rt.dpd(case, now),
                    options={"promise_id": promise_id, "promise_amount": money.display(amount, case.currency),
                             "promise_due_at": calendar.to_text(when)})
            rt.store.append_events(events)
    return ids[0]


@_for_plugins
def hold(rt: Runtime, case_id: int, reason: str, *, now: dt.datetime, until: dt.date | None = None,
         note: str | None = None, by: str | None = None) -> int:
    case = _open_case(rt, case_id)
    try:
        reason = HoldReason(reason).value
    except ValueError:
        raise OperationError(f"unknown hold reason {reason!r}; use one of {', '.join(HoldReason)}") from None
    if reason == HoldReason.DISPUTE and until is not None:
        # Reg F 1006.38: collection resumes only once verification was sent,
        # never because a date came round.
        raise OperationError("a dispute hold has no end date: it is lifted only once verification of the debt "
                             f"was sent (`dunning release {case_id} --verification-sent`); leave out --until",
                             code="dispute_hold_with_end")
    if until is not None and until <= rt.today(now):
        raise OperationError(f"--until {until} is not in the future", code="date_not_future", until=str(until))
    breathing_space_days = rt.config.profile_for(rt.store.debtor(case.debtor_id)).profile.breathing_space_days
    if reason == HoldReason.BREATHING_SPACE and until is None and breathing_space_days:
        # The statutory pause ends by itself (60 days in the UK's scheme).
        until = rt.today(now) + dt.timedelta(days=breathing_space_days)
    with rt.store.transaction():
        hold_id = rt.store.add_hold(case_id, reason, now, until, note)
        rt.store.append_events([rt.event("hold", case, now, data={
            "hold_id": hold_id, "reason": reason, "until": until.isoformat() if until else None, "note": note,
            **({"by": by} if by else {})})])
    return hold_id


def release(rt: Runtime, case_id: int, *, now: dt.datetime, by: str, note: str | None = None,
            verification_sent: bool = False) -> list[int]:
    """Lift a case's holds. A dispute is lifted only once verification of the debt was sent to the debtor."""
    case = rt.store.case(case_id)
    active = rt.store.holds(case_id, active_on=rt.today(now))
    if any(h.reason == HoldReason.DISPUTE for h in active) and not verification_sent:
        raise OperationError(f"case {case_id} is disputed: collection resumes only once verification of the debt "
                             "was sent; say so with --verification-sent", code="dispute_needs_verification",
                             case_id=case_id)
    with rt.store.transaction():
        released = rt.store.release_holds(case_id, now, by)
        if not released:
            raise OperationError(f"case {case_id} has no active hold", code="no_active_hold", case_id=case_id)
        rt.store.wake(case_id, rt.today(now))
        rt.store.append_events([rt.event("hold_released", case, now, data={
            "hold_ids": released, "by": by, "note": note,
            **({"verification_sent": True} if verification_sent else {})})])
    return released


@_for_plugins
def escalate(rt: Runtime, case_id: int, to: str, *, now: dt.datetime, reason: str, by: str) -> Case:
    """Move a case forward by hand, or back from the agency (``--to`` the earlier stage)."""
    case = _open_case(rt, case_id)
    try:
        to_stage = Stage(to)
    except ValueError:
        raise OperationError(f"unknown stage {to!r}; stages: {', '.join(Stage)}") from None
    recall = case.stage is Stage.AGENCY and lifecycle.rank(to_stage) < lifecycle.rank(Stage.AGENCY)
    if not recall:
        try:
            lifecycle.check_escalation(case, to_stage)
        except lifecycle.LifecycleError as exc:
            raise OperationError(str(exc)) from None
        verdicts, failures = rule_hooks.ask(rt.plugins.calls, "escalation_check", case=case, from_stage=case.stage,
                                            to_stage=to_stage, ctx=rt.rule_context(now))
        blocks = [v for v in verdicts if v.decision.name == "BLOCK"]
        if blocks:
            raise OperationError(f"refused by rule {blocks[0].rule}: {blocks[0].reason}")
        if failures:
            # A rule that could not be heard might have refused: ask again once the plugin is fixed.
            raise OperationError(f"refused: plugin {failures[0].plugin}: {failures[0].problem}")
    with rt.store.transaction():
        rt.store.append_events(
            [
                rt.event(
                    "stage_changed",
                    case,
                    now,
                    data={
                        "from": case.stage.value,
                        "to": to_stage.value,
                        "reason": reason,
                        "by": by,
                        "recall": recall,
                        "manual": True,
                    },
                )
            ]
        )
        moved = change_stage(rt, case, to_stage, now, reason=reason)
    return moved


def decide(rt: Runtime, action_id: int, *, approve: bool, by: str, now: dt.datetime, note: str | None = None) -> Action:
    """Approve (the action goes out on the next run) or reject an action awaiting approval."""
    action = rt.store.action(action_id)
    if action.status is not ActionStatus.AWAITING_APPROVAL:
        raise OperationError(f"action {action_id} is {action.status}, not awaiting approval",
                             code="action_not_awaiting", action_id=action_id, status=str(action.status))
    case = rt.store.case(action.case_id)
    kind = "approved" if approve else "rejected"
    data: dict[str, Any] = {"key": action.key, "by": by, "note": note, "action": action.kind.value}
    status = ActionStatus.PENDING if approve else ActionStatus.REJECTED
    try:
        with rt.store.transaction():
            if approve and action.step == "portal-request":
                # A debtor's request from their page: approving it records the promise (dunning.portal.actions);
                # nothing is left to send ("skipped: promise made"), and no notice waits on a worklist.
                from dunning.portal.actions import grant

                data["promise_id"] = grant(rt, action_id, by=by, now=now)
                status = ActionStatus.SKIPPED
            event = rt.event(kind, case, now, channel=action.channel, step=action.step, action_id=action.id,
                             data=data)
            updated = rt.store.set_action_status(
                action_id, status, now,
                expected=[ActionStatus.AWAITING_APPROVAL], approved_by=by if approve else None, events=[event])
    except Conflict as exc:
        raise OperationError(str(exc)) from None
    return updated


def settle_in_doubt(rt: Runtime, action_id: int, *, resend: bool, by: str, now: dt.datetime,
                    reason: str | None = None) -> Action:
    """An operator's word on an action a crash left in doubt: send it again, or not at all.

    Look first (the mail server's log, the debtor's account) whether it went
    out: ``release`` sends it again under the same key, ``cancel`` ends it
    without sending (say why: "it was delivered", "superseded by a call").
    """
    action = rt.store.action(action_id)
    if action.status is not ActionStatus.IN_DOUBT:
        raise OperationError(f"action {action_id} is {action.status}, not in doubt")
    if not resend and not reason:
        raise OperationError("cancelling an action in doubt needs --reason (was it delivered after all?)")
    case = rt.store.case(action.case_id)
    kind = "in_doubt_released" if resend else "in_doubt_cancelled"
    event = rt.event(kind, case, now, channel=action.channel, step=action.step, action_id=action.id,
                     data={"key": action.key, "by": by, "reason": reason, "action": action.kind.value})
    try:
        return rt.store.set_action_status(action_id, ActionStatus.PENDING if resend else ActionStatus.CANCELLED, now,
                                          expected=[ActionStatus.IN_DOUBT], events=[event])
    except Conflict as exc:
        raise OperationError(str(exc)) from None


def notice_done(rt: Runtime, notice_id: int, *, by: str, now: dt.datetime, note: str | None = None) -> Action:
    """Mark a notice to staff handled: a ``notice_handled`` event saying who, when and (optionally) what was done."""
    try:
        action = rt.store.action(notice_id)
    except NotFound:
        raise OperationError(f"no notice with id {notice_id}") from None
    if action.kind is not ActionKind.NOTICE:
        raise OperationError(f"action {notice_id} is not a notice (its kind is {action.kind.value})")
    if action.status not in (ActionStatus.SENT, ActionStatus.FAILED):
        raise OperationError(f"notice {notice_id} has not gone out yet (it is {action.status})")
    if not by.strip():
        raise OperationError("--by must name who handled the notice")
    case = rt.store.case(action.case_id)
    with rt.store.transaction():
        # Checked inside the write transaction: two people closing the same notice cannot both succeed.
        handled = rt.store.notices_handled().get(notice_id)
        if handled is not None:
            raise OperationError(f"notice {notice_id} was already handled by {handled[0]} "
                                 f"at {calendar.to_text(handled[1])}")
        rt.store.append_events([rt.event("notice_handled", case, now, step=action.step, action_id=action.id, data={
            "key": action.key, "role": action.target, "by": by.strip(), "note": note})])
    return action


# --- what the debtor asked, what collectors saw -------------------------------------


def opt_out(rt: Runtime, debtor_id: str, channel: str, *, now: dt.datetime, contact: str | None = None,
            source: str = "operator", note: str | None = None, withdraw: bool = False) -> int:
    """Record (or withdraw) a debtor's request not to be reached through ``channel`` (or one address on it).

    The evidence event goes on each of the debtor's open cases. Returns the
    opt-out's id, or the number of opt-outs withdrawn.
    """
    debtor = rt.store.debtor(debtor_id)
    if debtor is None:
        raise OperationError(f"no debtor with id {debtor_id!r}")
    if channel not in rt.plugins.enabled and channel not in MEDIA and not withdraw:
        # A misspelt channel would record an opt-out nothing honours while the messages go on.
        raise OperationError(f"--channel {channel!r} is neither an enabled channel "
                             f"({', '.join(sorted(rt.plugins.enabled)) or 'none'}) nor a medium ({', '.join(MEDIA)})")
    if contact is not None:
        contact = _known_contact(rt, debtor_id, debtor.country, contact)
    with rt.store.transaction():
        if withdraw:
            result = rt.store.withdraw_opt_outs(debtor_id, channel, contact, now)
            if not result:
                raise OperationError(f"debtor {debtor_id!r} has no standing opt-out of {channel}"
                                     + (f" for {contact}" if contact else ""))
        else:
            result = rt.store.add_opt_out(debtor_id, channel, contact, now, source, note)
            _confirm_opt_out(rt, debtor_id, channel, contact, result, now)
        kind = "opt_out_withdrawn" if withdraw else "opt_out"
        data = {"debtor_id": debtor_id, "channel": channel, "contact": contact, "source": source, "note": note}
        cases = rt.store.open_cases_of(debtor_id)
        rt.store.append_events([rt.event(kind, case, now, channel=channel, data=data) for case in cases]
                               or [rt.event(kind, None, now, channel=channel, data=data)])
        for case in cases:
            rt.store.wake(case.id, rt.today(now))
    return result


def _known_contact(rt: Runtime, debtor_id: str, country: str | None, given: str) -> str:
    """The stored form of a contact the operator typed (a number in any notation is matched in E.164)."""
    known = {c.value for c in rt.store.contacts(debtor_id)}
    if given in known:
        return given
    try:
        e164 = phones.normalise(given, country).e164
    except phones.PhoneError:
        e164 = None
    if e164 in known:
        return e164
    raise OperationError(f"debtor {debtor_id!r} has no contact {given!r}")


def _confirm_opt_out(rt: Runtime, debtor_id: str, channel: str, contact: str | None, opt_out_id: int,
                     now: dt.datetime) -> None:
    """Queue the one message the law allows after an opt-out: its confirmation.

    An opt-out of a medium ("text") is confirmed on the first enabled channel of it.
    """
    if contact is not None:
        return
    confirming = rt.config.profile_for(rt.store.debtor(debtor_id)).profile.opt_out_confirmation_channels
    media = rt.plugins.media
    channel = next((name for name in sorted(rt.plugins.enabled)
                    if applies_to(channel, name, medium_of(name, media))
                    and any(applies_to(key, name, medium_of(name, media)) for key in confirming)), "")
    if not channel:
        return
    cases = rt.store.open_cases_of(debtor_id)
    if not cases:
        return
    case = cases[0]
    rt.store.add_action(key=str(ActionKey(case.id, "opt-out-confirmation", channel, str(opt_out_id))), case_id=case.id,
                        kind=ActionKind.OUTREACH, step="opt-out-confirmation", channel=channel,
                        template="opt-out-confirmation", planned_for=rt.today(now), not_before=now, now=now,
                        dpd=rt.dpd(case, now), required=True, options={"confirms_opt_out": opt_out_id})


@_for_plugins
def signal(rt: Runtime, case_id: int, kind: str, *, now: dt.datetime, source: str = "operator",
           note: str | None = None) -> int:
    """Record an abnormal signal as evidence; bankruptcy also places a bankruptcy hold."""
    case = _open_case(rt, case_id)
    if kind not in SIGNAL_KINDS:
        raise OperationError(f"unknown signal {kind!r}; use one of {', '.join(SIGNAL_KINDS)}")
    with rt.store.transaction():
        signal_id = rt.store.add_signal(case_id, kind, now, source, note)
        events = [rt.event("signal", case, now, data={"signal_id": signal_id, "signal": kind, "source": source,
                                                       "note": note})]
        if kind == "bankruptcy":
            hold_id = rt.store.add_hold(case_id, HoldReason.BANKRUPTCY.value, now, None, note)
            events.append(rt.event("hold", case, now, data={"hold_id": hold_id, "reason": "bankruptcy",
                                                            "until": None, "note": f"signal from {source}"}))
        rt.store.append_events(events)
        rt.store.wake(case_id, rt.today(now))
        signals = case.signals if kind in case.signals else (*case.signals, kind)
        trigger_escalation(rt, attrs.evolve(case, signals=signals), now, cause=f"signal {signal_id}")
    return signal_id


@_for_plugins
def mark_contact_bad(rt: Runtime, case_id: int, contact_id: int, reason: str, *, now: dt.datetime,
                     source: str = "operator") -> bool:
    """Stop using a number or address (wrong number, returned mail); False if it already was."""
    case = rt.store.case(case_id)
    contact = rt.store.contact(contact_id)
    if contact.debtor_id != case.debtor_id:
        raise OperationError(f"contact {contact_id} does not belong to case {case_id}'s debtor")
    with rt.store.transaction():
        changed = rt.store.mark_contact_bad(contact_id, reason)
        if changed:
            rt.store.append_events([rt.event("contact_marked_bad", case, now, data={
                "contact_id": contact_id, "kind": contact.kind.value, "role": contact.role.value,
                "reason": reason, "source": source})])
    return changed


@_for_plugins
def acknowledge(rt: Runtime, case_id: int, on: dt.date, *, now: dt.datetime, note: str | None = None,
                source: str = "operator", channel: str | None = None, **facts: Any) -> None:
    """Record the debtor's written acknowledgement of the debt (it restarts the limitation period)."""
    case = rt.store.case(case_id)
    if on > rt.today(now):
        raise OperationError(f"an acknowledgement dated {on} is in the future")
    with rt.store.transaction():
        latest = max(d for d in (case.last_acknowledged_on, on) if d is not None)
        rt.store.update_case(case.id, last_acknowledged_on=latest)
        rt.store.append_events([rt.event("acknowledgement", case, now, channel=channel, data={
            **facts, "on": on.isoformat(), "note": note, "source": source})])
