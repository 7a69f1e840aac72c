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
from typing import TYPE_CHECKING, Any

from dunning import hookimpl

if TYPE_CHECKING:
    import click

    from dunning import LazyChannel
    from dunning.plugins.phone.channel import PhoneChannel
    from dunning.plugins.phone.sms import SmsChannel

__all__ = ["PhoneChannel", "SmsChannel"]

# `dunning --help` shows this for the command, whose module is imported when it runs (a test checks they agree).
CALLS_HELP = "The day's open phone calls, most urgent first."

# This module is every command's to import (`dunning --help` included): the channel, its records and its
# commands are imported where a hook needs them.


@hookimpl
def register_channels(register: Callable[[LazyChannel], None]) -> None:
    # The channel's module is imported when the channel is used (dunning.LazyChannel).
    from dunning import LazyChannel

    register(LazyChannel("phone", "dunning.plugins.phone.channel:PhoneChannel", medium="call"))
    register(LazyChannel("sms", "dunning.plugins.phone.sms:SmsChannel", medium="text"))


@hookimpl
def register_migrations(register: Callable[[str, Callable[..., None]], None]) -> None:
    from dunning.plugins.phone.store import MIGRATIONS

    for name, step in MIGRATIONS:
        register(name, step)


@hookimpl
def register_commands(cli: click.Group) -> None:
    from dunning import LazyCommand

    cli.add_command(LazyCommand("calls", "dunning.plugins.phone.cli:calls", CALLS_HELP))


@hookimpl
def register_work_lists(register: Callable[[Any], None]) -> None:
    # The console's view of this channel (dunning.work_lists); imported when the console asks.
    from dunning.plugins.phone.work_list import CallList

    register(CallList())


def __getattr__(name: str) -> Any:
    # `from dunning.plugins.phone import PhoneChannel` (or SmsChannel) still works, importing the channel then.
    if name == "PhoneChannel":
        from dunning.plugins.phone.channel import PhoneChannel

        return PhoneChannel
    if name == "SmsChannel":
        from dunning.plugins.phone.sms import SmsChannel

        return SmsChannel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
