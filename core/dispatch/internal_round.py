"""Stage changes and internal work delivered with their round, in one transaction.

An escalation, a recall, an account lock and a notice that no channel
carries to a person reach nobody outside the store: what they do is rows and
evidence. One by one, each cost a transaction of its own, and so a wait for
the disk; a round's go together instead: every action taken through its
usual path (the same checks, the same events, a stage change's plugins each
in a savepoint) inside one transaction, its outcomes written together at the
end (``round_outcomes``). When the round has outreach that goes together
too (``batch``), that transaction is the outreach's first one, before any
of it is handed to a channel: the round's internal work costs no commit.

The guarantees hold as they did one by one:

- a crash anywhere before the commit leaves none of the round's work: every
  action is still claimed, and the next run takes it back and does it again
  (nothing of it was written, so nothing is done twice);
- a stage change is idempotent (an escalation to a stage the case has
  reached is skipped as ``already_there``, a recall of a case no longer
  placed as ``not_placed``) and evidenced by its ``stage_changed`` event,
  written in the transaction that moves the case;
- a notice the staff channel would send to a person (an email to the
  supervisor) is not delivered this way unless that channel recognises a
  re-send by its key: it goes one by one, so a crash leaves at most that
  one message in flight.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import structlog

from dunning.dispatch.round_outcomes import RoundOutcomes
from dunning.models import Action, ActionKind
from dunning.runtime import Runtime
from dunning.staff_delivery import staff_channel

if TYPE_CHECKING:
    from dunning.dispatch.delivery import _Delivery

# The kinds that never reach a person outside the store (a notice, only when no channel carries it to one).
_STORE_ONLY = (ActionKind.ESCALATE, ActionKind.RECALL, ActionKind.LOCK_ACCOUNT)


class NoticesCarried:
    """Whether a notice to a role would go out to a person, worked out once for a round."""

    def __init__(self, rt: Runtime):
        channel = staff_channel(rt)
        # A channel that recognises a re-send by its key drops a crash's copy: its notices may go with their round.
        self._carrier = None if channel is None or getattr(channel, "deduplicates_by_key", False) is True else channel
        self._addresses = rt.config.notify

    def to_a_person(self, action: Action) -> bool:
        return self._carrier is not None and bool(self._addresses.get(action.target or "supervisor"))


def goes_with_round(action: Action, notices: NoticesCarried) -> bool:
    """Whether ``action`` is delivered with its round's internal work (see the module's notes)."""
    if action.kind in _STORE_ONLY:
        return True
    return action.kind is ActionKind.NOTICE and not notices.to_a_person(action)


def deliver_internal_round(rt: Runtime, deliveries: list[_Delivery]) -> None:
    """Take a round's stage changes and internal work to their outcomes in one transaction (or the caller's)."""
    with rt.store.transaction():
        outcomes = RoundOutcomes(rt.store, deliveries[0].claimer, (cast(int, d.action.id) for d in deliveries))
        for d in deliveries:
            a = d.action
            d.outcomes = outcomes
            # As ``bound_contextvars`` does, without reading the whole context each time.
            tokens = structlog.contextvars.bind_contextvars(case_id=a.case_id, channel=a.channel, action_id=a.id)
            try:
                d.go()
            finally:
                d.outcomes = None
                structlog.contextvars.reset_contextvars(**tokens)
        outcomes.write()
