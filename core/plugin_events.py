"""Evidence a plugin records itself: a delivery receipt, a callback, a CRM reply.

Kinds are namespaced by the plugin (``whatsapp:delivered``) so they never
pass for the core's own. The events join the same hash chain as every
other; inside a transaction they commit (or roll back) with it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from dunning import calendar
from dunning.models import Event
from dunning.plugin_context import runtime_of


def namespaced(namespace: str, kind: str) -> str:
    """``kind`` under ``namespace``: ``delivered`` -> ``whatsapp:delivered``; ``whatsapp:delivered`` stays."""
    if kind.startswith(f"{namespace}:"):
        kind = kind[len(namespace) + 1:]
    if not kind or ":" in kind or not kind.replace("_", "").replace("-", "").isalnum():
        raise ValueError(f"event kind {kind!r}: use letters, digits, '_' or '-' (it is recorded as "
                         f"'{namespace}:<kind>')")
    return f"{namespace}:{kind}"


def record_event(rt: Any, plugin: str, kind: str, data: Mapping[str, Any] | None = None, *,
                 case_id: int | None = None, now: dt.datetime | None = None, channel: str | None = None) -> Event:
    """Append ``<plugin>:<kind>`` with ``data`` to the evidence log, for plugin commands.

    ``rt`` is the command's ``PluginContext`` (``dunning.plugin_context()``)
    or the core's runtime. Inside the caller's transaction
    (``ctx.transaction()``) when there is one, else in a transaction of its
    own. Returns the event as stored (with its ``seq`` and ``hash``).
    """
    rt = runtime_of(rt)
    moment = now or calendar.utc_now()
    case = rt.store.case(case_id) if case_id is not None else None
    event = rt.event(namespaced(plugin, kind), case, moment, channel=channel, data=dict(data or {}))
    with rt.store.transaction():
        return rt.store.append_events([event])[0]
