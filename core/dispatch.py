"""One run: lift expired holds, settle promises, plan what is due, deliver what is ready.

Planning writes the outbox (actions with deterministic keys) in the same
transaction that advances each case's cursor, so a rerun for the same moment
plans nothing new. Delivery claims actions, re-checks each against the case
as it is now, sends, and records the outcome with its evidence event in one
transaction; a crash between send and record leaves the claim in flight,
and the next run re-sends that one action under the same key.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import socket
import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import attrs
import structlog

from dunning import calendar, deadlines, lifecycle
from dunning.action_key import ActionKey
from dunning.channels import (Delivery, DeliveryContext, DeliveryStatus, RunContext, StageContext, audience_of,
                              usable_contacts)
from dunning.compliance.media import applies_to, medium_of
from dunning.models import (OPEN_ACTION_STATUSES, Action, ActionKind, ActionStatus, Case, Event, HoldReason,
                            PromiseStatus, Stage)
from dunning.policy import Plan, Planned, evaluate
from dunning.runtime import Runtime
from dunning.staff_delivery import send_notice
from dunning.store import CasePlanWrite, action_row_tail
from dunning.templates import TemplateMissing, audience_context, case_context
from dunning.verdicts import Decision, Verdict, strongest

log = structlog.get_logger("dunning.dispatch")

PLAN_BATCH = 2000
# A channel may ask to wait (a 4xx reply) this many times per allowed attempt before the action fails.
DEFERRALS_PER_ATTEMPT = 4
CLAIM_BATCH = 200
# How long a required step or a stage change waits before it looks again
# when something (a hold, an unsent required letter) holds it back.
RECHECK_AFTER = dt.timedelta(days=1)


@attrs.define
class RunSummary:
    planned: int = 0
    sent: int = 0
    deferred: int = 0
    blocked: int = 0
    failed: int = 0
    escalated: int = 0
    awaiting_approval: int = 0
    skipped: int = 0
    # Occurrences dropped because the runner did not run on their day (see
    # the ``steps_missed`` events), and pending ones a newer occurrence of the
    # same step and channel replaced (``superseded`` events).
    missed: int = 0
    superseded: int = 0
    internal: int = 0  # notices and account locks carried out
    cases_planned: int = 0
    holds_lifted: int = 0
    promises_kept: int = 0
    promises_broken: int = 0
    blocked_by_rule: dict[str, int] = attrs.field(factory=dict)
    deferred_by_rule: dict[str, int] = attrs.field(factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


ProgressCallback = Callable[[str, int], None]


def run(rt: Runtime, now: dt.datetime, *, dry_run: bool = False, progress: ProgressCallback | None = None,
        deliver: bool = True) -> RunSummary:
    """Do everything that is due at ``now``. Safe to repeat; safe to rerun after a crash."""
    summary = RunSummary()
    if dry_run:
        _dry_plan(rt, now, summary)
        return summary
    lift_expired_holds(rt, now, summary)
    settle_promises(rt, now, summary)
    plan(rt, now, summary, progress)
    if deliver:
        deliver_ready(rt, now, summary, progress)
    return summary


# --- housekeeping ---------------------------------------------------------------


def lift_expired_holds(rt: Runtime, now: dt.datetime, summary: RunSummary) -> None:
    today = rt.today(now)
    for hold_id, case_id, reason, until in rt.store.expired_holds(today):
        with rt.store.transaction():
            if rt.store.expire_hold(hold_id, now):
                case = rt.store.case(case_id)
                rt.store.wake(case_id, today)
                rt.store.append_events([rt.event("hold_released", case, now, data={
                    "hold_id": hold_id, "reason": reason, "until": until.isoformat(), "by": "expiry"})])
                summary.holds_lifted += 1


def settle_promises(rt: Runtime, now: dt.datetime, summary: RunSummary) -> None:
    """A promise covered by payments is kept; one past its time without them is broken."""
    today = rt.today(now)
    # A promise is judged an hour (the grace) after its time: the debtor's
    # transfer may take that long to show, and the check call goes then.
    grace = rt.config.compliance.promise_grace
    for promise_id, case_id, amount, paid_since, due_at in rt.store.promises_to_settle(now, grace):
        kept = paid_since >= amount
        status = PromiseStatus.KEPT if kept else PromiseStatus.BROKEN
        with rt.store.transaction():
            if not rt.store.settle_promise(promise_id, status, now):
                continue
            case = rt.store.case(case_id)
            if not kept and case.is_open:
                rt.store.update_case(case_id, broken_promises=case.broken_promises + 1)
                rt.store.wake(case_id, today)
            rt.store.append_events([rt.event(f"promise_{status.value}", case, now, data={
                "promise_id": promise_id, "amount": amount, "paid": paid_since, "due_at": calendar.to_text(due_at)})])
            if not kept and case.is_open:
                trigger_escalation(rt, attrs.evolve(case, broken_promises=case.broken_promises + 1), now,
                                   cause=f"broken promise {promise_id}")
        if kept:
            summary.promises_kept += 1
        else:
            summary.promises_broken += 1


# --- planning -------------------------------------------------------------------------


def _due_batches(rt: Runtime, today: dt.date) -> Iterator[list[tuple[Case, str | None]]]:
    after: tuple[str, int] | None = None
    while True:
        batch = rt.store.due_cases(today, after, PLAN_BATCH)
        if not batch:
            return
        last = batch[-1][0]
        after = (last.next_action_on.isoformat() if last.next_action_on else "", last.id)
        yield batch


def plan(rt: Runtime, now: dt.datetime, summary: RunSummary, progress: ProgressCallback | None = None) -> None:
    today = rt.today(now)
    planner = _CasePlanner(rt, now, today, summary)
    # Read and evaluate here while the store writes earlier batches on a
    # thread of its own (see Store.save_plans_pipelined). Keyset paging stays
    # right meanwhile: a case the writer has planned moves its
    # next_action_on past today, so no later page can meet it again.
    batches = ([planner.plan(case, tz) for case, tz in batch] for batch in _due_batches(rt, today))
    with contextlib.closing(rt.store.save_plans_pipelined(batches)) as saved_batches:
        for saved in saved_batches:
            summary.cases_planned += saved.cases
            summary.planned += saved.inserted
            summary.superseded += saved.superseded
            if progress:
                progress("plan", saved.submitted)


# An item's outbox row, but for its key and case: (key tail, row tail, the
# planning event's kind or None, that event's data but for the key).
_ItemRow = tuple[Planned, str, tuple[Any, ...], str | None, dict[str, Any]]


class _CasePlanner:
    """Turns each due case's plan into its outbox rows, events and new cursor, for one run.

    Everything about a planned item but the case it is for (its key's tail,
    moment, status and the rest of its row) is worked out once per item and
    debtor time zone: policy.evaluate shares one item among all the cases
    due the same day, so a million cases need a handful of these.
    """

    def __init__(self, rt: Runtime, now: dt.datetime, today: dt.date, summary: RunSummary):
        self.rt, self.now, self.today, self.summary = rt, now, today, summary
        self.now_text = calendar.to_text(now)
        self.enabled = set(rt.plugins.enabled)
        self.zone_name = rt.config.timezone
        self._items: dict[tuple[int, str | None], _ItemRow] = {}

    def plan(self, case: Case, debtor_tz: str | None) -> CasePlanWrite:
        result: Plan = evaluate(self.rt.policy, case, self.today)
        rows = []
        events: list[Event] = []
        for item in result.items:
            hit = self._items.get((id(item), debtor_tz))
            if hit is None or hit[0] is not item:
                hit = self._item_row(item, debtor_tz)
            _, tail, row_tail, event_kind, event_data = hit
            key = f"{case.id}:{tail}"
            rows.append((key, case.id, *row_tail))
            if event_kind is not None:
                events.append(self._event(event_kind, case, item.dpd, item.channel, item.step,
                                          {"key": key, **event_data}))
                if event_kind == "skipped":
                    self.summary.skipped += 1
                else:
                    self.summary.awaiting_approval += 1
        if result.missed:
            self.summary.missed += len(result.missed)
            events.append(self._event("steps_missed", case, result.dpd, None, None, {
                "steps": [{"step": s, "dpd": d} for s, d in result.missed],
                "reason": "past their day when the case was planned; only required steps run late"}))
        return CasePlanWrite(
            case_id=case.id,
            expected_planned_through=case.planned_through,
            planned_through=max(self.today, case.planned_through) if case.planned_through else self.today,
            next_action_on=result.next_action_on,
            actions=rows,
            events=events,
            planned_at=self.now,
        )

    def _item_row(self, item: Planned, debtor_tz: str | None) -> _ItemRow:
        tz = calendar.zone(debtor_tz, self.zone_name)
        not_before = calendar.local_moment(item.day if not item.late else self.today, item.at, tz)
        status, event_kind, data = ActionStatus.PENDING, None, {}
        if item.kind is ActionKind.OUTREACH and item.channel not in self.enabled:
            status, event_kind = ActionStatus.SKIPPED, "skipped"
            data = {"reason": "channel_not_enabled", "detail": f"channel '{item.channel}' is not enabled"}
        elif item.requires_approval:
            status, event_kind = ActionStatus.AWAITING_APPROVAL, "approval_requested"
            data = {"reason": "policy", "detail": f"step '{item.step}' requires approval"}
        if event_kind is not None:
            data |= {"action": item.kind.value, **({"target": item.target} if item.target else {})}
        hit = (item, item.key_tail(), action_row_tail(item, not_before, status, self.now_text), event_kind, data)
        if len(self._items) >= 4096:
            self._items.clear()  # bounded: a run over many days meets many items
        self._items[(id(item), debtor_tz)] = hit
        return hit

    def _event(self, kind: str, case: Case, dpd: int | None, channel: str | None, step: str | None,
               data: dict[str, Any]) -> Event:
        # What rt.event(kind, case, now, dpd=dpd, channel=..., step=..., data=...)
        # builds, without working out the case's days past due again for
        # every event (the caller has them: the plan's, or the item's for an
        # action's event).
        return Event(kind=kind, at=self.now, case_id=case.id, stage=case.stage.value, dpd=dpd, channel=channel,
                     step=step, data=data)


def _dry_plan(rt: Runtime, now: dt.datetime, summary: RunSummary) -> None:
    today = rt.today(now)
    enabled = set(rt.plugins.enabled)
    for batch in _due_batches(rt, today):
        for case, _tz in batch:
            result = evaluate(rt.policy, case, today)
            summary.missed += len(result.missed)
            if result.items:
                summary.cases_planned += 1
            for item in result.items:
                if item.kind is ActionKind.OUTREACH and item.channel not in enabled:
                    summary.skipped += 1
                elif item.requires_approval:
                    summary.awaiting_approval += 1
                summary.planned += 1
            # Nothing is written: the keyset cursor moves on by itself.


# --- delivery ----------------------------------------------------------------------------


def claimer_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _claim_is_abandoned(claimed_by: str | None, claimed_at: dt.datetime, wall_now: dt.datetime,
                        timeout: dt.timedelta) -> bool:
    """A claim is abandoned when its process is gone (same host) or it has timed out."""
    if wall_now - claimed_at >= timeout:
        return True
    host, _, rest = (claimed_by or "").partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def reclaim_abandoned(rt: Runtime, now: dt.datetime | None = None) -> int:
    """Deal with claims a stopped run left: re-queue them, or set outreach aside as in doubt.

    An outreach on a channel with ``in_doubt = "hold"`` may have reached the
    debtor before the crash, and its provider cannot tell a re-send: it waits
    for a person (``dunning in-doubt``). Everything else goes back in the
    queue under the same key. Returns how many were re-queued.
    """
    wall_now = calendar.utc_now()
    resend, hold = [], []
    for action_id, claimed_by, claimed_at, channel, kind, handed_over in rt.store.in_flight():
        if not _claim_is_abandoned(claimed_by, claimed_at, wall_now, rt.config.claim_timeout):
            continue
        # Only an action its channel had in hand may have gone out; the rest of the claimed batch had not.
        held = handed_over and kind == ActionKind.OUTREACH.value and rt.in_doubt(channel) == "hold"
        (hold if held else resend).append(action_id)
    released = rt.store.release_claims(resend)
    if released:
        log.warning("re-queued actions left in flight by a stopped run", count=released)
    if hold:
        at = now or wall_now

        def event(action: Action) -> Event:
            return rt.event("in_doubt", rt.store.case(action.case_id), at, channel=action.channel, step=action.step,
                            action_id=action.id, data={
                                "key": action.key, "action": action.kind.value,
                                "reason": "left in flight by a stopped run; it may have gone out, and the channel "
                                          "cannot recognise a re-send (in_doubt = \"hold\")"})

        held = rt.store.hold_in_doubt(hold, at, event)
        log.warning("actions left in flight are in doubt: see `dunning in-doubt`", count=held)
    return released


def deliver_ready(rt: Runtime, now: dt.datetime, summary: RunSummary, progress: ProgressCallback | None = None) -> None:
    reclaim_abandoned(rt, now)
    claimer = claimer_id()
    try:
        while True:
            batch = rt.store.claim(now, calendar.utc_now(), claimer, CLAIM_BATCH)
            if not batch:
                return
            for action in batch:
                with structlog.contextvars.bound_contextvars(case_id=action.case_id, channel=action.channel, action_id=action.id):
                    _Delivery(rt, action, claimer, now, summary).go()
            if progress:
                progress("deliver", len(batch))
    finally:
        finish_channels(rt, now, claimer)


def finish_channels(rt: Runtime, now: dt.datetime, run_id: str) -> None:
    """Give every enabled channel with a ``finish_run`` its end-of-run call."""
    for name in sorted(rt.plugins.enabled):
        channel = rt.channel(name)
        finish = getattr(channel, "finish_run", None)
        if finish is None:
            continue
        ctx = RunContext(now=now, run_id=run_id, settings=rt.config.settings_for(name), config=rt.config,
                         db=rt.store.db, log=log.bind(channel=name), store=rt.store)
        try:
            finish(ctx)
        except Exception as exc:  # one channel's batch must not stop another's
            log.warning("finish_run raised", channel=name, error=repr(exc))


class _Delivery:
    """Takes one claimed action to its recorded outcome."""

    def __init__(self, rt: Runtime, action: Action, claimer: str, now: dt.datetime, summary: RunSummary):
        self.rt, self.action, self.claimer, self.now, self.summary = rt, action, claimer, now, summary
        self.case = rt.store.case(action.case_id)
        self.today = rt.today(now)
        # The debtor's own contact rules (by jurisdiction), looked up once.
        self.rules = rt.config.profile_for(rt.store.debtor(self.case.debtor_id))

    # outcomes ---------------------------------------------------------------

    def _event(self, kind: str, **data: Any) -> Event:
        a = self.action
        return self.rt.event(kind, self.case, self.now, channel=a.channel, step=a.step, action_id=a.id,
                             data={**data, "key": a.key, "action": a.kind.value})

    def _finish(self, status: ActionStatus, event: Event | None, **kw: Any) -> bool:
        return self.rt.store.finish(self.action, self.claimer, status, self.now,
                                    events=[event] if event else [], **kw)

    def skip(self, reason: str, detail: str) -> None:
        if self._finish(ActionStatus.SKIPPED, self._event("skipped", reason=reason, detail=detail)):
            self.summary.skipped += 1

    def cancel(self, reason: str) -> None:
        self._finish(ActionStatus.CANCELLED, self._event("cancelled", reason=reason))

    def block(self, verdict: Verdict) -> None:
        if self._finish(ActionStatus.BLOCKED, self._event("blocked", rule=verdict.rule, reason=verdict.reason,
                                                          **self.rules.evidence()),
                        error=f"{verdict.rule}: {verdict.reason}"):
            self.summary.blocked += 1
            self.summary.blocked_by_rule[verdict.rule] = self.summary.blocked_by_rule.get(verdict.rule, 0) + 1

    def defer(self, rule: str, until: dt.datetime, reason: str, *, count_attempt: bool = False) -> None:
        # A deferral to a moment already past would be claimed again by this
        # very run, for ever; it waits at least until the next minute.
        if until <= self.now:
            until = self.now + dt.timedelta(minutes=1)
        event = self._event("deferred", rule=rule, reason=reason, until=calendar.to_text(until), **self.rules.evidence())
        if self._finish(ActionStatus.PENDING, event, not_before=until, count_attempt=count_attempt):
            self.summary.deferred += 1
            self.summary.deferred_by_rule[rule] = self.summary.deferred_by_rule.get(rule, 0) + 1

    def ask_approval(self, verdict: Verdict) -> None:
        event = self._event("approval_requested", rule=verdict.rule, reason=verdict.reason, **self.rules.evidence())
        if self._finish(ActionStatus.AWAITING_APPROVAL, event):
            self.summary.awaiting_approval += 1

    def done(self, event: Event, reference: str | None = None) -> bool:
        ok = self._finish(ActionStatus.SENT, event, reference=reference)
        # "sent" counts what reached the outside; internal work has its own counts.
        if ok and self.action.kind is ActionKind.OUTREACH:
            self.summary.sent += 1
        elif ok and self.action.kind in (ActionKind.NOTICE, ActionKind.LOCK_ACCOUNT):
            self.summary.internal += 1
        return ok

    def fail(self, error: str, data: Mapping[str, Any] | None = None, *, retry: bool = True) -> None:
        attempts = self.action.attempts + 1
        final = not retry or attempts >= self.rt.config.max_attempts
        retry_at = self.now + self.rt.config.retry_after * (2 ** (attempts - 1))
        facts = {**dict(data or {}), "error": error, "attempt": attempts, "final": final}
        if not final:
            facts["retry_at"] = calendar.to_text(retry_at)
        event = self._event("delivery_failed", **facts)
        status = ActionStatus.FAILED if final else ActionStatus.PENDING
        if self._finish(status, event, error=error, count_attempt=True, not_before=None if final else retry_at):
            self.summary.failed += 1

    # the decision -------------------------------------------------------------

    def go(self) -> None:
        if not self.case.is_open:
            self.cancel(f"case_{self.case.status}")
            return
        kind = self.action.kind
        if kind is ActionKind.ESCALATE:
            self.escalate()
        elif kind is ActionKind.RECALL:
            self.recall()
        elif kind is ActionKind.NOTICE:
            self.notice()
        elif kind is ActionKind.LOCK_ACCOUNT:
            self.lock_account()
        else:
            self.outreach()

    def _hold_verdict(self) -> Verdict | None:
        """The hold that stops this action, if any (outreach under cease or attorney holds may pass)."""
        holds = self.rt.store.holds(self.case.id, active_on=self.today)
        for hold in holds:
            if hold.reason == HoldReason.CEASE and self.action.kind is ActionKind.OUTREACH \
                    and self.action.template in self.rules.profile.cease_permitted_templates:
                continue  # one of the notices the law still allows after a cease request
            if hold.reason == HoldReason.ATTORNEY and self.action.kind is ActionKind.OUTREACH:
                continue  # goes to the attorney instead (see ``outreach``)
            return Verdict.block(f"hold:{hold.reason}", f"case is on hold ({hold.reason})"
                                 + (f" until {hold.until}" if hold.until else ""))
        return None

    def _announced(self) -> deadlines.Deadline | None:
        """The latest deadline a message gave the debtor for this case, if any."""
        found = self.rt.store.announced_deadline(self.case.id)
        if found is None:
            return None
        return deadlines.Deadline(on=found[0], stage=Stage(found[1]) if found[1] in set(Stage) else None)

    def _represented(self) -> bool:
        return any(h.reason == HoldReason.ATTORNEY for h in self.rt.store.holds(self.case.id, active_on=self.today))

    def _wait_for_hold(self, verdict: Verdict) -> None:
        """Stage changes and required steps are never dropped for a hold: they wait it out."""
        holds = self.rt.store.holds(self.case.id, active_on=self.today)
        ends = [h.until for h in holds]
        if holds and all(ends):
            until = calendar.local_moment(max(e for e in ends if e), None, self.rt.config.zone)
        else:
            until = self.now + RECHECK_AFTER
        self.defer(verdict.rule, until, verdict.reason + "; waits for the hold to end")

    def _rule_verdict(self, verdicts: list[Verdict | None]) -> Verdict | None:
        verdict = strongest(verdicts)
        if verdict is None or verdict.decision is Decision.ALLOW:
            return None
        if verdict.decision is Decision.NEEDS_APPROVAL and self.action.approved_by:
            return None  # a person already approved it
        return verdict

    def _apply(self, verdict: Verdict) -> None:
        if verdict.decision is Decision.BLOCK:
            self.block(verdict)
        elif verdict.decision is Decision.NEEDS_APPROVAL:
            self.ask_approval(verdict)
        else:
            assert verdict.until is not None
            self.defer(verdict.rule, verdict.until, verdict.reason)

    def _check_hooks(self) -> list[Verdict | None]:
        try:
            return list(self.rt.hook.check_action(action=self.action, case=self.case, now=self.now,
                                                  ctx=self.rt.rule_context(self.now)))
        except Exception as exc:
            # A broken rule must not let a contact through unchecked.
            return [Verdict.defer("plugin_error", self.now + self.rt.config.retry_after, f"check_action raised: {exc}")]

    def outreach(self) -> None:
        action, case = self.action, self.case
        channel = self.rt.channel(action.channel or "")
        if channel is None:
            self.skip("channel_not_enabled", f"channel '{action.channel}' is not enabled")
            return
        hold = self._hold_verdict()
        if hold is not None:
            if action.required:
                self._wait_for_hold(hold)
            else:
                self.block(hold)
            return
        promise_reminder = "promise_id" in action.options
        if promise_reminder and self.rt.store.promise_status(int(action.options["promise_id"])) is not PromiseStatus.PENDING:
            self.skip("promise_settled", "the promise was kept or broken before its reminder went out")
            return
        if not action.required and not promise_reminder and self.rt.store.has_pending_promise(case.id, self.now):
            self.skip("promise_pending", "the debtor has promised to pay; reminders wait for the promise")
            return
        step = self.rt.policy.step(action.step)
        if step is not None and not step.when.hold(case, case.stage, self.today):
            self.skip("conditions_changed", "the step's conditions no longer hold for the case")
            return
        debtor = self.rt.store.debtor(case.debtor_id)
        assert debtor is not None
        # An opt-out of the channel or of its medium ("text": every texting channel).
        medium = medium_of(channel.name, self.rt.plugins.media)
        opt_outs = [(name, contact) for name, contact in self.rt.store.opt_outs(debtor.id)
                    if applies_to(name, channel.name, medium)]
        confirming = action.options.get("confirms_opt_out")
        if any(contact is None for _, contact in opt_outs) and confirming is None:
            named = next(name for name, contact in opt_outs if contact is None)
            self.block(Verdict.block(f"opt_out:{named}", f"the debtor opted out of {named}"))
            return
        opted_out = frozenset(contact for _, contact in opt_outs if contact)
        audience = "attorney" if self._represented() else str(action.options.get("audience", "debtor"))
        disclosure = str(action.options.get("disclosure", "none"))
        contacts = self.rt.store.contacts(debtor.id)
        profile = self.rules.profile
        excluded = opted_out
        if audience == "contacts" and disclosure == "location" and profile.third_party_at_most_once:
            # A third party asked for the debtor's whereabouts is asked once only.
            excluded = excluded | frozenset(self.rt.store.contacted_values(debtor.id))
        needs = tuple(getattr(channel, "needs", ()))
        if needs and not usable_contacts(contacts, needs, audience, excluded):
            self.no_contact(channel.name, needs, audience)
            return
        # The rules and the attempt they count are one transaction: two
        # dispatchers racing for the last allowed call cannot both pass.
        with self.rt.store.transaction():
            verdict = self._rule_verdict(self._check_hooks())
            if verdict is None:
                self.rt.store.mark_send_started(action.id, calendar.utc_now())
                self.rt.store.record_attempt(debtor_id=debtor.id, case_id=case.id, channel=channel.name, at=self.now,
                                             source=channel.name, key=action.key,
                                             role="debtor" if audience == "debtor" else audience)
        if verdict is not None:
            self._apply(verdict)
            return
        if step is not None and step.firm_template and case.broken_promises and not promise_reminder:
            # A broken promise makes the tone firmer for the rest of the case.
            action = attrs.evolve(action, template=step.firm_template)
        obligations = self.rt.store.obligations(case.id)
        dpd = self.rt.dpd(case, self.now)
        context = audience_context(
            case_context(case, debtor, obligations, dpd, self.today,
                         {"step": action.step, "options": action.options, "sender": self.rt.config.notify,
                          # The date a letter or email may set ("pay by ..."); a channel that
                          # states it says so in its facts, and the engine keeps it.
                          "deadline": deadlines.deadline_for(self.rt.policy, case, self.today,
                                                             self._announced()).as_context()},
                         debt_kind=self.rt.policy.debt_kind),
            audience, disclosure)
        ctx = DeliveryContext(
            now=self.now, key=action.key, debtor=debtor, contacts=contacts,
            obligations=obligations, dpd=dpd, settings=self.rt.config.settings_for(channel.name),
            config=self.rt.config, db=self.rt.store.db, log=log.bind(case_id=case.id, channel=channel.name),
            template_context=context,
            render=lambda template, suffix, ctx_: self.rt.render(channel, template, suffix, ctx_),
            audience=audience, run_id=self.claimer, opted_out=excluded, store=self.rt.store,
        )
        try:
            delivery = channel.send(action, case, ctx)
        except TemplateMissing as exc:
            self.fail(f"template: {exc}")
            return
        except Exception as exc:  # a plugin failure never stops the run
            log.warning("channel raised", error=repr(exc))
            self.fail(f"{type(exc).__name__}: {exc}", {"plugin_error": True})
            return
        if not isinstance(delivery, Delivery):
            self.fail(f"channel '{channel.name}' returned {type(delivery).__name__}, not a Delivery")
            return
        if delivery.status is DeliveryStatus.SENT:
            # The channel's own facts go in first so they cannot overwrite the core's.
            facts = {**dict(delivery.data), "reference": delivery.reference, "template": action.template}
            reached = _reached(delivery.data)
            stated = _stated_deadline(delivery.data)
            with self.rt.store.transaction():
                sent = self.done(self._event("sent", **facts), reference=delivery.reference)
                if sent and reached:
                    role = next((audience_of(c.role) for c in contacts if c.value == reached), None)
                    self.rt.store.update_attempt(action.key, contact=reached, role=role)
                if sent and stated is not None:
                    self.rt.store.record_deadline(case.id, stated[0], stated[1], action.key, self.now)
        elif delivery.status is DeliveryStatus.DEFERRED:
            assert delivery.until is not None
            reason = delivery.error or "the channel asked to wait"
            # A provider that only ever says "later" must not keep an action
            # alive for ever: its deferrals count as attempts, up to a limit.
            if action.attempts + 1 >= self.rt.config.max_attempts * DEFERRALS_PER_ATTEMPT:
                self.fail(f"still deferred after {action.attempts + 1} tries: {reason}", delivery.data, retry=False)
                return
            with self.rt.store.transaction():
                self.rt.store.forget_attempt(action.key)  # nothing left; the provider asked to wait
                self.defer(f"channel:{channel.name}", delivery.until, reason, count_attempt=True)
        else:
            self.fail(delivery.error or "the channel reported a failure", delivery.data, retry=delivery.retry)

    def no_contact(self, channel: str, needs: tuple[str, ...], audience: str) -> None:
        """Nobody to reach on this channel: hand the step to its fallback channel, or skip it."""
        whom = "the debtor" if audience == "debtor" else "any third party"
        detail = f"{whom} has no usable {' or '.join(needs)} for {channel}"
        fallback = self.action.options.get("fallback")
        if not fallback or fallback == channel or "fallback_from" in self.action.options:
            self.skip("no_contact", detail)
            return
        # The same occurrence on the fallback channel.
        key = str(ActionKey.parse(self.action.key).on_channel(str(fallback)))
        with self.rt.store.transaction():
            if self._finish(ActionStatus.SKIPPED, self._event("skipped", reason="no_contact", detail=detail,
                                                              fallback=fallback, fallback_key=key)):
                self.rt.store.add_fallback_action(self.action, str(fallback), key, self.now)
                self.summary.skipped += 1

    def notice(self) -> None:
        """Record the notice, sent to the role's address through the staff channel when there is one."""
        role = self.action.target or "supervisor"
        sent = send_notice(self.rt, self.action, self.case, self.now, self.claimer)
        delivery = sent.delivery
        if delivery is None or delivery.status is DeliveryStatus.SENT:
            reference = delivery.reference if delivery is not None and delivery.reference else f"notice:{role}"
            self.done(self._event("notice", **sent.facts), reference=reference)
        elif delivery.status is DeliveryStatus.DEFERRED:
            assert delivery.until is not None
            self.defer(f"channel:{sent.via}", delivery.until, delivery.error or "the channel asked to wait",
                       count_attempt=True)
        else:
            self.fail(delivery.error or "the channel reported a failure", sent.facts, retry=delivery.retry)

    def lock_account(self) -> None:
        verdict = self._rule_verdict(self._check_hooks())
        if verdict is not None:
            self._apply(verdict)
            return
        with self.rt.store.transaction():
            if self.done(self._event("account_locked", approved_by=self.action.approved_by)):
                self.rt.store.update_case(self.case.id, account_locked=1)

    def escalate(self) -> None:
        action, case = self.action, self.case
        to_stage = Stage(action.target)
        if lifecycle.rank(case.stage) >= lifecycle.rank(to_stage):
            self.skip("already_there", f"case is already at {case.stage}")
            return
        hold = self._hold_verdict()
        if hold is not None:
            self._wait_for_hold(hold)
            return
        waiting = self.rt.store.required_actions(case.id, action.dpd, OPEN_ACTION_STATUSES)
        if waiting:
            steps = sorted({a.step for a in waiting})
            self.defer("required_steps", self.now + RECHECK_AFTER,
                       f"waits until the required steps are sent: {', '.join(steps)}")
            return
        rule = self.rt.policy.stages.get(to_stage)
        if rule is not None and not rule.when.hold(case, case.stage, self.today):
            self.skip("conditions_changed", f"the case no longer meets the conditions for {to_stage}")
            return
        announced = self._announced()
        if announced is not None and announced.on >= self.today and "trigger" not in action.options:
            # A letter or email told the debtor they had until then; the move waits
            # until the day after. (Signals and broken promises act at once.)
            until = calendar.local_moment(announced.on + dt.timedelta(days=1), None, self.rt.config.zone)
            self.defer("deadline", until, f"waits until after {announced.on.isoformat()}, the deadline announced "
                                          f"to the debtor")
            return
        try:
            verdicts = list(self.rt.hook.escalation_check(case=case, from_stage=case.stage, to_stage=to_stage,
                                                          ctx=self.rt.rule_context(self.now)))
        except Exception as exc:
            verdicts = [Verdict.defer("plugin_error", self.now + RECHECK_AFTER, f"escalation_check raised: {exc}")]
        verdict = self._rule_verdict([*verdicts, *self._check_hooks()])
        if verdict is not None:
            self._apply(verdict)
            return
        # Required steps that ended without going out (channel off, rejected,
        # failed for good) cannot hold the case back for ever; the stage change
        # says so, so the gap is visible in the evidence.
        not_sent = sorted({a.step for a in self.rt.store.required_actions(case.id, action.dpd, ENDED_UNSENT)})
        with self.rt.store.transaction():
            if self.done(self._event("stage_changed", **{"from": case.stage.value, "to": to_stage.value,
                                                         "reason": f"policy step {action.step}",
                                                         "approved_by": action.approved_by,
                                                         **({"required_not_sent": not_sent} if not_sent else {})})):
                change_stage(self.rt, case, to_stage, self.now, reason=f"policy step {action.step}")
                self.summary.escalated += 1

    def recall(self) -> None:
        case = self.case
        if case.stage is not Stage.AGENCY:
            self.skip("not_placed", f"case is at {case.stage}, not with an agency")
            return
        back_to = Stage(self.action.target) if self.action.target else lifecycle.recall_target(case)
        # A plugin that queued the recall (an agency's placement period ending) says why.
        reason = str(self.action.options.get("reason") or "recalled from the agency")
        with self.rt.store.transaction():
            if self.done(self._event("stage_changed", **{"from": case.stage.value, "to": back_to.value,
                                                         "reason": reason, "recall": True})):
                change_stage(self.rt, case, back_to, self.now, reason=reason)
                self.summary.escalated += 1


