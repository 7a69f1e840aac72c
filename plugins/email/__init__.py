"""The email plugin: reminders and notices by SMTP, with text and HTML parts from templates.

Enable it with ``[channels] enabled = ["email"]`` and a ``[channels.email]``
table (see docs/channels/email.md). One connection is opened on a run's
first email and closed when the run's delivery ends.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from dunning import hookimpl

if TYPE_CHECKING:
    from dunning import LazyChannel
    from dunning.plugins.email.channel import EmailChannel

__all__ = ["EmailChannel", "register_channels"]

# This module is every command's to import (`dunning --help` included): the channel, its records and its
# commands are imported where a hook needs them.


@hookimpl
def register_channels(register: Callable[[LazyChannel], None]) -> None:
    # The channel's module is imported when the channel is used (dunning.LazyChannel).
    from dunning import LazyChannel

    register(LazyChannel("email", "dunning.plugins.email.channel:EmailChannel", medium="email"))


def __getattr__(name: str) -> Any:
    # `from dunning.plugins.email import EmailChannel` still works, importing the channel then.
    if name == "EmailChannel":
        from dunning.plugins.email.channel import EmailChannel

        return EmailChannel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
