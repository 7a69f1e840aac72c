"""Who works which case, and each person's lists for the day, as the channels' own commands make them.

A collector works the cases the call list gives them (``[channels.phone]
collectors``: the case id modulo the roster picks the name, as ``dunning
calls`` does) and the cases whose open visits are in an area they cover
(``[channels.visit.collectors]``). Supervisors and admins work every case.
The lists come from the phone and visit plugins' own functions, so the
console shows exactly what ``dunning calls`` and ``dunning visits`` print.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from dunning.store.users import StaffUser

if TYPE_CHECKING:
    from dunning.runtime import Runtime


def sees_every_case(user: StaffUser) -> bool:
    return user.role != "collector"


def phone_settings(rt: Runtime) -> Any | None:
    """``[channels.phone]`` as the phone plugin reads it; None while the channel is off."""
    if "phone" not in rt.plugins.enabled:
        return None
    from dunning.plugins.phone.calls import phone_settings as read

    return read(rt.config.settings_for("phone"))


def visit_collectors(rt: Runtime, case_id: int) -> set[str]:
    """The field collectors of the case's open visits."""
    if "visit" not in rt.plugins.enabled:
        return set()
    from dunning.plugins.visit import store
    from dunning.plugins.visit.settings import collector_for

    settings = rt.config.settings_for("visit")
    return {who for task in store.case_tasks(rt.store.db, case_id) if task.status == store.OPEN
            for who in [collector_for(settings, task.area) or task.collector] if who}


def works_case(rt: Runtime, user: StaffUser, case_id: int) -> bool:
    if sees_every_case(user):
        return True
    settings = phone_settings(rt)
    if settings is not None:
        from dunning.plugins.phone.calls import collector_for

        if collector_for(case_id, settings.collectors) == user.name:
            return True
    return user.name in visit_collectors(rt, case_id)


def my_calls(rt: Runtime, user: StaffUser, today: dt.date, now: dt.datetime) -> list[Any] | None:
    """The day's call list (``dunning calls``), the collector's own part of it; None while phone is off."""
    settings = phone_settings(rt)
    if settings is None:
        return None
    from dunning.plugin_context import PluginContext
    from dunning.plugins.phone.worklist import call_list

    return call_list(PluginContext(rt, now), today, now, settings, None if sees_every_case(user) else user.name)


def my_visits(rt: Runtime, user: StaffUser, today: dt.date, now: dt.datetime) -> list[Any]:
    """The day's visits (``dunning visits``) in the areas the collector covers; every area for the others."""
    if "visit" not in rt.plugins.enabled:
        return []
    from dunning.plugin_context import PluginContext
    from dunning.plugins.visit.queue import work_list

    groups = work_list(PluginContext(rt, now), today)
    return [item for group in groups if sees_every_case(user) or group.collector == user.name
            for item in group.items]
