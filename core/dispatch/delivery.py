"""One claimed action taken to its recorded outcome: the outcomes, the checks every kind shares, the decision.

``_Delivery`` re-reads the case, decides by the action's kind which path it
takes (``outreach``, ``stages``, ``internal``), and records what came of it:
sent, skipped, blocked, deferred, failed or awaiting approval, each with its
evidence event, in the transaction that ends the claim.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from dunning import calendar, deadlines, rule_hooks
from dunning.channels import RuleContext
from dunning.compliance.jurisdictions import Chosen
from dunning.dispatch import internal, outreach, stages
from dunning.dispatch.facts_view import FactsView
from dunning.dispatch.round_attempts import RoundAttempts
from dunning.dispatch.round_outcomes import RoundOutcomes
from dunning.dispatch.summary import RunSummary
from dunning.models import Action, ActionKind, ActionStatus, Debtor, Event, HoldReason
from dunning.policy import dpd_on
from dunning.runtime import Runtime
from dunning.store.delivery_facts import DeliveryFacts
from dunning.verdicts import Decision, Verdict, strongest


def facts_for(rt: Runtime, actions: list[Action], now: dt.datetime, earlier: DeliveryFacts | None = None
              ) -> DeliveryFacts:
    """What the re-checks of these actions read about their cases, read once (``Store.delivery_facts``).

    ``earlier``: the facts the batch's first round read; what has not changed since keeps its models.
    """
    promises = [int(a.options["promise_id"]) for a in actions if "promise_id" in a.options]
    return rt.store.delivery_facts([a.case_id for a in actions], promises, now, earlier)


def _profile(rt: Runtime, debtor: Debtor | None, chosen: dict[tuple[str | None, str | None, str], Chosen] | None
             ) -> Chosen:
    """``rt.config.profile_for(debtor)``, kept in ``chosen`` by the debtor's country, region and kind."""
    if chosen is None or debtor is None:
        return rt.config.profile_for(debtor)
    key = (debtor.country, debtor.region, debtor.kind.value)
    found = chosen.get(key)
    if found is None:
        found = chosen[key] = rt.config.profile_for(debtor)
    return found


