"""The field collectors' work list: open visit tasks by area, the most urgent case first in each."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import attrs

from dunning import PluginContext, money
from dunning.calendar import from_text
from dunning.models import Case
from dunning.plugins.visit import store
from dunning.plugins.visit.areas import UNKNOWN_AREA
from dunning.plugins.visit.settings import collector_for
from dunning.plugins.visit.workable import not_workable
from dunning.policy import dpd_on
from dunning.priority import CaseFacts

PAGE = 1_000  # cases read (with their priority facts) per query


@attrs.frozen
class VisitItem:
    """One open task with what a collector needs to know about its case."""

    task: store.VisitTask
    case: Case
    debtor_name: str
    dpd: int | None
    priority: float
    facts: tuple[str, ...]
    # Why the visit should not be made (resolved, on hold, with an agency,
    # moved on to another stage); None for a visit to make.
    not_workable: str | None = None

    @property
    def reason(self) -> str:
        """The step (and its script when named differently), then the facts that raised the priority."""
        step = self.task.step or "visit"
        head = step if not self.task.template or self.task.template == step else f"{step} ({self.task.template})"
        return "; ".join([head, *self.facts])

    def as_json(self) -> dict[str, Any]:
        t, c = self.task, self.case
        return {
            "task_id": t.id,
            "case_id": c.id,
            "debtor_id": c.debtor_id,
            "debtor_name": self.debtor_name,
            "address": t.address,
            "area": t.area,
            "collector": t.collector,
            "due_on": t.due_on.isoformat(),
            "step": t.step,
            "template": t.template,
            "balance": money.format_minor(c.balance, c.currency),
            "balance_minor": c.balance,
            "currency": c.currency,
            "dpd": self.dpd,
            "priority": self.priority,
            "reasons": list(self.facts),
            "reason": self.reason,
            "workable": self.not_workable is None,
            "not_workable": self.not_workable,
        }


@attrs.frozen
class AreaGroup:
    area: str
    collector: str | None
    items: tuple[VisitItem, ...]

    def as_json(self) -> dict[str, Any]:
        return {"area": self.area, "collector": self.collector, "count": len(self.items),
                "visits": [item.as_json() for item in self.items]}


def priority_order(items: Iterable[VisitItem]) -> list[VisitItem]:
    """Visits to make first, highest priority first; then the task due longest, then the lower case id."""
    return sorted(items, key=lambda i: (i.not_workable is not None, -i.priority, i.task.due_on, i.case.id, i.task.id))


def group_by_area(items: Iterable[VisitItem], collectors: dict[str, str | None] | None = None) -> list[AreaGroup]:
    """One group per area, areas in alphabetical order with the unknown area last."""
    by_area: dict[str, list[VisitItem]] = {}
    for item in items:
        by_area.setdefault(item.task.area, []).append(item)
    names = sorted(by_area, key=lambda a: (a == UNKNOWN_AREA, a.casefold(), a))
    return [AreaGroup(area, (collectors or {}).get(area), tuple(priority_order(by_area[area]))) for area in names]


def work_list(rt: PluginContext, day: dt.date, *, area: str | None = None, everything: bool = False) -> list[AreaGroup]:
    """Visits to make by ``day``, grouped by area; with ``everything``, every open task with why it is not workable.

    A visit is workable while its case is open, not on hold, not with an
    agency and in the stage that planned it (``workable.not_workable``). The
    others stay open in the plugin's table: a lifted hold or a recall brings
    them back.
    """
    tasks = store.open_tasks(rt.db, due_by=None if everything else day)
    # A task whose occurrence was superseded or dropped before it was recorded as sent is not a visit to make.
    ended = rt.store.ended_unsent(t.key for t in tasks if t.key)
    tasks = [t for t in tasks if t.key not in ended]
    if area is not None:
        wanted = area.casefold()
        tasks = [t for t in tasks if t.area.casefold() == wanted]
    settings = rt.config.settings_for("visit")
    items: list[VisitItem] = []
    # The tasks' cases and their priority facts a page at a time, not a few queries per visit.
    cases: dict[int, Case] = {}
    facts: dict[int, CaseFacts] = {}
    case_ids = sorted({t.case_id for t in tasks})
    for start in range(0, len(case_ids), PAGE):
        page = rt.store.cases_by_id(case_ids[start:start + PAGE])
        cases |= page
        facts |= rt.store.priority_facts_of(list(page.values()), day, rt.config.zone)
    for task in tasks:
        case = cases.get(task.case_id) or rt.store.case(task.case_id)
        cases[case.id] = case
        why_not = not_workable(case, rt.store.holds(case.id, active_on=day), from_text(task.created_at), day,
                               rt.config.zone)
        if why_not is not None and not everything:
            continue
        items.append(_item(rt, task, case, day, why_not, facts.get(case.id)))
    # Today's settings decide who covers an area; a task made before the
    # area had a collector keeps the one it was given, if any.
    collectors = {i.task.area: collector_for(settings, i.task.area) or i.task.collector for i in items}
    return group_by_area(items, collectors)


def _item(rt: PluginContext, task: store.VisitTask, case: Case, day: dt.date, why_not: str | None,
          facts: CaseFacts | None = None) -> VisitItem:
    if facts is None:
        facts = rt.store.priority_facts(case, day, rt.config.zone)
    priority = rt.case_priority(case, facts)
    debtor = rt.store.debtor(case.debtor_id)
    return VisitItem(task=task, case=case, debtor_name=debtor.name if debtor else case.debtor_id,
                     dpd=dpd_on(case, day), priority=float(priority) if priority is not None else 0.0,
                     facts=tuple(facts.reasons()), not_workable=why_not)
