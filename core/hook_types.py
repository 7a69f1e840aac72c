"""The plugin manager's hooks as mypy sees them: one method per hookspec, typed as pluggy calls it.

pluggy's ``pm.hook`` is a ``HookRelay`` whose attributes mypy knows nothing
of, so ``rt.hook.case_priority(case=case)`` (a missing argument) or
``rt.hook.check_action(action, case)`` (positional: pluggy refuses them)
would pass the type check and fail at run time. ``Plugins.hook`` and
``Runtime.hook`` are typed as ``Hooks`` instead. pluggy calls hooks with
keyword arguments only; a plain hook returns the list of its
implementations' results that are not None, a ``firstresult`` hook the
first such result, or None.

tests/core/test_hook_types.py keeps this in step with dunning.hookspecs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import click
    import sqlite_utils

    from dunning.channels import Channel, RuleContext, StageContext
    from dunning.lazy_channel import LazyChannel
    from dunning.models import Action, Case, Event, Stage
    from dunning.portal.providers import PaymentProvider
    from dunning.priority import CaseFacts
    from dunning.verdicts import Verdict
    from dunning.work_lists import WorkList


class Hooks(Protocol):
    """``pm.hook``, typed to the hookspecs (see the module's docstring)."""

    def register_channels(self, *, register: Callable[[Channel | LazyChannel], None]) -> list[None]: ...

    def register_commands(self, *, cli: click.Group) -> list[None]: ...

    def check_settings(self, *, settings: Mapping[str, Any]) -> list[None]: ...

    def register_payment_providers(self, *, register: Callable[[PaymentProvider], None]) -> list[None]: ...

    def register_work_lists(self, *, register: Callable[[WorkList], None]) -> list[None]: ...

    def register_migrations(
        self, *, register: Callable[[str, Callable[[sqlite_utils.Database], None]], None]
    ) -> list[None]: ...

    def check_action(self, *, action: Action, case: Case, now: dt.datetime, ctx: RuleContext) -> list[Verdict]: ...

    def escalation_check(self, *, case: Case, from_stage: Stage, to_stage: Stage,
                         ctx: RuleContext) -> list[Verdict]: ...

    def stage_entered(self, *, case: Case, from_stage: Stage, to_stage: Stage, ctx: StageContext) -> list[None]: ...

    def record_event(self, *, event: Event) -> list[None]: ...

    def case_priority(self, *, case: Case, facts: CaseFacts | None) -> float | None: ...
