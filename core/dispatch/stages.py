"""Stage changes: a policy step's escalation, a recall from the agency, a change a signal or broken promise calls for.

``escalate`` and ``recall`` are the delivery paths of those actions (see
``delivery``); ``trigger_escalation`` queues one at once, and
``change_stage`` moves a case and lets plugins act on its new stage (the
operator's commands use both through ``operations``).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, cast

import attrs

from dunning import calendar, lifecycle, rule_hooks
from dunning.channels import StageContext
from dunning.models import OPEN_ACTION_STATUSES, ActionKind, ActionStatus, Case, Stage
from dunning.runtime import Runtime

if TYPE_CHECKING:
    from dunning.dispatch.delivery import _Delivery

# How long a required step or a stage change waits before it looks again
# when something (a hold, an unsent required letter) holds it back.
RECHECK_AFTER = dt.timedelta(days=1)

# Required outreach in these states will never go out.
ENDED_UNSENT = (ActionStatus.SKIPPED, ActionStatus.BLOCKED, ActionStatus.FAILED, ActionStatus.REJECTED)


def escalate(d: _Delivery) -> None:
    """Move the case to the action's stage, once holds, required steps, conditions and rules allow."""
    action, case = d.action, d.case
    to_stage = Stage(cast(str, action.target))  # an escalation always names its stage
    if lifecycle.rank(case.stage) >= lifecycle.rank(to_stage):
        d.skip("already_there", f"case is already at {case.stage}")
        return
    hold = d.hold_verdict()
    if hold is not None:
        d.wait_for_hold(hold)
        return
    waiting = d.rt.store.required_actions(case.id, action.dpd, OPEN_ACTION_STATUSES)
    if waiting:
        steps = sorted({a.step for a in waiting})
        d.defer("required_steps", d.now + RECHECK_AFTER,
                f"waits until the required steps are sent: {', '.join(steps)}")
        return
    rule = d.rt.policy_for(case).stages.get(to_stage)
    if rule is not None and not rule.when.hold(case, case.stage, d.today):
        d.skip("conditions_changed", f"the case no longer meets the conditions for {to_stage}")
        return
    announced = d.announced()
    if announced is not None and announced.on >= d.today and "trigger" not in action.options:
        # A letter or email told the debtor they had until then; the move waits
        # until the day after. (Signals and broken promises act at once.)
        until = calendar.local_moment(announced.on + dt.timedelta(days=1), None, d.rt.config.zone)
        d.defer("deadline", until, f"waits until after {announced.on.isoformat()}, the deadline announced "
                                   f"to the debtor")
        return
    verdicts = rule_hooks.verdicts_or_deferral(d.rt.plugins.calls, "escalation_check", d.now + RECHECK_AFTER,
                                               case=case, from_stage=case.stage, to_stage=to_stage,
                                               ctx=d.rt.rule_context(d.now))
    verdict = d.rule_verdict([*verdicts, *d.check_hooks()])
    if verdict is not None:
        d.apply(verdict)
        return
    # Required steps that ended without going out (channel off, rejected,
    # failed for good) cannot hold the case back for ever; the stage change
    # says so, so the gap is visible in the evidence.
    not_sent = sorted({a.step for a in d.rt.store.required_actions(case.id, action.dpd, ENDED_UNSENT)})
    with d.rt.store.transaction():
        if d.done(d.event("stage_changed", **{"from": case.stage.value, "to": to_stage.value,
                                              "reason": f"policy step {action.step}",
                                              "approved_by": action.approved_by,
                                              **({"required_not_sent": not_sent} if not_sent else {})})):
            change_stage(d.rt, case, to_stage, d.now, reason=f"policy step {action.step}")
            d.summary.escalated += 1


def recall(d: _Delivery) -> None:
    """Bring the case back from the agency, to the action's stage or the one it came from."""
    case = d.case
    if case.stage is not Stage.AGENCY:
        d.skip("not_placed", f"case is at {case.stage}, not with an agency")
        return
    back_to = Stage(d.action.target) if d.action.target else lifecycle.recall_target(case)
    # A plugin that queued the recall (an agency's placement period ending) says why.
    reason = str(d.action.options.get("reason") or "recalled from the agency")
    with d.rt.store.transaction():
        if d.done(d.event("stage_changed", **{"from": case.stage.value, "to": back_to.value,
                                              "reason": reason, "recall": True})):
            change_stage(d.rt, case, back_to, d.now, reason=reason)
            d.summary.escalated += 1


def trigger_escalation(rt: Runtime, case: Case, now: dt.datetime, *, cause: str) -> str | None:
    """Queue a stage change at once when the policy says a signal or broken promises call for it.

    Inside the caller's transaction. The change goes through the usual
    checks (conditions, approval, ``escalation_check``) on the next delivery.
    Returns the stage aimed at, or None.
    """
    for rule in sorted(rt.policy_for(case).stages.values(), key=lambda r: lifecycle.rank(r.stage)):
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
    calls = rt.plugins.calls
    plugins = [] if rt.simulated else calls.implementers("stage_entered")
    if not plugins:  # nobody acts on the new stage: no context to build (the debtor and obligations read for it)
        rt.store.wake(case.id, today)
        return moved
    debtor = rt.store.debtor(case.debtor_id)
    assert debtor is not None

    def record(kind: str, data: Any) -> None:
        rt.store.append_events([rt.event(kind, moved, now, data=dict(data))])

    ctx = StageContext(now=now, debtor=debtor, obligations=rt.store.obligations(case.id), config=rt.config,
                       db=rt.store.db, reason=reason, record=record, store=rt.store)
    for plugin in plugins:
        # Each plugin in a savepoint of its own: one that fails leaves nothing half-written.
        try:
            with rt.store.savepoint():
                answer = calls.call_one("stage_entered", plugin, {"case": moved, "from_stage": case.stage,
                                                                  "to_stage": to_stage, "ctx": ctx})
                if answer.error is not None:
                    raise answer.error
        except Exception as exc:
            record("plugin_error", {"hook": "stage_entered", "plugin": plugin, "error": f"{type(exc).__name__}: {exc}"})
    rt.store.wake(case.id, today)
    return moved
