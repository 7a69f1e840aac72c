"""The litigation stage: limitation periods, legal matters and milestones, evidence bundles, claim tasks.

Takes part only when ``[channels] enabled`` lists ``legal`` (see
``channel.py`` for why). docs/channels/legal.md describes the settings,
the rules and the commands.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from dunning import hookimpl

if TYPE_CHECKING:
    import click

    from dunning import LazyChannel, Verdict
    from dunning.models import Action, Case, Stage

# `dunning --help` shows this for the command, whose module is imported when it runs (a test checks they agree).
LEGAL_HELP = 'Litigation: legal matters and milestones, limitation periods, evidence bundles, claim tasks.'

# This module is every command's to import (`dunning --help` included): the channel, its records and its
# commands are imported where a hook needs them.


@hookimpl
def register_channels(register: Callable[[LazyChannel], None]) -> None:
    # The channel's module is imported when the channel is used (dunning.LazyChannel).
    from dunning import LazyChannel

    register(LazyChannel("legal", "dunning.plugins.legal.channel:LegalChannel", medium="other"))


@hookimpl
def register_migrations(register: Callable[[str, Callable[..., None]], None]) -> None:
    from dunning.plugins.legal import records

    for name, step in records.MIGRATIONS:
        register(name, step)


@hookimpl
def register_commands(cli: click.Group) -> None:
    from dunning import LazyCommand

    cli.add_command(LazyCommand("legal", "dunning.plugins.legal.cli:legal", LEGAL_HELP))


@hookimpl
def escalation_check(case: Case, from_stage: Stage, to_stage: Stage, ctx: Any) -> Verdict | None:
    """Litigation only for debts that are not time-barred, at or above the minimum balance, with approval."""
    from dunning.plugins.legal.rules import litigation_verdict

    return litigation_verdict(case, to_stage, ctx)


@hookimpl
def check_action(action: Action, case: Case, now: dt.datetime, ctx: Any) -> Verdict | None:
    """No letter that threatens suit (lawyer's letter, formal demand) for a time-barred debt."""
    from dunning.plugins.legal.rules import threat_verdict

    return threat_verdict(action, case, now, ctx)


@hookimpl
def stage_entered(case: Case, to_stage: Stage, ctx: Any) -> None:
    from dunning import calendar
    from dunning.models import Stage
    from dunning.plugins.legal.matters import open_matter
    from dunning.plugins.legal.settings import parse_settings

    if to_stage is not Stage.LITIGATION:
        return
    open_matter(ctx.db, parse_settings(ctx.config.settings_for("legal")), case, ctx.now,
                calendar.local_date(ctx.now, ctx.config.zone), lambda kind, **data: ctx.record_event(kind, **data))
