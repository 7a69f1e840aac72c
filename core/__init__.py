"""dunning: a pluggable engine for collecting overdue debts.

A plugin needs only ``from dunning import hookimpl``; the channel API
(``Channel``, ``Delivery``, ``Verdict``, the contexts), the records hooks
receive (``Action``, ``Case``, ``Debtor``) and ``format_minor`` for amounts
are re-exported here as well, so a plugin imports nothing else of dunning's;
``ActionKey`` reads and writes an action's key. The store reaches a plugin
as a read-only ``StoreView`` (``ctx.store``, whose lookups raise
``NotFound``); a command gets its ``PluginContext`` from ``plugin_context()``;
``event_fields`` and ``chain_hash`` check an exported event's hash. Plugins
never import ``dunning.store``, ``dunning.runtime``, ``dunning.dispatch`` or
``dunning.evidence`` (an import contract in the test suite holds them to it).
"""

from typing import TYPE_CHECKING, Any

import pluggy

hookimpl = pluggy.HookimplMarker("dunning")

# Imported now, being light: `plugin_context` is also the name of its module, which importing that module
# (as the CLI does) would bind here in place of the function, had the name been left to __getattr__.
from dunning.plugin_context import PluginContext, plugin_context  # noqa: E402
from dunning.store_view import StoreView  # noqa: E402

if TYPE_CHECKING:
    from dunning.action_key import ActionKey
    from dunning.channels import (Channel, Delivery, DeliveryContext, DeliveryStatus, RuleContext, RunContext,
                                  StageContext)
    from dunning.evidence import chain_hash, event_fields
    from dunning.lazy_channel import LazyChannel
    from dunning.lazy_command import LazyCommand
    from dunning.models import Action, Case, Debtor
    from dunning.money import format_minor
    from dunning.plugin_events import record_event
    from dunning.staff import StaffNotice
    from dunning.store import NotFound
    from dunning.verdicts import Verdict

# Where each public name lives. They are imported on first use (PEP 562), not with the package: a plugin's
# entry-point module does `from dunning import hookimpl`, and every command, `dunning --help` included,
# imports every plugin's entry-point module; the names behind these (the models, the store's sqlite_utils,
# email.utils) then cost only the commands that use them.
_LAZY = {
    "ActionKey": "dunning.action_key",
    "Channel": "dunning.channels",
    "Delivery": "dunning.channels",
    "DeliveryContext": "dunning.channels",
    "DeliveryStatus": "dunning.channels",
    "RuleContext": "dunning.channels",
    "RunContext": "dunning.channels",
    "StageContext": "dunning.channels",
    "chain_hash": "dunning.evidence",
    "event_fields": "dunning.evidence",
    "LazyChannel": "dunning.lazy_channel",
    "LazyCommand": "dunning.lazy_command",
    "Action": "dunning.models",
    "Case": "dunning.models",
    "Debtor": "dunning.models",
    "format_minor": "dunning.money",
    "record_event": "dunning.plugin_events",
    "StaffNotice": "dunning.staff",
    "NotFound": "dunning.store",
    "Verdict": "dunning.verdicts",
}

__all__ = [
    "Action",
    "ActionKey",
    "Case",
    "Channel",
    "Debtor",
    "Delivery",
    "DeliveryContext",
    "DeliveryStatus",
    "LazyChannel",
    "LazyCommand",
    "NotFound",
    "PluginContext",
    "RuleContext",
    "RunContext",
    "StaffNotice",
    "StageContext",
    "StoreView",
    "Verdict",
    "chain_hash",
    "event_fields",
    "format_minor",
    "hookimpl",
    "plugin_context",
    "record_event",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'dunning' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # looked up once
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
