"""The visit channel: the on-site stage's visits as tasks for field collectors, grouped by area.

A policy step with ``channels = ["visit"]`` becomes a row of ``visit_tasks``
for the debtor's postal address; ``dunning visits`` lists them by area,
``dunning visits sheet`` prints route sheets with the visit script, and
``dunning visits log`` records what the collector found. See
``docs/channels/visit.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from dunning import hookimpl

if TYPE_CHECKING:
    import click

    from dunning import LazyChannel
    from dunning.plugins.visit.channel import VisitChannel

# `dunning --help` shows this for the command, whose module is imported when it runs (a test checks they agree).
VISITS_HELP = 'List the visits to make by a day, grouped by area, the most urgent case first.'

# This module is every command's to import (`dunning --help` included): the channel, its records and its
# commands are imported where a hook needs them.


@hookimpl
def register_channels(register: Callable[[LazyChannel], None]) -> None:
    # The channel's module is imported when the channel is used (dunning.LazyChannel).
    from dunning import LazyChannel

    register(LazyChannel("visit", "dunning.plugins.visit.channel:VisitChannel", medium="visit"))


@hookimpl
def register_migrations(register: Callable[[str, Callable[..., None]], None]) -> None:
    from dunning.plugins.visit.store import MIGRATIONS

    for name, step in MIGRATIONS:
        register(name, step)


@hookimpl
def register_commands(cli: click.Group) -> None:
    from dunning import LazyCommand

    cli.add_command(LazyCommand("visits", "dunning.plugins.visit.cli:visits", VISITS_HELP))


@hookimpl
def register_work_lists(register: Callable[[Any], None]) -> None:
    # The console's view of this channel (dunning.work_lists); imported when the console asks.
    from dunning.plugins.visit.work_list import VisitList

    register(VisitList())


def __getattr__(name: str) -> Any:
    # `from dunning.plugins.visit import VisitChannel` still works, importing the channel then.
    if name == "VisitChannel":
        from dunning.plugins.visit.channel import VisitChannel

        return VisitChannel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["VisitChannel"]
