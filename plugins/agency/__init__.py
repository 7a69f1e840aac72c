"""The agency stage: place cases with collection agencies, take their returns, recall, report.

Takes part only when ``[channels] enabled`` lists ``agency`` (see
``channel.py`` for why an agency is a channel). docs/channels/agency.md
describes the settings, the files and the commands.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from dunning import hookimpl

if TYPE_CHECKING:
    import click

    from dunning import LazyChannel, Verdict
    from dunning.models import Action, Case, Stage

# This module is every command's to import (`dunning --help` included): the channel, its records and its
# commands are imported where a hook needs them.

RULE = "agency:placed"


@hookimpl
def register_channels(register: Callable[[LazyChannel], None]) -> None:
    # The channel's module is imported when the channel is used (dunning.LazyChannel).
    from dunning import LazyChannel

    register(LazyChannel("agency", "dunning.plugins.agency.channel:AgencyChannel", medium="other"))


@hookimpl
def register_migrations(register: Callable[[str, Callable[..., None]], None]) -> None:
    from dunning.plugins.agency import records

    for name, step in records.MIGRATIONS:
        register(name, step)


@hookimpl
def register_commands(cli: click.Group) -> None:
    from dunning import LazyCommand

    cli.add_command(LazyCommand("agency", "dunning.plugins.agency.cli:agency",
                                "Collection agencies: placements, return files, recalls and the agency report."))


@hookimpl
def check_action(action: Action, case: Case, ctx: Any) -> Verdict | None:
    """While a case is placed, the agency owns contact: no outreach of ours reaches the debtor."""
    from dunning import Verdict
    from dunning.models import ActionKind, Stage
    from dunning.plugins.agency import records

    if action.kind is not ActionKind.OUTREACH or case.stage is not Stage.AGENCY:
        return None
    placement = records.open_placement(ctx.db, case.id)
    if placement is None:
        return None
    return Verdict.block(RULE, f"placed with agency {placement.agency} since {placement.placed_on}; "
                               "the agency owns contact until the case is recalled")


@hookimpl
def stage_entered(case: Case, from_stage: Stage, to_stage: Stage, ctx: Any) -> None:
    from dunning import calendar
    from dunning.models import Stage
    from dunning.plugins.agency import records
    from dunning.plugins.agency.placement import end_on_leaving, place
    from dunning.plugins.agency.settings import parse_settings

    today = calendar.local_date(ctx.now, ctx.config.zone)

    def record(kind: str, **data: Any) -> None:
        ctx.record_event(kind, **data)

    if from_stage is Stage.AGENCY and to_stage is not Stage.AGENCY:
        end_on_leaving(ctx.db, case, to_stage, now=ctx.now, today=today, reason=ctx.reason, record=record)
    if to_stage is Stage.AGENCY and records.open_placement(ctx.db, case.id) is None:
        contacts = ctx.store.contacts(ctx.debtor.id) if ctx.store is not None else []
        place(ctx.db, parse_settings(ctx.config.settings_for("agency")), case=case, debtor=ctx.debtor,
              obligations=ctx.obligations, contacts=contacts, now=ctx.now, today=today, record=record)
