"""The day's visits as the browser console shows them, registered through ``register_work_lists``.

The console asks this list and never imports the plugin's modules: the
visits are ``dunning visits``'s, and a field collector works the cases whose
open visits are in an area they cover (``[channels.visit.collectors]``).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, ClassVar

from dunning.work_lists import WorkItem, WorkList

if TYPE_CHECKING:
    from collections.abc import Mapping

    from dunning import PluginContext
    from dunning.plugins.visit.queue import VisitItem


def work_item(item: VisitItem, collector: str | None) -> WorkItem:
    """A visit as a console line: the address, its area and the day it is due by."""
    from dunning import money

    task = item.task
    return WorkItem(case_id=item.case.id, debtor_name=item.debtor_name,
                    figure=money.display(item.case.balance, item.case.currency),
                    detail=f"{task.address or ''} · {task.area} · {task.due_on.isoformat()}", why=item.reason,
                    dpd=item.dpd, collector=collector)


class VisitList(WorkList):
    channel = "visit"
    title: ClassVar[Mapping[str, str]] = {"en": "Visits", "zh_CN": "外访"}
    empty: ClassVar[Mapping[str, str]] = {"en": "No visits today.", "zh_CN": "今日没有外访。"}

    def items(self, ctx: PluginContext, today: dt.date, collector: str | None) -> list[WorkItem]:
        """The day's visits (``dunning visits``) in the areas ``collector`` covers; every area without one."""
        from dunning.plugins.visit.queue import work_list

        return [work_item(item, group.collector) for group in work_list(ctx, today)
                if collector is None or group.collector == collector for item in group.items]

    def works_case(self, ctx: PluginContext, case_id: int, collector: str) -> bool:
        """The case has an open visit in an area ``collector`` covers (or was given when it was made)."""
        from dunning.plugins.visit import store
        from dunning.plugins.visit.settings import collector_for

        settings = ctx.config.settings_for("visit")
        return any((collector_for(settings, task.area) or task.collector) == collector
                   for task in store.case_tasks(ctx.db, case_id) if task.status == store.OPEN)
