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

from typing import Any

import pluggy

hookimpl = pluggy.HookimplMarker("dunning")

from dunning.action_key import ActionKey  # noqa: E402
from dunning.channels import (Channel, Delivery, DeliveryContext, DeliveryStatus, RuleContext,  # noqa: E402
                              RunContext, StageContext)
from dunning.evidence import chain_hash, event_fields  # noqa: E402
from dunning.models import Action, Case, Debtor  # noqa: E402
from dunning.money import format_minor  # noqa: E402
from dunning.plugin_events import record_event  # noqa: E402
from dunning.plugin_context import PluginContext, plugin_context  # noqa: E402
from dunning.staff import StaffNotice  # noqa: E402
from dunning.store_view import StoreView  # noqa: E402
from dunning.verdicts import Verdict  # noqa: E402

__all__ = [
    "Action",
    "ActionKey",
    "Case",
    "Channel",
    "Debtor",
    "Delivery",
    "DeliveryContext",
    "DeliveryStatus",
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
    # NotFound lives with the store, whose import (sqlite_utils) waits until a command opens one.
    if name == "NotFound":
        from dunning.store import NotFound

        return NotFound
    raise AttributeError(f"module 'dunning' has no attribute {name!r}")
