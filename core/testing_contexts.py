"""Real ``DeliveryContext`` and ``RuleContext`` objects for one case, outside a run.

Built the way ``dunning run`` builds them for an outreach (the case's
contacts, obligations, opt-outs, template context and renderer from the
runtime), so a plugin's ``send`` and ``check_action`` can be unit-tested on
the objects they receive in production. The ``dunning_contexts`` fixture of
``dunning.testing`` hands these out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import attrs
import structlog

from dunning import deadlines
from dunning.action_key import ActionKey
from dunning.channels import DeliveryContext, RuleContext
from dunning.compliance.media import applies_to, medium_of
from dunning.models import Action, ActionKind, ActionStatus, Case, HoldReason, Stage
from dunning.runtime import Runtime
from dunning.templates import audience_context, case_context

# The run id the contexts carry: one per test process is enough for print batches and the like.
TEST_RUN_ID = "dunning-testing"


@attrs.frozen
class Contexts:
    """An action for a case, the case as the store has it, and the contexts a plugin receives for it."""

    action: Action
    case: Case
    rule: RuleContext
    _delivery: DeliveryContext | None
    _why_no_delivery: str = ""

    @property
    def delivery(self) -> DeliveryContext:
        """The ``DeliveryContext`` for ``send``; only for an outreach on a channel the runtime enables."""
        if self._delivery is None:
            raise LookupError(self._why_no_delivery)
        return self._delivery


def contexts_for(rt: Runtime, case: Case, now: dt.datetime, *, channel: str | None, template: str | None,
                 step: str, kind: str = "outreach", options: Mapping[str, Any] | None = None) -> Contexts:
    """The action ``step`` would put in the outbox for ``case`` at ``now``, and its contexts.

    The action is not written to the outbox (its ``id`` is None). ``options``
    are the step's options as planning stores them (``audience``,
    ``disclosure``, ``fallback``, ...).
    """
    case = rt.store.case(case.id)  # as it is now, as delivery re-reads it
    today = rt.today(now)
    key = ActionKey.for_day(case.id, step, channel or kind, today)
    action = Action(key=str(key), case_id=case.id,
                    kind=ActionKind(kind), step=step, planned_for=today, not_before=now,
                    status=ActionStatus.PENDING, channel=channel, template=template, dpd=rt.dpd(case, now),
                    options=dict(options or {}))
    rule = rt.rule_context(now)
    if action.kind is not ActionKind.OUTREACH or channel is None:
        return Contexts(action, case, rule, None, f"a {kind} action has no DeliveryContext; only outreach does")
    if rt.channel(channel) is None:
        return Contexts(action, case, rule, None, f"channel '{channel}' is not enabled in this runtime "
                                                  f"(pass enabled=[{channel!r}] to dunning_runtime)")
    return Contexts(action, case, rule, delivery_context(rt, action, case, now))


def delivery_context(rt: Runtime, action: Action, case: Case, now: dt.datetime,
                     run_id: str = TEST_RUN_ID) -> DeliveryContext:
    """The ``DeliveryContext`` a run hands the action's channel at ``now``."""
    channel = rt.channel(action.channel or "")
    if channel is None:
        raise LookupError(f"channel '{action.channel}' is not enabled in this runtime")
    debtor = rt.store.debtor(case.debtor_id)
    assert debtor is not None
    today = rt.today(now)
    medium = medium_of(channel.name, rt.plugins.media)
    opted_out = frozenset(contact for name, contact in rt.store.opt_outs(debtor.id)
                          if contact and applies_to(name, channel.name, medium))
    represented = any(h.reason == HoldReason.ATTORNEY for h in rt.store.holds(case.id, active_on=today))
    audience = "attorney" if represented else str(action.options.get("audience", "debtor"))
    disclosure = str(action.options.get("disclosure", "none"))
    obligations = rt.store.obligations(case.id)
    dpd = rt.dpd(case, now)
    announced = rt.store.announced_deadline(case.id)
    given = None if announced is None else deadlines.Deadline(
        on=announced[0], stage=Stage(announced[1]) if announced[1] in set(Stage) else None)
    context = audience_context(
        case_context(case, debtor, obligations, dpd, today,
                     {"step": action.step, "options": action.options, "sender": rt.config.notify,
                      "deadline": deadlines.deadline_for(rt.policy, case, today, given).as_context()},
                     debt_kind=rt.policy.debt_kind),
        audience, disclosure)
    return DeliveryContext(
        now=now, key=action.key, debtor=debtor, contacts=rt.store.contacts(debtor.id), obligations=obligations,
        dpd=dpd, settings=rt.config.settings_for(channel.name), config=rt.config, db=rt.store.db,
        log=structlog.get_logger("dunning.testing").bind(case_id=case.id, channel=channel.name),
        template_context=context,
        render=lambda template, suffix, ctx_: rt.render(channel, template, suffix, ctx_),
        audience=audience, run_id=run_id, opted_out=opted_out, store=rt.store,
    )
