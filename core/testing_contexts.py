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

from dunning.action_key import ActionKey
from dunning.channels import DeliveryContext, RuleContext
from dunning.dispatch import outreach
from dunning.models import Action, ActionKind, ActionStatus, Case
from dunning.plugin_events import namespaced
from dunning.runtime import Runtime

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
    """The ``DeliveryContext`` a run hands the action's channel at ``now``.

    Built with the run's own steps (``dunning.dispatch.outreach``): the
    opt-outs that cover the channel, the audience and the contacts it may
    use, then the context itself. ``ctx.record_event(kind, data)`` adds
    ``<channel>:<kind>`` to the evidence log at once, in the same hash chain
    (a run adds it with the action's outcome), so a test reads it back with
    ``rt.store.events(kind="whatsapp:delivered")``.
    """
    channel = rt.channel(action.channel or "")
    if channel is None:
        raise LookupError(f"channel '{action.channel}' is not enabled in this runtime")
    debtor = rt.store.debtor(case.debtor_id)
    assert debtor is not None
    opted_out = frozenset(contact for _, contact in outreach.applicable_opt_outs(rt, debtor.id, channel.name)
                          if contact)
    reach = outreach.choose_reach(rt, action, case, debtor, rt.config.profile_for(debtor).profile, opted_out,
                                  rt.today(now))
    name = channel.name

    def record(kind: str, data: Mapping[str, Any]) -> None:
        event = rt.event(namespaced(name, kind), case, now, channel=name, step=action.step, action_id=action.id,
                         data=dict(data))
        with rt.store.transaction():
            rt.store.append_events([event])

    return outreach.delivery_context(
        rt, action, case, now, channel=channel, debtor=debtor, reach=reach, run_id=run_id,
        log=structlog.get_logger("dunning.testing").bind(case_id=case.id, channel=name), record=record)
