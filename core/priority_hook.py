"""Asking ``case_priority`` one plugin at a time, so one broken scorer never empties a work queue.

pluggy's ``firstresult`` call stops at the first implementation that
raises, and hands back whatever the first one returned, a string included:
a call list would then fail to sort, or not be made at all. Here each
plugin is asked in pluggy's order (the built-in fallback last); the first
number wins. A plugin that raises, or answers anything but a number or
None, is named in a warning and passed over for that case; the next one
(in the end the built-in score) answers instead.
"""

from __future__ import annotations

import structlog

from dunning.hook_calls import HookCalls
from dunning.models import Case
from dunning.priority import CaseFacts

log = structlog.get_logger("dunning.priority")

HOOK = "case_priority"


def case_priority(calls: HookCalls, case: Case, facts: CaseFacts | None) -> float | None:
    """The first number a plugin answers for ``case`` (None if none does); failing plugins are named and skipped."""
    for answer in calls.call_each(HOOK, case=case, facts=facts):
        if answer.error is not None:
            problem = f"{HOOK} raised {type(answer.error).__name__}: {answer.error}"
        else:
            result = answer.results[0] if answer.results else None
            if result is None:
                continue
            if isinstance(result, int | float) and not isinstance(result, bool):
                return float(result)
            problem = f"{HOOK} returned {result!r} ({type(result).__name__}), not a number or None"
        log.warning(f"plugin {answer.plugin}: {problem}; its score is ignored for case {case.id}",
                    plugin=answer.plugin, hook=HOOK, case_id=case.id)
    return None
