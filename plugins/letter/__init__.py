"""The letter channel: printable PDF letters for window envelopes, and a print batch per run.

Enable it with ``[channels] enabled = ["letter"]`` and a ``[channels.letter]``
table (docs/channels/letter.md describes every setting). The plugin keeps
its print queue in its own tables (``letter_print_queue``, ``letter_batches``)
and adds ``dunning letters`` to the command line.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dunning import hookimpl
from dunning.plugins.letter.channel import LetterChannel
from dunning.plugins.letter.store import MIGRATIONS

__all__ = ["LetterChannel"]


@hookimpl
def register_channels(register: Callable[[Any], None]) -> None:
    register(LetterChannel())


@hookimpl
def register_migrations(register: Callable[[str, Callable[[Any], None]], None]) -> None:
    for name, step in MIGRATIONS:
        register(name, step)


@hookimpl
def register_commands(cli: Any) -> None:
    from dunning.plugins.letter.commands import add_commands

    add_commands(cli)
