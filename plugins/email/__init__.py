"""The email plugin: reminders and notices by SMTP, with text and HTML parts from templates.

Enable it with ``[channels] enabled = ["email"]`` and a ``[channels.email]``
table (see docs/channels/email.md). One connection is opened on a run's
first email and closed when the run's delivery ends.
"""

from __future__ import annotations

from collections.abc import Callable

from dunning import hookimpl
from dunning.channels import Channel
from dunning.plugins.email.channel import EmailChannel

__all__ = ["EmailChannel", "register_channels"]


@hookimpl
def register_channels(register: Callable[[Channel], None]) -> None:
    register(EmailChannel())
