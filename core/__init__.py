"""dunning: a pluggable engine for collecting overdue debts.

A plugin needs only ``from dunning import hookimpl``; the channel API
(``Channel``, ``Delivery``, ``Verdict``, the contexts), the records hooks
receive (``Action``, ``Case``, ``Debtor``) and ``format_minor`` for amounts
are re-exported here as well, so a plugin imports nothing else of dunning's;
``ActionKey`` reads and writes an action's key.
"""

import pluggy

hookimpl = pluggy.HookimplMarker("dunning")

from dunning.action_key import ActionKey  # noqa: E402
from dunning.channels import (Channel, Delivery, DeliveryContext, DeliveryStatus, RuleContext,  # noqa: E402
                              RunContext, StageContext)
from dunning.models import Action, Case, Debtor  # noqa: E402
from dunning.money import format_minor  # noqa: E402
from dunning.plugin_events import record_event  # noqa: E402
from dunning.staff import StaffNotice  # noqa: E402
from dunning.verdicts import Verdict  # noqa: E402

__all__ = [
    "hookimpl",
    "ActionKey",
    "Channel",
    "Delivery",
    "DeliveryContext",
    "DeliveryStatus",
    "RuleContext",
    "RunContext",
    "StageContext",
    "StaffNotice",
    "Verdict",
    "Action",
    "Case",
    "Debtor",
    "format_minor",
    "record_event",
]