def trigger_escalation(rt: Runtime, case: Case, now: dt.datetime, *, cause: str) -> str | None:
    """Queue a stage change at once when the policy says a signal or broken promises call for it.

    Inside the caller's transaction. The change goes through the usual
    checks (conditions, approval, ``escalation_check``) on the next delivery.
    Returns the stage aimed at, or None.
    """
    for rule in sorted(rt.policy.stages.values(), key=lambda r: lifecycle.rank(r.stage)):
        if lifecycle.rank(rule.stage) <= lifecycle.rank(case.stage):
            continue
        by_signal = set(rule.on_signals) & set(case.signals)
        by_promises = rule.on_broken_promises is not None and case.broken_promises >= rule.on_broken_promises
        if not (by_signal or by_promises):
            continue
        today = rt.today(now)
        reason = f"signal {', '.join(sorted(by_signal))}" if by_signal else f"{case.broken_promises} broken promises"
        added = rt.store.add_action(
            key=f"{case.id}:trigger-{rule.stage}:escalate:{today.isoformat()}", case_id=case.id,
            kind=ActionKind.ESCALATE, step=f"trigger-{rule.stage}", planned_for=today, not_before=now, now=now,
            target=rule.stage.value, dpd=rt.dpd(case, now), requires_approval=rule.requires_approval,
            options={"trigger": reason, "cause": cause},
        )
        if added:
            events = [rt.event("escalation_triggered", case, now, step=f"trigger-{rule.stage}", data={
                "to": rule.stage.value, "trigger": reason, "cause": cause})]
            if rule.requires_approval:
                events.append(rt.event("approval_requested", case, now, step=f"trigger-{rule.stage}", data={
                    "reason": "policy", "detail": f"entering {rule.stage} requires approval", "action": "escalate",
                    "target": rule.stage.value}))
            rt.store.append_events(events)
            rt.store.wake(case.id, today)
        return rule.stage.value
    return None


