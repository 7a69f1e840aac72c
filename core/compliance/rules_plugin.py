"""The built-in contact rules as registered with every command: two hooks that load ``rules`` when first asked.

Every command registers the compliance rules (``[plugins] disabled`` aside), and a reading command such as
``cases show`` never asks them anything: registering ``dunning.compliance.rules`` itself made each one import
the caps, the limitation periods, the verdicts and the rules' memo (and build their record classes) for
nothing. The rules module is imported on the first ``check_action`` or ``escalation_check`` and kept; each
later call costs one more function call.
"""

from __future__ import annotations

import datetime as dt
from types import ModuleType
from typing import TYPE_CHECKING

from dunning import hookimpl

if TYPE_CHECKING:
    from dunning.channels import RuleContext
    from dunning.models import Action, Case, Stage
    from dunning.verdicts import Verdict

_loaded: list[ModuleType] = []


def _rules() -> ModuleType:
    if not _loaded:
        from dunning.compliance import rules

        _loaded.append(rules)
    return _loaded[0]


@hookimpl
def check_action(action: Action, case: Case, now: dt.datetime, ctx: RuleContext) -> Verdict | None:
    """Contact windows, days off, frequency caps, third-party disclosure and time-barred threats."""
    verdict: Verdict | None = _rules().check_action(action, case, now, ctx)
    return verdict


@hookimpl
def escalation_check(case: Case, from_stage: Stage, to_stage: Stage, ctx: RuleContext) -> Verdict | None:
    """No litigation on a time-barred debt."""
    verdict: Verdict | None = _rules().escalation_check(case, from_stage, to_stage, ctx)
    return verdict
