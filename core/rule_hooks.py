"""Asking the rule hooks (``check_action``, ``escalation_check``), one plugin at a time.

A rule that raises, or answers anything but a ``Verdict`` or None, is
named and turned into a deferral under the rule ``plugin_error``: the
action waits and is asked again, the other plugins' verdicts still count,
and the run goes on. A rule that cannot be heard never lets a contact
through unchecked.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
from dunning.log import get_logger

from dunning.hook_calls import HookCalls
from dunning.verdicts import Verdict

log = get_logger("dunning.rules")

PLUGIN_ERROR = "plugin_error"


@attrs.frozen
class RuleFailure:
    plugin: str
    hook: str
    problem: str

    def verdict(self, retry_at: dt.datetime) -> Verdict:
        return Verdict.defer(PLUGIN_ERROR, retry_at, f"plugin {self.plugin}: {self.problem}")


def ask(calls: HookCalls, hook: str, **kwargs: Any) -> tuple[list[Verdict], list[RuleFailure]]:
    """Every plugin's verdicts for ``hook``, and the plugins that failed (named)."""
    verdicts: list[Verdict] = []
    failures: list[RuleFailure] = []
    for answer in calls.call_each(hook, **kwargs):
        if answer.error is not None:
            problem = f"{hook} raised {type(answer.error).__name__}: {answer.error}"
        else:
            wrong = [r for r in answer.results if not isinstance(r, Verdict)]
            if not wrong:
                verdicts.extend(answer.results)
                continue
            problem = f"{hook} returned {wrong[0]!r} ({type(wrong[0]).__name__}), not a Verdict or None"
        log.warning(f"plugin {answer.plugin}: {problem}", plugin=answer.plugin, hook=hook)
        failures.append(RuleFailure(answer.plugin, hook, problem))
    return verdicts, failures


def verdicts_or_deferral(calls: HookCalls, hook: str, retry_at: dt.datetime, **kwargs: Any) -> list[Verdict | None]:
    """``ask``, with each failure as a ``plugin_error`` deferral until ``retry_at``."""
    verdicts, failures = ask(calls, hook, **kwargs)
    return [*verdicts, *(f.verdict(retry_at) for f in failures)]
