"""dunning: a pluggable engine for collecting overdue debts.

A plugin needs only ``from dunning import hookimpl``; the channel API
(``Channel``, ``Delivery``, ``Verdict``) is re-exported here as well, and
``ActionKey`` reads and writes an action's key.
"""

import pluggy

hookimpl = pluggy.HookimplMarker("dunning")

from dunning.action_key import ActionKey  # noqa: E402
from dunning.channels import Channel, Delivery, DeliveryContext, StageContext  # noqa: E402
from dunning.plugin_events import record_event  # noqa: E402
from dunning.staff import StaffNotice  # noqa: E402
from dunning.verdicts import Verdict  # noqa: E402

__all__ = [
    "hookimpl",
    "ActionKey",
    "Channel",
    "Delivery",
    "DeliveryContext",
    "StageContext",
    "StaffNotice",
    "Verdict",
    "record_event",
]
