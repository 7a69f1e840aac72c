"""Outreach on channels that recognise a re-send by its key, delivered a round at a time.

One by one, every action costs two write transactions of its own (the
rules with the attempt they count, then the outcome with its evidence) and
so two waits for the disk. For a channel whose provider drops a second
message with the same key (``deduplicates_by_key = True``: an SMS gateway
with an Idempotency-Key, a task list stored under the action's key) a round
is delivered in three steps:

1. one transaction: every action's re-checks, the contact rules and the
   attempt they count (the cap check stays inside one transaction, so two
   dispatchers still cannot both pass the last allowed call); each action is
   marked as handed to its channel by its claim (``round_channels``), or
   here when its channel was not known to go with its round at the claim;
2. no transaction: each action handed to its channel;
3. one transaction: every outcome with its evidence; the sent ones (most)
   in a few statements and one pass of the hash chain for the round. It
   is committed with the next round's step 1 (or at the end of the claimed
   batch, before the next claim): one commit per round, not two.

A crash in step 2 or 3, or before step 3's commit, leaves the round's
actions in flight; the next run sends them again under the same keys and
the provider drops the copies:
at most the one round is sent twice, and it reaches nobody twice. A channel
that cannot recognise a re-send (SMTP) is never delivered this way: its
actions go one by one, so a crash leaves at most the one message in flight.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, cast

import structlog

from dunning.channels import Delivery, DeliveryStatus
from dunning.dispatch import outreach
from dunning.dispatch.round_attempts import RoundAttempts
from dunning.dispatch.round_outcomes import RoundOutcomes
from dunning.models import Action, ActionKind, Contact
from dunning.runtime import Runtime

if TYPE_CHECKING:
    from dunning.dispatch.delivery import _Delivery


def deduplicates(rt: Runtime, action: Action) -> bool:
    """Whether ``action`` may be delivered with its round: outreach on a channel that recognises a re-send.

    The channel says so (``deduplicates_by_key``), and its actions left in
    flight by a crash are sent again (``in_doubt`` is "resend", as the
    channel or ``[channels.<name>]`` sets it): a channel held for a person
    after a crash keeps its actions one by one, so at most one is in doubt.
    """
    if action.kind is not ActionKind.OUTREACH or not action.channel:
        return False
    return _goes_together(rt, action.channel)


def round_channels(rt: Runtime, actions: Iterable[Action]) -> set[str]:
    """The channels of these actions whose outreach goes with its round (``deduplicates``), each asked once.

    The dispatcher's next claims mark those channels' outreach as handed over at once
    (``Store.claim``'s ``handed_over``): its actions left in flight by a crash are sent again
    whatever the mark says, so it need not wait for the send and costs no write of its own.
    """
    names = {a.channel for a in actions if a.kind is ActionKind.OUTREACH and a.channel}
    return {name for name in names if _goes_together(rt, name)}


def _goes_together(rt: Runtime, name: str) -> bool:
    channel = rt.channel(name)
    return (channel is not None and getattr(channel, "deduplicates_by_key", False) is True
            and rt.in_doubt(name) == "resend")


def deliver_together(rt: Runtime, deliveries: list[_Delivery], first: Callable[[], None] | None = None) -> None:
    """Take a round's outreach (one debtor each, channels that de-duplicate) to its outcomes in two transactions.

    ``first``: the round's work that goes at the start of the first transaction (its stage changes and internal
    work, ``internal_round``), so that it costs no commit of its own.
    """
    ready: list[tuple[_Delivery, outreach.Ready]] = []
    with rt.store.transaction():
        if first is not None:
            first()
        # Read inside the transaction that adds the round's attempts (see ``round_attempts``).
        attempts = RoundAttempts(rt.store, (d.case.debtor_id for d in deliveries), deliveries[0].now)
        rules = deliveries[0].rules_context_for(attempts)  # the round's deliveries share their facts
        # What settles an action here (a deferral outside calling hours, a skip) is written with the round's.
        outcomes = RoundOutcomes(rt.store, deliveries[0].claimer, (cast(int, d.action.id) for d in deliveries))
        for d in deliveries:
            d.outcomes = outcomes
            if not d.case.is_open:
                d.cancel(f"case_{d.case.status}")
                d.outcomes = None
                continue
            d.round_attempts, d.rule_context = attempts, rules
            prepared = outreach.prepare(d)
            # What follows (a fallback's rules, a retry, the outcome of the send) reads and writes the file.
            d.round_attempts = d.rule_context = d.outcomes = None
            if prepared is not None:
                ready.append((d, prepared))
        outcomes.write()
        attempts.write(rt.store)
    sent = []
    for d, prepared in ready:
        a = d.action
        # As ``bound_contextvars`` does, without reading the whole context each time.
        tokens = structlog.contextvars.bind_contextvars(case_id=a.case_id, channel=a.channel, action_id=a.id)
        try:
            sent.append((d, prepared, outreach.send(d, prepared)))
        finally:
            structlog.contextvars.reset_contextvars(**tokens)
    # Carried into the next round's first transaction (or committed at the end of the batch): one commit less.
    # A crash before that commit leaves this round in flight, as a crash during its sends would.
    with rt.store.transaction(carry=True):
        went: list[tuple[_Delivery, Action, Delivery, Sequence[Contact]]] = []
        for d, prepared, (action, result) in sent:
            if isinstance(result, Delivery) and result.status is DeliveryStatus.SENT:
                went.append((d, action, result, prepared.reach.contacts))
            else:
                outreach.settle(d, prepared, (action, result))
        outreach.record_sent_together(went)
