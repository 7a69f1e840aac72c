"""One run: lift expired holds, settle promises, plan what is due, deliver what is ready.

Planning writes the outbox (actions with deterministic keys) in the same
transaction that advances each case's cursor, so a rerun for the same moment
plans nothing new. Delivery claims actions, re-checks each against the case
as it is now, sends, and records the outcome with its evidence event in one
transaction; a crash between send and record leaves the claim in flight,
and the next run re-sends that one action under the same key. On a channel
whose provider recognises a re-send by its key (``deduplicates_by_key``) a
round of actions is recorded in one transaction, and a crash leaves at most
that round to be sent again (``batch``).

``runner`` holds the run itself and ``housekeeping`` what it settles first;
``planning`` fills the outbox; ``outbox`` works through it, ``claims``
saying who holds an action; ``delivery`` takes one action to its outcome
along ``outreach``, ``stages`` or ``internal``, or a round of outreach at a
time along ``batch``; ``summary`` counts it all.
The names below are the public ones; import them from here. A test that
changes a module's setting (``PLAN_BATCH``) changes it in the module that
reads it (``dunning.dispatch.planning``).
"""

from dunning.dispatch.claims import claimer_id, reclaim_abandoned
# Not public: tests drive a single delivery through it.
from dunning.dispatch.delivery import _Delivery  # noqa: F401
from dunning.dispatch.housekeeping import lift_expired_holds, settle_promises
from dunning.dispatch.outbox import CLAIM_BATCH, deliver_ready, finish_channels
from dunning.dispatch.outreach import DEFERRALS_PER_ATTEMPT
from dunning.dispatch.planning import PLAN_BATCH, plan
from dunning.dispatch.runner import run
from dunning.dispatch.stages import ENDED_UNSENT, RECHECK_AFTER, change_stage, trigger_escalation
from dunning.dispatch.summary import ProgressCallback, RunSummary

__all__ = [
    "CLAIM_BATCH", "DEFERRALS_PER_ATTEMPT", "ENDED_UNSENT", "PLAN_BATCH", "RECHECK_AFTER",
    "ProgressCallback", "RunSummary",
    "change_stage", "claimer_id", "deliver_ready", "finish_channels", "lift_expired_holds", "plan",
    "reclaim_abandoned", "run", "settle_promises", "trigger_escalation",
]
