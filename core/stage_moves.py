"""Stage changes by hand: ``escalate`` through the policy's own checks, ``de-escalate`` back to a lower stage.

An operator's escalation meets what a policy step's escalation meets: the
stage rule's conditions (the minimum balance, ...), its approval, and the
``escalation_check`` rules (the limitation period, the legal plugin's
minimum). A refusal says why; where approval is needed the move waits in the
approval queue (``dunning approvals``) as an escalation action and happens on
the run after someone approves it. ``--force`` (with who and why) overrides
the checks, and the ``stage_changed`` event records it as forced with what
was overridden.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

import attrs

from dunning import lifecycle, money, operations, rule_hooks
from dunning.dispatch import change_stage
from dunning.models import ActionKind, ActionStatus, Case, Stage
from dunning.policy.model import StageRule
from dunning.runtime import Runtime
from dunning.verdicts import Decision, Verdict

OperationError = operations.OperationError


@attrs.frozen
class EscalationCheck:
    refusals: tuple[str, ...] = ()
    approvals: tuple[str, ...] = ()


def check(case: Case, to_stage: Stage, rule: StageRule | None, verdicts: Sequence[Verdict], today: dt.date,
          ) -> EscalationCheck:
    """What stands between ``case`` and ``to_stage``: reasons to refuse, reasons to ask approval. Pure."""
    refusals: list[str] = []
    approvals: list[str] = []
    if rule is not None:
        minimum = rule.when.min_balance
        if minimum is not None and money.to_decimal(case.balance, case.currency) < Decimal(minimum.replace(",", "")):
            refusals.append(f"the balance {money.display(case.balance, case.currency)} is below the policy's minimum "
                            f"for {to_stage} ({minimum})")
        elif not rule.when.hold(case, case.stage, today):
            refusals.append(f"the case does not meet the policy's conditions for {to_stage}")
        if rule.requires_approval:
            approvals.append(f"the policy requires approval to enter {to_stage}")
    for verdict in verdicts:
        if verdict.decision in (Decision.BLOCK, Decision.SKIP, Decision.DEFER):
            refusals.append(f"refused by rule {verdict.rule}: {verdict.reason}")
        elif verdict.decision is Decision.NEEDS_APPROVAL:
            approvals.append(f"rule {verdict.rule}: {verdict.reason}")
    return EscalationCheck(tuple(dict.fromkeys(refusals)), tuple(dict.fromkeys(approvals)))


@attrs.frozen
class Escalation:
    case: Case
    moved: bool
    awaiting_action: int | None = None  # the escalation action waiting for approval
    forced: tuple[str, ...] = ()  # the checks a forced move overrode


def escalate(rt: Runtime, case_id: int, to: str, *, now: dt.datetime, reason: str, by: str,
             force: bool = False) -> Escalation:
    """Move a case to a later stage by hand, through the policy's checks unless ``force``."""
    case = rt.store.case(case_id)
    try:
        to_stage = Stage(to)
    except ValueError:
        raise OperationError(f"unknown stage {to!r}; stages: {', '.join(Stage)}") from None
    if case.is_open and case.stage is Stage.AGENCY and lifecycle.rank(to_stage) < lifecycle.rank(Stage.AGENCY):
        # Back from the agency: the recall the agency plugin also uses.
        return Escalation(operations.escalate(rt, case_id, to, now=now, reason=reason, by=by), moved=True)
    try:
        lifecycle.check_escalation(case, to_stage)
    except lifecycle.LifecycleError as exc:
        raise OperationError(f"{exc}; to go back use `dunning de-escalate`"
                             if case.is_open and lifecycle.rank(to_stage) < lifecycle.rank(case.stage)
                             else str(exc)) from None
    if force and (not by.strip() or by == "operator" or not reason.strip()):
        raise OperationError("--force needs --by NAME and --reason: a forced escalation says who and why")
    verdicts, failures = rule_hooks.ask(rt.plugins.calls, "escalation_check", case=case, from_stage=case.stage,
                                        to_stage=to_stage, ctx=rt.rule_context(now))
    found = check(case, to_stage, rt.policy_for(case).stages.get(to_stage), verdicts, rt.today(now))
    refusals = [*found.refusals, *(f"plugin {f.plugin}: {f.problem}" for f in failures)]
    if refusals and not force:
        raise OperationError(f"case {case_id} cannot go to {to_stage}: {'; '.join(refusals)}; "
                             "`--force --by NAME --reason TEXT` overrides, recorded as forced")
    if found.approvals and not force:
        return _ask_approval(rt, case, to_stage, found.approvals, now=now, reason=reason, by=by)
    overridden = (*refusals, *found.approvals) if force else ()
    with rt.store.transaction():
        rt.store.append_events([rt.event("stage_changed", case, now, data={
            "from": case.stage.value, "to": to_stage.value, "reason": reason, "by": by, "recall": False,
            "manual": True, **({"forced": True, "overridden": list(overridden)} if force else {})})])
        moved = change_stage(rt, case, to_stage, now, reason=reason)
    return Escalation(moved, moved=True, forced=overridden)


