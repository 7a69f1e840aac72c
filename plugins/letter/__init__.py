"""The letter channel: printable PDF letters for window envelopes, and a print batch per run.

Enable it with ``[channels] enabled = ["letter"]`` and a ``[channels.letter]``
table (docs/channels/letter.md describes every setting). The plugin keeps
its print queue in its own tables (``letter_print_queue``, ``letter_batches``)
and adds ``dunning letters`` to the command line.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from dunning import hookimpl

if TYPE_CHECKING:
    from dunning import LazyChannel
    from dunning.plugins.letter.channel import LetterChannel

__all__ = ["LetterChannel"]

# This module is every command's to import (`dunning --help` included): the channel, its records and its
# commands are imported where a hook needs them.


@hookimpl
def register_channels(register: Callable[[LazyChannel], None]) -> None:
    # The channel's module is imported when the channel is used (dunning.LazyChannel).
    from dunning import LazyChannel

    register(LazyChannel("letter", "dunning.plugins.letter.channel:LetterChannel", medium="letter"))


@hookimpl
def register_migrations(register: Callable[[str, Callable[[Any], None]], None]) -> None:
    from dunning.plugins.letter.store import MIGRATIONS

    for name, step in MIGRATIONS:
        register(name, step)


@hookimpl
def register_commands(cli: Any) -> None:
    from dunning.plugins.letter.commands import add_commands

    add_commands(cli)


def __getattr__(name: str) -> Any:
    # `from dunning.plugins.letter import LetterChannel` still works, importing the channel then.
    if name == "LetterChannel":
        from dunning.plugins.letter.channel import LetterChannel

        return LetterChannel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
