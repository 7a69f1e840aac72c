"""The visit channel: the on-site stage's visits as tasks for field collectors, grouped by area.

A policy step with ``channels = ["visit"]`` becomes a row of ``visit_tasks``
for the debtor's postal address; ``dunning visits`` lists them by area,
``dunning visits sheet`` prints route sheets with the visit script, and
``dunning visits log`` records what the collector found. See
``docs/channels/visit.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from dunning import hookimpl
from dunning.plugins.visit.channel import VisitChannel
from dunning.plugins.visit.store import MIGRATIONS


@hookimpl
def register_channels(register: Callable[[Any], None]) -> None:
    register(VisitChannel())


@hookimpl
def register_migrations(register: Callable[[str, Callable[..., None]], None]) -> None:
    for name, step in MIGRATIONS:
        register(name, step)


@hookimpl
def register_commands(cli: click.Group) -> None:
    # Imported here, not at the top: loading the channel for a run does
    # not need the commands' modules.
    from dunning.plugins.visit.cli import add_commands

    add_commands(cli)


__all__ = ["VisitChannel"]
