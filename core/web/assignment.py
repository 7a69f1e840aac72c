"""Who works which case, and each person's lists for the day, as the channels' work lists give them.

A collector works the cases one of the enabled channels' work lists gives
them (``register_work_lists``: the call list's roster, the visit areas they
cover); supervisors and admins work every case. The console asks the lists
and never imports a channel plugin, so what it shows is exactly what the
channel's own commands (``dunning calls``, ``dunning visits``) print, and
an in-house channel's list appears the same way.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import attrs

from dunning.store.users import StaffUser

if TYPE_CHECKING:
    from dunning.runtime import Runtime
    from dunning.work_lists import WorkItem, WorkList


@attrs.frozen
class Section:
    """One work list on "My day": its heading, what it says when empty, and the lines."""

    channel: str
    title: str
    empty: str
    items: tuple[WorkItem, ...]


def sees_every_case(user: StaffUser) -> bool:
    return user.role != "collector"


def lists(rt: Runtime) -> list[WorkList]:
    from dunning.work_lists import work_lists

    return work_lists(rt)


def works_case(rt: Runtime, user: StaffUser, case_id: int, now: dt.datetime) -> bool:
    if sees_every_case(user):
        return True
    from dunning.plugin_context import PluginContext

    ctx = PluginContext(rt, now)
    return any(work_list.works_case(ctx, case_id, user.name) for work_list in lists(rt))


def my_day(rt: Runtime, user: StaffUser, today: dt.date, now: dt.datetime, language: str) -> list[Section]:
    """Each enabled work list's lines for the day: the collector's own, everyone's for the others."""
    from dunning.plugin_context import PluginContext
    from dunning.work_lists import language_of

    ctx = PluginContext(rt, now)
    who = None if sees_every_case(user) else user.name
    return [Section(w.channel, language_of(w.title, language) or w.channel, language_of(w.empty, language),
                    tuple(w.items(ctx, today, who))) for w in lists(rt)]


def recorders(rt: Runtime) -> list[WorkList]:
    """The work lists that record outcomes: each gives the case page a form, in channel order."""
    return [w for w in lists(rt) if w.outcomes]


def recorder_for(rt: Runtime, channel: str | None) -> WorkList | None:
    """The list a posted outcome form belongs to (its ``channel`` field); the first one when the form names none."""
    found = recorders(rt)
    if not channel:
        return found[0] if found else None
    return next((w for w in found if w.channel == channel), None)