def change_stage(rt: Runtime, case: Case, to_stage: Stage, now: dt.datetime, *, reason: str) -> Case:
    """Move a case (inside the caller's transaction) and let plugins act on the new stage."""
    today = rt.today(now)
    rt.store.update_case(case.id, stage=to_stage, previous_stage=case.stage, stage_entered_on=today)
    moved = attrs.evolve(case, stage=to_stage, previous_stage=case.stage, stage_entered_on=today)
    debtor = rt.store.debtor(case.debtor_id)
    assert debtor is not None

    def record(kind: str, data: Any) -> None:
        rt.store.append_events([rt.event(kind, moved, now, data=dict(data))])

    ctx = StageContext(now=now, debtor=debtor, obligations=rt.store.obligations(case.id), config=rt.config,
                       db=rt.store.db, reason=reason, record=record, store=rt.store)
    for impl in ([] if rt.simulated else rt.hook.stage_entered.get_hookimpls()):
        try:
            with rt.store.savepoint():
                offered = {"case": moved, "from_stage": case.stage, "to_stage": to_stage, "ctx": ctx}
                impl.function(**{name: offered[name] for name in impl.argnames})
        except Exception as exc:
            record("plugin_error", {"hook": "stage_entered", "plugin": impl.plugin_name, "error": f"{type(exc).__name__}: {exc}"})
    rt.store.wake(case.id, today)
    return moved


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


# Required outreach in these states will never go out.
ENDED_UNSENT = (ActionStatus.SKIPPED, ActionStatus.BLOCKED, ActionStatus.FAILED, ActionStatus.REJECTED)