def _ask_approval(rt: Runtime, case: Case, to_stage: Stage, why: Sequence[str], *, now: dt.datetime, reason: str,
                  by: str) -> Escalation:
    """Queue the move as an escalation action awaiting approval; it happens on the run after approval."""
    today = rt.today(now)
    key = f"{case.id}:manual-{to_stage}:escalate:{today.isoformat()}"
    with rt.store.transaction():
        added = rt.store.add_action(
            key=key, case_id=case.id, kind=ActionKind.ESCALATE, step=f"manual-{to_stage}", planned_for=today,
            not_before=now, now=now, target=to_stage.value, dpd=rt.dpd(case, now), requires_approval=True,
            # "trigger": like a signal's, the move does not wait for a deadline a letter announced.
            options={"trigger": f"asked by {by}", "reason": reason})
        waiting = next(a for a in rt.store.actions(case_id=case.id) if a.key == key)
        if not added:
            raise OperationError(f"an escalation of case {case.id} to {to_stage} already waits as action "
                                 f"{waiting.id} ({waiting.status})")
        rt.store.append_events([rt.event("approval_requested", case, now, step=f"manual-{to_stage}",
                                         action_id=waiting.id, data={
                                             "reason": "policy", "detail": "; ".join(why), "action": "escalate",
                                             "target": to_stage.value, "asked_by": by, "why": reason})])
        rt.store.wake(case.id, today)
    return Escalation(case, moved=False, awaiting_action=waiting.id)


def de_escalate(rt: Runtime, case_id: int, to: str, *, now: dt.datetime, reason: str, by: str) -> tuple[Case, int]:
    """Move a case back to a lower stage; pending moves to higher stages are cancelled, the lower stage's cadence
    resumes. Returns the case and the number of escalations cancelled."""
    if not by.strip() or not reason.strip():
        raise OperationError("--by and --reason must say who moved the case back and why")
    case = rt.store.case(case_id)
    if not case.is_open:
        raise OperationError(f"case {case_id} is {case.status}, not open")
    try:
        to_stage = Stage(to)
    except ValueError:
        raise OperationError(f"unknown stage {to!r}; stages: {', '.join(Stage)}") from None
    if lifecycle.rank(to_stage) >= lifecycle.rank(case.stage):
        raise OperationError(f"case {case_id} is at {case.stage}; {to_stage} is not an earlier stage "
                             "(use `dunning escalate` to move forward)")
    cancellable = (ActionStatus.AWAITING_APPROVAL, ActionStatus.PENDING)
    pending = [a for a in rt.store.actions(case_id=case.id, statuses=[s.value for s in cancellable])
               if a.kind is ActionKind.ESCALATE and a.target
               and lifecycle.rank(Stage(a.target)) > lifecycle.rank(to_stage)]
    with rt.store.transaction():
        rt.store.append_events([rt.event("stage_changed", case, now, data={
            "from": case.stage.value, "to": to_stage.value, "reason": reason, "by": by, "recall": False,
            "manual": True, "de_escalated": True})])
        for action in pending:
            assert action.id is not None
            rt.store.set_action_status(action.id, ActionStatus.CANCELLED, now, expected=cancellable,
                                       events=[rt.event("cancelled", case, now, step=action.step,
                                                        action_id=action.id,
                                                        data={"key": action.key, "reason": "de-escalated",
                                                              "action": action.kind.value})])
        moved = change_stage(rt, case, to_stage, now, reason=reason)
    return moved, len(pending)
