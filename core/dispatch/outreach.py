"""Outreach: a message or call to the debtor (or their attorney, or a third party), in four steps.

1. the gate: the channel, holds, a promise to pay, the step's conditions and
   opt-outs may each settle the action before anyone is chosen;
2. contact choice: whom the message addresses (the audience) and which of
   their contacts may be used, or the step's fallback channel when none;
3. send: the contact rules and the attempt they count, then the context the
   channel receives and the channel's own ``send``;
4. record: the channel's answer (sent, deferred, failed) becomes the
   action's outcome, with its evidence event.

``applicable_opt_outs``, ``choose_reach`` and ``delivery_context`` are what
``dunning.testing`` builds a plugin's ``DeliveryContext`` with, so a test sees
what a run hands the channel.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

import attrs
import structlog

from dunning.log import get_logger

from dunning import calendar, deadlines, rule_hooks
from dunning.action_key import ActionKey
from dunning.channels import Channel, Delivery, DeliveryContext, DeliveryStatus, audience_of, usable_contacts
from dunning.compliance.media import applies_to, medium_of
from dunning.compliance.profiles import Profile
from dunning.dispatch.bound_log import BoundLater
from dunning.dispatch.lazy_context import LazyContext
from dunning.ledger import accrual
from dunning.ledger.figures import demand_figures
from dunning.models import (Action, ActionStatus, Case, Contact, Debtor, Event, HoldReason, Obligation, PromiseStatus,
                            Stage)
from dunning.plugin_events import namespaced
from dunning.policy import Step, dpd_on
from dunning.runtime import Runtime
from dunning.templates import TemplateMissing, audience_context, case_context
from dunning.verdicts import Verdict

if TYPE_CHECKING:
    from dunning.dispatch.delivery import _Delivery
    from dunning.store.delivery_facts import DeliveryFacts

log = get_logger("dunning.dispatch")

# A channel may ask to wait (a 4xx reply) this many times per allowed attempt before the action fails.
DEFERRALS_PER_ATTEMPT = 4


def outreach(d: _Delivery) -> None:
    """Take an outreach through the gate, contact choice, send and record; any step may settle it."""
    ready = prepare(d)
    if ready is not None:
        settle(d, ready, send(d, ready))


@attrs.frozen
class Ready:
    """An outreach the gate, the contact choice and the rules let through, its attempt counted."""

    cleared: Cleared
    reach: Reach


@attrs.frozen
class Failed:
    """A send that raised or answered something else than a ``Delivery``."""

    error: str
    data: Mapping[str, Any] = attrs.field(factory=dict)


def prepare(d: _Delivery) -> Ready | None:
    """Steps 1 to 3 up to the send: None when one of them settled the action (its outcome recorded)."""
    cleared = _gate(d)
    if cleared is None:
        return None
    reach = _choose_contacts(d, cleared)
    if reach is None:
        return None
    if not _rules_allow_and_attempt_counted(d, cleared, reach):
        return None
    return Ready(cleared, reach)


def settle(d: _Delivery, ready: Ready, sent: tuple[Action, Delivery | Failed]) -> None:
    """Step 4: the channel's answer (or its failure) recorded as the action's outcome."""
    action, result = sent
    if isinstance(result, Failed):
        d.fail(result.error, result.data)
    else:
        _record(d, action, result, ready.cleared.channel.name, ready.reach.contacts)


# 1. the gate ------------------------------------------------------------------------------------


@attrs.frozen
class Cleared:
    """An outreach the gate let through, and what the gate found out on the way."""

    channel: Channel
    step: Step | None  # the policy's step, if it still has one by that name
    debtor: Debtor
    promise_reminder: bool
    opted_out: frozenset[str]  # contacts the debtor opted out of on this channel or its medium


def _gate(d: _Delivery) -> Cleared | None:
    """What the gate found, or None when something settled the action before anyone was chosen.

    The channel (missing, or its plugin left out), a hold, a promise to pay,
    the step's conditions or an opt-out may each skip, block or defer it.
    """
    action, case = d.action, d.case
    channel = d.rt.channel(action.channel or "")
    broken = d.rt.plugins.broken_owner(action.channel or "")
    if channel is None and broken is not None:
        # Its plugin is left out (a migration failed): the action waits for the fix.
        d.defer(rule_hooks.PLUGIN_ERROR, d.now + d.rt.config.retry_after,
                f"plugin {broken}: {d.rt.plugins.broken[broken]}")
        return None
    if channel is None:
        d.skip("channel_not_enabled", f"channel '{action.channel}' is not enabled")
        return None
    hold = d.hold_verdict()
    if hold is not None:
        if action.required:
            d.wait_for_hold(hold)
        else:
            d.block(hold)
        return None
    promise_reminder = "promise_id" in action.options
    if promise_reminder and d.facts.promise_status(int(action.options["promise_id"])) is not PromiseStatus.PENDING:
        d.skip("promise_settled", "the promise was kept or broken before its reminder went out")
        return None
    if not action.required and not promise_reminder and d.facts.has_pending_promise(case.id):
        d.skip("promise_pending", "the debtor has promised to pay; reminders wait for the promise")
        return None
    step = d.rt.policy_for(case).step(action.step)
    if step is not None and not step.when.hold(case, case.stage, d.today):
        d.skip("conditions_changed", "the step's conditions no longer hold for the case")
        return None
    debtor = d.debtor
    assert debtor is not None
    opt_outs = applicable_opt_outs(d.rt, debtor.id, channel.name, d.facts.opt_outs_of(debtor.id), d.media)
    confirming = action.options.get("confirms_opt_out")
    if any(contact is None for _, contact in opt_outs) and confirming is None:
        named = next(name for name, contact in opt_outs if contact is None)
        d.block(Verdict.block(f"opt_out:{named}", f"the debtor opted out of {named}"))
        return None
    opted_out = frozenset(contact for _, contact in opt_outs if contact)
    return Cleared(channel=channel, step=step, debtor=debtor, promise_reminder=promise_reminder, opted_out=opted_out)


def applicable_opt_outs(rt: Runtime, debtor_id: str, channel: str,
                        standing: Sequence[tuple[str, str | None]] | None = None,
                        media: Mapping[str, str | None] | None = None) -> list[tuple[str, str | None]]:
    """The debtor's opt-outs that cover the channel: (name, contact, or None for every contact).

    ``standing`` are the debtor's opt-outs when already read (a batch's facts); else they are read.
    ``media`` are the channels' media when already gathered (``rt.plugins.media``).
    """
    # An opt-out of the channel or of its medium ("text": every texting channel).
    medium = medium_of(channel, rt.plugins.media if media is None else media)
    every = rt.store.opt_outs(debtor_id) if standing is None else standing
    return [(name, contact) for name, contact in every if applies_to(name, channel, medium)]


# 2. contact choice ------------------------------------------------------------------------------


@attrs.frozen
class Reach:
    """Whom an outreach addresses, and the contacts it may and may not use."""

    audience: str  # "debtor", "contacts" (third parties), or "attorney" when the debtor is represented
    disclosure: str  # what a third party may be told: "none", "location" or "debt"
    contacts: Sequence[Contact]  # every contact the debtor has
    excluded: frozenset[str]  # contacts not to use: opted out, or a third party already asked once


def choose_reach(rt: Runtime, action: Action, case: Case, debtor: Debtor, profile: Profile,
                 opted_out: frozenset[str], today: dt.date, facts: DeliveryFacts | None = None) -> Reach:
    """The audience of the action (the attorney when the debtor is represented) and the contacts it may use.

    The case's holds and the debtor's contacts come from ``facts`` when given (a batch's), else from the store.
    """
    holds = facts.holds_on(case.id, today) if facts is not None else rt.store.holds(case.id, active_on=today)
    represented = any(h.reason == HoldReason.ATTORNEY for h in holds)
    audience = "attorney" if represented else str(action.options.get("audience", "debtor"))
    disclosure = str(action.options.get("disclosure", "none"))
    contacts = facts.contacts_of(debtor.id) if facts is not None else rt.store.contacts(debtor.id)
    excluded = opted_out
    if audience == "contacts" and disclosure == "location" and profile.third_party_at_most_once:
        # A third party asked for the debtor's whereabouts is asked once only.
        excluded = excluded | frozenset(rt.store.contacted_values(debtor.id))
    return Reach(audience=audience, disclosure=disclosure, contacts=contacts, excluded=excluded)


def _choose_contacts(d: _Delivery, cleared: Cleared) -> Reach | None:
    """The reach of the action, or None when the channel has nobody to reach (the step went to its fallback)."""
    reach = choose_reach(d.rt, d.action, d.case, cleared.debtor, d.rules.profile, cleared.opted_out, d.today,
                         d.facts)
    needs = tuple(getattr(cleared.channel, "needs", ()))
    if needs and not usable_contacts(reach.contacts, needs, reach.audience, reach.excluded):
        _no_contact(d, cleared.channel.name, needs, reach.audience)
        return None
    return reach


def _no_contact(d: _Delivery, channel: str, needs: tuple[str, ...], audience: str) -> None:
    """Nobody to reach on this channel: hand the step to its fallback channel, or skip it."""
    whom = "the debtor" if audience == "debtor" else "any third party"
    detail = f"{whom} has no usable {' or '.join(needs)} for {channel}"
    fallback = d.action.options.get("fallback")
    if not fallback or fallback == channel or "fallback_from" in d.action.options:
        d.skip("no_contact", detail)
        return
    # The same occurrence on the fallback channel.
    key = str(ActionKey.parse(d.action.key).on_channel(str(fallback)))
    with d.rt.store.transaction():
        if d.finish(ActionStatus.SKIPPED, d.event("skipped", reason="no_contact", detail=detail,
                                                  fallback=fallback, fallback_key=key)):
            d.rt.store.add_fallback_action(d.action, str(fallback), key, d.now)
            d.summary.skipped += 1


# 3. send ----------------------------------------------------------------------------------------


def _rules_allow_and_attempt_counted(d: _Delivery, cleared: Cleared, reach: Reach) -> bool:
    """Whether the contact rules let the action go; if so its attempt is counted, if not the verdict applied."""
    # The rules and the attempt they count are one transaction: two
    # dispatchers racing for the last allowed call cannot both pass.
    with d.rt.store.transaction():
        verdict = d.rule_verdict(d.check_hooks())
        role = "debtor" if reach.audience == "debtor" else reach.audience
        if verdict is None and d.round_attempts is not None:
            # With its round: written with the round's, at the end of this same transaction.
            d.round_attempts.count(cast(int, d.action.id), d.action.key, cleared.debtor.id, d.case.id,
                                   cleared.channel.name, role, d.now)
        elif verdict is None:
            d.rt.store.mark_send_started(cast(int, d.action.id), calendar.utc_now())  # a stored action has its id
            d.rt.store.record_attempt(debtor_id=cleared.debtor.id, case_id=d.case.id, channel=cleared.channel.name,
                                      at=d.now, source=cleared.channel.name, key=d.action.key, role=role)
    if verdict is not None:
        d.apply(verdict)
        return False
    return True


def send(d: _Delivery, ready: Ready) -> tuple[Action, Delivery | Failed]:
    """Hand the action to its channel: the action as sent and the channel's answer, or how the send failed.

    Nothing is recorded here: ``settle`` records the outcome, at once for a
    single action, with the rest of its batch for a channel that recognises
    a re-send by its key (``dunning.dispatch.batch``).
    """
    cleared, reach = ready.cleared, ready.reach
    action, case, channel, step = d.action, d.case, cleared.channel, cleared.step
    if step is not None and step.firm_template and case.broken_promises and not cleared.promise_reminder:
        # A broken promise makes the tone firmer for the rest of the case.
        action = attrs.evolve(action, template=step.firm_template)

    def record(kind: str, data: Mapping[str, Any]) -> None:
        d.recorded.append(d.rt.event(namespaced(channel.name, kind), case, d.now, channel=channel.name,
                                     step=action.step, action_id=action.id, data=dict(data)))

    # Bound when the channel first logs (``BoundLater``): most never do for an action that goes well.
    bound = cast(structlog.typing.FilteringBoundLogger, BoundLater(log, case_id=case.id, channel=channel.name))
    ctx = delivery_context(d.rt, action, case, d.now, channel=channel, debtor=cleared.debtor, reach=reach,
                           run_id=d.claimer, log=bound, record=record, obligations=d.facts.obligations_of(case.id),
                           today=d.today)
    try:
        delivery = channel.send(action, case, ctx)
    except TemplateMissing as exc:
        return action, Failed(f"template: {exc}")
    except Exception as exc:  # a plugin failure never stops the run
        log.warning("channel raised", error=repr(exc))
        return action, Failed(f"{type(exc).__name__}: {exc}", {"plugin_error": True})
    if not isinstance(delivery, Delivery):
        return action, Failed(f"channel '{channel.name}' returned {type(delivery).__name__}, not a Delivery")
    return action, delivery


def delivery_context(rt: Runtime, action: Action, case: Case, now: dt.datetime, *, channel: Channel, debtor: Debtor,
                     reach: Reach, run_id: str, log: structlog.typing.FilteringBoundLogger,
                     record: Callable[[str, Mapping[str, Any]], None] | None = None,
                     obligations: Sequence[Obligation] | None = None, today: dt.date | None = None
                     ) -> DeliveryContext:
    """What the channel's ``send`` receives for the action: the case's data, its template context, a renderer.

    ``obligations`` are the case's when already read (a batch's facts); else they are read. ``today``
    is the business date at ``now`` when already worked out (``rt.today(now)``).
    """
    if today is None:
        today = rt.today(now)
    if obligations is None:
        obligations = rt.store.obligations(case.id)
    dpd = dpd_on(case, today)  # rt.dpd(case, now), from the date already worked out
    known = obligations

    def context() -> Mapping[str, Any]:
        return audience_context(
            case_context(case, debtor, known, dpd, today,
                         {"step": action.step, "options": action.options, "sender": rt.config.notify,
                          # The date a letter or email may set ("pay by ..."); a channel that
                          # states it says so in its facts, and the engine keeps it.
                          "deadline": deadlines.deadline_for(rt.policy_for(case), case, today,
                                                             announced_deadline(rt, case.id)).as_context(),
                          **demand_figures(rt.store.charges_owed(case.id), case.balance, case.currency)},
                         debt_kind=rt.policy_for(case).debt_kind),
            reach.audience, reach.disclosure)

    return DeliveryContext(
        now=now, key=action.key, debtor=debtor, contacts=reach.contacts,
        obligations=obligations, dpd=dpd, settings=rt.config.settings_for(channel.name),
        config=rt.config, db=rt.store.db, log=log,
        # Built when the channel first reads it (``LazyContext``): a channel that sends no text never does.
        template_context=LazyContext(context),
        render=lambda template, suffix, ctx_: rt.render(channel, template, suffix, ctx_),
        audience=reach.audience, run_id=run_id, opted_out=reach.excluded, store=rt.store,
        record=record,
    )


def announced_deadline(rt: Runtime, case_id: int) -> deadlines.Deadline | None:
    """The latest deadline a message gave the debtor for this case, if any."""
    found = rt.store.announced_deadline(case_id)
    if found is None:
        return None
    return deadlines.Deadline(on=found[0], stage=Stage(found[1]) if found[1] in set(Stage) else None)


# 4. record --------------------------------------------------------------------------------------


def _record(d: _Delivery, action: Action, delivery: Delivery, channel: str, contacts: Sequence[Contact]) -> None:
    """The channel's answer as the action's outcome: sent (and whom it reached), deferred, or failed."""
    if delivery.status is DeliveryStatus.SENT:
        with d.rt.store.transaction():
            if d.done(_sent_event(d, action, delivery), reference=delivery.reference):
                _after_sent(d, action, delivery, contacts)
    elif delivery.status is DeliveryStatus.DEFERRED:
        assert delivery.until is not None
        reason = delivery.error or "the channel asked to wait"
        # A provider that only ever says "later" must not keep an action
        # alive for ever: its deferrals count as attempts, up to a limit.
        if action.attempts + 1 >= d.rt.config.max_attempts * DEFERRALS_PER_ATTEMPT:
            d.fail(f"still deferred after {action.attempts + 1} tries: {reason}", delivery.data, retry=False)
            return
        with d.rt.store.transaction():
            d.rt.store.forget_attempt(action.key)  # nothing left; the provider asked to wait
            d.defer(f"channel:{channel}", delivery.until, reason, count_attempt=True)
    else:
        d.fail(delivery.error or "the channel reported a failure", delivery.data, retry=delivery.retry)


def record_sent_together(sent: Sequence[tuple[_Delivery, Action, Delivery, Sequence[Contact]]]) -> None:
    """A round's sent actions recorded as ``_record`` would, inside the caller's transaction, in a few statements.

    Each action's evidence (what its channel recorded, then ``sent``) goes
    in with one chain pass for the round; what a sent action leads to (a
    notice of interest, a step's fee, whom it reached, the deadline it gave)
    follows, in the same transaction.
    """
    if not sent:
        return
    first = sent[0][0]
    outcomes: list[tuple[int, str | None, Sequence[Event]]] = []
    for d, action, delivery, _ in sent:
        recorded, d.recorded = d.recorded, []
        outcomes.append((cast(int, action.id), delivery.reference, [*recorded, _sent_event(d, action, delivery)]))
    held = first.rt.store.finish_sent(first.claimer, first.now, outcomes)
    for d, action, delivery, contacts in sent:
        if action.id in held:
            d.summary.sent += 1
            _after_sent(d, action, delivery, contacts)


def _sent_event(d: _Delivery, action: Action, delivery: Delivery) -> Event:
    # The channel's own facts go in first so they cannot overwrite the core's.
    return d.event("sent", **{**dict(delivery.data), "reference": delivery.reference, "template": action.template})


def _after_sent(d: _Delivery, action: Action, delivery: Delivery, contacts: Sequence[Contact]) -> None:
    """What a recorded send leads to, in its transaction: the accruals it gives, whom it reached, its deadline."""
    accrual.record_sent(d.rt, action, d.case, d.now)  # a notice of interest, a step's fee
    reached = _reached(delivery.data)
    if reached:
        role = next((audience_of(c.role) for c in contacts if c.value == reached), None)
        d.rt.store.update_attempt(action.key, contact=reached, role=role)
    stated = _stated_deadline(delivery.data)
    if stated is not None:
        d.rt.store.record_deadline(d.case.id, stated[0], stated[1], action.key, d.now)


def _stated_deadline(data: Mapping[str, Any]) -> tuple[dt.date, str | None] | None:
    """The deadline a channel says its message gave (``deadline``, ``deadline_stage`` in its facts), if any."""
    text = data.get("deadline")
    if not isinstance(text, str):
        return None
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        log.warning("a channel reported a deadline that is not a date", deadline=text)
        return None
    stage = data.get("deadline_stage")
    return day, stage if isinstance(stage, str) else None


def _reached(data: Mapping[str, Any]) -> str | None:
    """The address or number a channel says it used (``contact``, ``to`` or ``number`` in its facts)."""
    for key in ("contact", "to", "number", "address"):
        value = data.get(key)
        if isinstance(value, str) and value:
            return value
    return None
