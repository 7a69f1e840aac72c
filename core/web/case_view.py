"""What the case page shows: what is owed, the evidence, contacts, promises, holds and the work list's script.

Read-only; the figures come from the same functions as ``cases show``
(``dunning.owed`` and the ledger's ``demand_figures``).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

from dunning import money
from dunning.ledger.figures import demand_figures
from dunning.owed import owed_on
from dunning.web.assignment import lists

if TYPE_CHECKING:
    from dunning.models import Case
    from dunning.runtime import Runtime

TIMELINE = 40  # the newest events shown; `dunning events --case` has them all


def _summary(data: dict[str, Any]) -> str:
    """An event's data on one line, the long lists left out."""
    shown = {k: v for k, v in data.items() if v not in (None, "", [], {}) and k not in ("allocation", "order")}
    return json.dumps(shown, ensure_ascii=False, default=str)[:300]


def case_context(rt: Runtime, case: Case, today: dt.date, now: dt.datetime) -> dict[str, Any]:
    debtor = rt.store.debtor(case.debtor_id)
    owed = owed_on(rt.store.obligations(case.id), today, case.currency)
    figures = demand_figures(rt.store.charges_owed(case.id), case.balance, case.currency)

    def shown(minor: int) -> str:
        return money.display(minor, case.currency)

    events = rt.store.events(case_id=case.id)[-TIMELINE:][::-1]
    return {
        "case": case, "debtor": debtor, "owed": owed, "figures": figures, "shown": shown,
        "items": owed.items,
        "events": [(e.at.astimezone(rt.config.zone).strftime("%Y-%m-%d %H:%M"), e.kind, e.channel or "",
                    _summary(e.data)) for e in events],
        "contacts": rt.store.contacts(case.debtor_id),
        "promises": rt.store.promises(case.id),
        "holds": rt.store.holds(case.id),
        "active_holds": rt.store.holds(case.id, active_on=today),
        "script": call_script(rt, case, today, now),
        "zone": rt.config.zone,
    }


def call_script(rt: Runtime, case: Case, today: dt.date, now: dt.datetime) -> str | None:
    """The first script an enabled work list offers for the case today (``dunning calls script CASE``'s for
    the phone channel); None without one."""
    from dunning.plugin_context import PluginContext

    ctx = PluginContext(rt, now)
    return next((text for work_list in lists(rt) if (text := work_list.script(ctx, case, today)) is not None), None)