class _Delivery:
    """Takes one claimed action to its recorded outcome.

    ``facts`` are its case's facts, read with the rest of its batch; without
    them, they are read for this action alone.
    """

    def __init__(self, rt: Runtime, action: Action, claimer: str, now: dt.datetime, summary: RunSummary,
                 facts: DeliveryFacts | None = None, media: Mapping[str, str | None] | None = None,
                 profiles: dict[tuple[str | None, str | None, str], Chosen] | None = None):
        self.rt, self.action, self.claimer, self.now, self.summary = rt, action, claimer, now, summary
        # Each channel's medium (``rt.plugins.media``), gathered once for a round.
        self.media = media if media is not None else rt.plugins.media
        self.facts = facts if facts is not None else facts_for(rt, [action], now)
        self.case = self.facts.case(action.case_id)
        self.debtor: Debtor | None = self.facts.debtor(self.case.debtor_id)
        self.today = rt.today(now)
        # Days past due at ``today``, as ``rt.event`` stamps each event (worked out once: every event of it has it).
        self.dpd = dpd_on(self.case, self.today)
        # The debtor's own contact rules (by jurisdiction), looked up once; ``profiles`` keeps those a round
        # already chose, by what the choice depends on (``compliance.jurisdictions.choose_profile``).
        self.rules = _profile(rt, self.debtor, profiles)
        # Events the channel records through ``ctx.record_event`` while it sends.
        self.recorded: list[Event] = []
        # Delivered with its round (``batch``): the attempts the rules count and add, read and written together,
        # and the context the rules read, the same for the whole round.
        self.round_attempts: RoundAttempts | None = None
        self.rule_context: RuleContext | None = None
        # Set while its round's transaction is open: the outcome is written with the round's (``round_outcomes``).
        self.outcomes: RoundOutcomes | None = None

    # outcomes ---------------------------------------------------------------

    def event(self, kind: str, **data: Any) -> Event:
        a = self.action
        # As ``rt.event`` stamps it (the case's stage, its days past due), from the date worked out once.
        return Event(kind=kind, at=self.now, case_id=self.case.id, stage=self.case.stage.value, dpd=self.dpd,
                     channel=a.channel, step=a.step, action_id=a.id,
                     data={**data, "key": a.key, "action": a.kind.value})

    def finish(self, status: ActionStatus, event: Event | None, **kw: Any) -> bool:
        # What the channel recorded itself (``ctx.record_event``) goes in first, in the same transaction.
        recorded, self.recorded = self.recorded, []
        events = [*recorded, *([event] if event else [])]
        if self.outcomes is not None:  # with its round: written when the round's transaction ends
            return self.outcomes.finish(self.action, status, self.now, events, **kw)
        return self.rt.store.finish(self.action, self.claimer, status, self.now, events=events, **kw)

    def skip(self, reason: str, detail: str) -> None:
        if self.finish(ActionStatus.SKIPPED, self.event("skipped", reason=reason, detail=detail)):
            self.summary.skipped += 1

    def skip_by_rule(self, verdict: Verdict) -> None:
        """A rule said ``Verdict.skip``: this occurrence ends unsent and is not retried; the cadence goes on."""
        if self.finish(ActionStatus.SKIPPED, self.event("skipped", reason="rule", rule=verdict.rule,
                                                        detail=verdict.reason)):
            self.summary.skipped += 1

    def cancel(self, reason: str) -> None:
        self.finish(ActionStatus.CANCELLED, self.event("cancelled", reason=reason))

    def block(self, verdict: Verdict) -> None:
        if self.finish(ActionStatus.BLOCKED, self.event("blocked", rule=verdict.rule, reason=verdict.reason,
                                                        **self.rules.evidence()),
                       error=f"{verdict.rule}: {verdict.reason}"):
            self.summary.blocked += 1
            self.summary.blocked_by_rule[verdict.rule] = self.summary.blocked_by_rule.get(verdict.rule, 0) + 1

    def defer(self, rule: str, until: dt.datetime, reason: str, *, count_attempt: bool = False) -> None:
        # A deferral to a moment already past would be claimed again by this
        # very run, for ever; it waits at least until the next minute.
        if until <= self.now:
            until = self.now + dt.timedelta(minutes=1)
        event = self.event("deferred", rule=rule, reason=reason, until=calendar.to_text(until), **self.rules.evidence())
        if self.finish(ActionStatus.PENDING, event, not_before=until, count_attempt=count_attempt):
            self.summary.deferred += 1
            self.summary.deferred_by_rule[rule] = self.summary.deferred_by_rule.get(rule, 0) + 1

    def ask_approval(self, verdict: Verdict) -> None:
        event = self.event("approval_requested", rule=verdict.rule, reason=verdict.reason, **self.rules.evidence())
        if self.finish(ActionStatus.AWAITING_APPROVAL, event):
            self.summary.awaiting_approval += 1

    def done(self, event: Event, reference: str | None = None) -> bool:
        ok = self.finish(ActionStatus.SENT, event, reference=reference)
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
        event = self.event("delivery_failed", **facts)
        status = ActionStatus.FAILED if final else ActionStatus.PENDING
        if self.finish(status, event, error=error, count_attempt=True, not_before=None if final else retry_at):
            self.summary.failed += 1

    # the decision -------------------------------------------------------------

    def go(self) -> None:
        if not self.case.is_open:
            self.cancel(f"case_{self.case.status}")
            return
        kind = self.action.kind
        if kind is ActionKind.ESCALATE:
            stages.escalate(self)
        elif kind is ActionKind.RECALL:
            stages.recall(self)
        elif kind is ActionKind.NOTICE:
            internal.notice(self)
        elif kind is ActionKind.LOCK_ACCOUNT:
            internal.lock_account(self)
        else:
            outreach.outreach(self)

    # checks the paths share ---------------------------------------------------

    def hold_verdict(self) -> Verdict | None:
        """The hold that stops this action, if any (outreach under cease or attorney holds may pass)."""
        for hold in self.facts.holds_on(self.case.id, self.today):
            if hold.reason == HoldReason.CEASE and self.action.kind is ActionKind.OUTREACH \
                    and self.action.template in self.rules.profile.cease_permitted_templates:
                continue  # one of the notices the law still allows after a cease request
            if hold.reason == HoldReason.ATTORNEY and self.action.kind is ActionKind.OUTREACH:
                continue  # goes to the attorney instead (see ``outreach.choose_reach``)
            if hold.id == self.action.options.get("settlement", {}).get("hold_id"):
                continue  # the offer itself goes out under the hold that pauses collection while it stands
            return Verdict.block(f"hold:{hold.reason}", f"case is on hold ({hold.reason})"
                                 + (f" until {hold.until}" if hold.until else ""))
        return None

    def announced(self) -> deadlines.Deadline | None:
        """The latest deadline a message gave the debtor for this case, if any."""
        return outreach.announced_deadline(self.rt, self.case.id)

    def wait_for_hold(self, verdict: Verdict) -> None:
        """Stage changes and required steps are never dropped for a hold: they wait it out."""
        holds = self.facts.holds_on(self.case.id, self.today)
        ends = [h.until for h in holds]
        if holds and all(ends):
            until = calendar.local_moment(max(e for e in ends if e), None, self.rt.config.zone)
        else:
            until = self.now + stages.RECHECK_AFTER
        self.defer(verdict.rule, until, verdict.reason + "; waits for the hold to end")

    def rule_verdict(self, verdicts: list[Verdict | None]) -> Verdict | None:
        """The strongest verdict that stops the action, or None when the rules let it through."""
        verdict = strongest(verdicts)
        if verdict is None or verdict.decision is Decision.ALLOW:
            return None
        if verdict.decision is Decision.NEEDS_APPROVAL and self.action.approved_by:
            return None  # a person already approved it
        return verdict

    def apply(self, verdict: Verdict) -> None:
        """Record the outcome a stopping verdict calls for."""
        if verdict.decision is Decision.BLOCK:
            self.block(verdict)
        elif verdict.decision is Decision.SKIP:
            self.skip_by_rule(verdict)
        elif verdict.decision is Decision.NEEDS_APPROVAL:
            self.ask_approval(verdict)
        else:
            assert verdict.until is not None
            self.defer(verdict.rule, verdict.until, verdict.reason)

    def rules_context_for(self, attempts: RoundAttempts | None) -> RuleContext:
        """What the rules read: the facts of this action's round from memory, the rest from the store."""
        return RuleContext(now=self.now, config=self.rt.config, store=FactsView(self.rt.store, self.facts, attempts),
                           media=self.media)

    def check_hooks(self) -> list[Verdict | None]:
        """The ``check_action`` verdicts of every plugin for this action."""
        # A broken rule (raised, or answered something else than a Verdict) must
        # not let a contact through unchecked: it defers the action, naming the plugin.
        # The rules read the batch's facts from memory and the attempts (what the caps count) from the store.
        ctx = self.rule_context or self.rules_context_for(self.round_attempts)
        return rule_hooks.verdicts_or_deferral(self.rt.plugins.calls, "check_action",
                                               self.now + self.rt.config.retry_after, action=self.action,
                                               case=self.case, now=self.now, ctx=ctx)
