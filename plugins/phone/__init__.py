"""Phone and SMS: call tasks for human collectors, and text messages through an HTTP gateway.

Two channels come from this plugin:

- ``phone`` turns each action into a task on a collector's call list
  (``dunning calls``), with the number to dial, the part of the day and a
  call script; collectors record each call with ``dunning calls log``.
- ``sms`` posts a short message to an HTTP SMS gateway.

Their templates live in ``templates/``: ``<name>.txt`` is a call script,
``<name>.sms.txt`` a text message, each with a ``zh_CN`` translation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from dunning import hookimpl
from dunning.plugins.phone.channel import PhoneChannel
from dunning.plugins.phone.sms import SmsChannel
from dunning.plugins.phone.store import MIGRATIONS

__all__ = ["PhoneChannel", "SmsChannel"]


@hookimpl
def register_channels(register: Callable[[Any], None]) -> None:
    register(PhoneChannel())
    register(SmsChannel())


@hookimpl
def register_migrations(register: Callable[[str, Callable[..., None]], None]) -> None:
    for name, step in MIGRATIONS:
        register(name, step)


@hookimpl
def register_commands(cli: click.Group) -> None:
    from dunning.plugins.phone.cli import calls

    cli.add_command(calls)
