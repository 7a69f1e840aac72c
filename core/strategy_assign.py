"""Assigning strategies: each open case without one is given its strategy, with a ``strategy_assigned`` event.

Runs before planning (and after an import), so a case is planned under its
strategy's policy from its first plan on. Only cases that have none are
touched: a case keeps the strategy it was first given, whatever the shares
say later. Without ``[[strategies]]`` it does nothing and reads nothing.
"""

from __future__ import annotations

import datetime as dt

from dunning.models import Event
from dunning.runtime import Runtime
from dunning.strategies import assign, assignment_data

# Cases per transaction: a first run over a large portfolio commits as it goes, and a rerun picks up the rest.
BATCH = 5_000


def assign_strategies(rt: Runtime, now: dt.datetime) -> int:
    """Assign every open case that has no strategy yet; how many were assigned."""
    policies = rt.case_policies
    if not policies.strategies:
        return 0
    assigned = after = 0
    while True:
        found = rt.store.unassigned_open_cases(after, BATCH)
        if not found:
            return assigned
        chosen = [(case_id, stage, assign(case_id, policies.strategies, policies.salt)) for case_id, stage in found]
        events = [Event(kind="strategy_assigned", at=now, case_id=case_id, stage=stage,
                        data=assignment_data(strategy, policies.salt)) for case_id, stage, strategy in chosen]
        assigned += rt.store.assign_strategies([(case_id, s.name, s.policy) for case_id, _, s in chosen], events)
        after = found[-1][0]
