"""A command that stands for another, whose module is imported only when the command runs or shows its help.

``dunning --help`` lists every plugin's commands, so it calls every plugin's
``register_commands``: a plugin whose commands need heavy modules (the store,
templates, PDF or HTTP libraries) registers a ``LazyCommand`` naming where the
command lives, and its one-line help, instead of importing the command::

    @hookimpl
    def register_commands(cli):
        cli.add_command(LazyCommand("calls", "my_plugin.cli:calls", "Call lists for collectors."))
"""

from __future__ import annotations

import importlib
from typing import Any

import click


class LazyCommand(click.Command):
    """Listed under ``name`` with ``short_help``; ``target`` ("module:attribute") is imported on first use."""

    def __init__(self, name: str, target: str, short_help: str):
        super().__init__(name, help=short_help)
        self.target = target
        self._loaded: click.Command | None = None

    def load(self) -> click.Command:
        """The command itself, its module imported now."""
        if self._loaded is None:
            module_name, _, attribute = self.target.partition(":")
            command = getattr(importlib.import_module(module_name), attribute)
            if not isinstance(command, click.Command):
                raise TypeError(f"{self.target} is not a click command")
            self._loaded = command
        return self._loaded

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        # click runs (and completes) a subcommand through the context made here: it is the real command's.
        return self.load().make_context(info_name, args, parent=parent, **extra)
