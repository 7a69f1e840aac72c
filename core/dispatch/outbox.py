"""Working through the outbox: claim what is ready, batch by batch, take each action to its outcome.

Delivery claims actions, re-checks each against the case as it is now
(``delivery``), sends, and records the outcome with its evidence event in one
transaction. When the outbox has nothing more ready, every channel gets its
end-of-run call.

A claimed batch is worked in rounds in which each debtor comes up once (a
second action for the same debtor waits for the next round, so it sees what
the first one changed); each round's facts (cases, debtors, contacts, holds,
opt-outs, promises, open items) are read in one query per table.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import structlog

from dunning.log import get_logger

from dunning import calendar
from dunning.channels import RunContext
from dunning.compliance.jurisdictions import Chosen
from dunning.dispatch.batch import deduplicates, deliver_together, round_channels
from dunning.dispatch.claims import claimer_id, reclaim_abandoned
from dunning.dispatch.delivery import _Delivery, facts_for
from dunning.dispatch.internal_round import NoticesCarried, deliver_internal_round, goes_with_round
from dunning.dispatch.gc_pace import fewer_collections
from dunning.dispatch.summary import ProgressCallback, RunSummary
from dunning.plugin_events import namespaced
from dunning.models import Action
from dunning.runtime import Runtime
from dunning.store.delivery_facts import DeliveryFacts

log = get_logger("dunning.dispatch")

# How many ready actions one claim takes, at most. Every claim, and every round of it, is a commit (a wait for the
# disk under ``synchronous = "full"``), so fewer, larger claims cost less; but a claim must be worked well inside
# ``claim_timeout`` (another runner takes back an older one), and an action delivered one by one (SMTP) takes a
# round trip to its server. So the larger claim is taken only when every enabled channel delivers with its round
# (``claim_size``). A crash still re-sends at most the round in flight, and only on channels whose provider drops
# the copy; a channel delivered one by one still has at most its one message in flight.
CLAIM_BATCH = 1000
CLAIM_BATCH_ONE_BY_ONE = 200


def claim_size(rt: Runtime) -> int:
    """``CLAIM_BATCH`` when every enabled channel goes with its round (``batch.deduplicates``), else the smaller."""
    for name in rt.plugins.enabled:
        channel = rt.channel(name)
        if channel is not None and not (getattr(channel, "deduplicates_by_key", False) is True
                                        and rt.in_doubt(name) == "resend"):
            return CLAIM_BATCH_ONE_BY_ONE
    return CLAIM_BATCH


def deliver_ready(rt: Runtime, now: dt.datetime, summary: RunSummary, progress: ProgressCallback | None = None, *,
                  claimer: str | None = None, size: int | None = None, stop: threading.Event | None = None,
                  finish_idle: bool = True) -> int:
    """Claim ready actions a batch at a time (``size``, else ``claim_size``) and deliver them until none is
    ready or ``stop`` is set; how many were claimed. The channels' ``finish_run`` follows, also after a
    delivery of nothing unless ``finish_idle`` is false (a worker's idle turn, ``dispatch.worker``)."""
    reclaim_abandoned(rt, now)
    claimer = claimer or claimer_id()
    size = size or claim_size(rt)
    handed_over: set[str] = set()  # channels met so far whose outreach goes with its round (``round_channels``)
    restore_collections = fewer_collections()
    delivered = 0
    try:
        while stop is None or not stop.is_set():
            # The claim's transaction is carried into its first round's first one (``Store.claim``'s ``carry``):
            # one commit less per claim. A crash before that commit leaves the batch pending, unclaimed.
            batch = rt.store.claim(now, calendar.utc_now(), claimer, size, handed_over=handed_over, carry=True)
            if not batch:
                break
            # Likewise a round's recorded outcomes are carried into the next round's first transaction.
            try:
                handed_over |= round_channels(rt, batch)
                for actions, facts in _rounds(rt, batch, now):
                    deliver_round(rt, actions, facts, claimer, now, summary)
            except BaseException:
                # A claim not taken over is undone (its batch stays pending); recorded outcomes are kept.
                rt.store.end_carried(failed=True)
                raise
            rt.store.end_carried()  # the batch is recorded before anyone hears of it
            delivered += len(batch)
            if progress:
                progress("deliver", len(batch))
    finally:
        restore_collections()
        if delivered or finish_idle:
            finish_channels(rt, now, claimer)
    return delivered


def _rounds(rt: Runtime, batch: list[Action], now: dt.datetime) -> Iterator[tuple[list[Action], DeliveryFacts]]:
    """The batch in rounds where each debtor comes up once, in claim order, each round with its facts.

    The first round's facts are read with the whole batch's; a later round's
    are read again when it starts, after the rounds before it were recorded.
    """
    facts = facts_for(rt, batch, now)
    rounds: list[list[Action]] = []
    taken: dict[str, int] = {}  # debtor (or case, when the case is gone) -> rounds already given to them
    for action in batch:
        case = facts.cases.get(action.case_id)
        whose = case.debtor_id if case is not None else f"case:{action.case_id}"
        turn = taken.get(whose, 0)
        taken[whose] = turn + 1
        if turn == len(rounds):
            rounds.append([])
        rounds[turn].append(action)
    for turn, actions in enumerate(rounds):
        yield actions, facts if turn == 0 else facts_for(rt, actions, now, facts)


def deliver_round(rt: Runtime, actions: list[Action], facts: DeliveryFacts, claimer: str, now: dt.datetime,
                  summary: RunSummary) -> None:
    """Take a round's actions (one debtor each) to their outcomes.

    Stage changes and internal work go together in one transaction
    (``internal_round``); so does outreach on channels that recognise a
    re-send by its key (``batch``: its outcomes recorded in one transaction);
    everything else one by one, each outcome recorded as it comes.
    """
    together: list[_Delivery] = []
    internal: list[_Delivery] = []
    media = rt.plugins.media
    # Whether an action goes with its round depends on its kind and channel alone: asked once per pair.
    goes_together: dict[tuple[str, str | None], bool] = {}
    notices = NoticesCarried(rt)
    profiles: dict[tuple[str | None, str | None, str], Chosen] = {}  # the contact rules chosen, for the round
    for action in actions:
        if goes_with_round(action, notices):
            internal.append(_Delivery(rt, action, claimer, now, summary, facts, media, profiles))
            continue
        pair = (action.kind.value, action.channel)
        joins = goes_together.get(pair)
        if joins is None:
            joins = goes_together[pair] = deduplicates(rt, action)
        if joins:
            together.append(_Delivery(rt, action, claimer, now, summary, facts, media, profiles))
            continue
        # One by one: what is carried (the claim) is committed before such an action is handed to its channel.
        rt.store.end_carried()
        with structlog.contextvars.bound_contextvars(case_id=action.case_id, channel=action.channel,
                                                     action_id=action.id):
            _Delivery(rt, action, claimer, now, summary, facts, media, profiles).go()
    if together:  # the stage changes and internal work in the outreach's first transaction: one commit less
        deliver_together(rt, together, first=(lambda: deliver_internal_round(rt, internal)) if internal else None)
    elif internal:
        deliver_internal_round(rt, internal)


def finish_channels(rt: Runtime, now: dt.datetime, run_id: str) -> None:
    """Give every enabled channel with a ``finish_run`` its end-of-run call."""
    for name in sorted(rt.plugins.enabled):
        channel = rt.channel(name)
        finish = getattr(channel, "finish_run", None)
        if finish is None:
            continue
        ctx = RunContext(now=now, run_id=run_id, settings=rt.config.settings_for(name), config=rt.config,
                         db=rt.store.db, log=log.bind(channel=name), store=rt.store,
                         record=_run_recorder(rt, name, now))
        try:
            finish(ctx)
        except Exception as exc:  # one channel's batch must not stop another's
            log.warning("finish_run raised", channel=name, error=repr(exc))


def _run_recorder(rt: Runtime, channel: str, now: dt.datetime) -> Callable[[str, Mapping[str, Any]], None]:
    def record(kind: str, data: Mapping[str, Any]) -> None:
        with rt.store.transaction():
            rt.store.append_events([rt.event(namespaced(channel, kind), None, now, channel=channel, data=dict(data))])

    return record
