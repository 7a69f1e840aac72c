"""The printable route sheet: one area's visits in order, each with its script and boxes to tick."""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Sequence

from dunning import PluginContext, money
from dunning.owed import owed_on
from dunning.plugins.visit.areas import address_lines
from dunning.plugins.visit.channel import script_variables
from dunning.plugins.visit.queue import AreaGroup, VisitItem
from dunning.plugins.visit.settings import collector_for
from dunning.templates import TemplateMissing, audience_context, case_context

WIDTH = 80
RULE = "-" * WIDTH
INDENT = " " * 3
LABEL = 11  # the width of "Address:" and its padding, so that values line up


def route_sheets(rt: PluginContext, groups: Sequence[AreaGroup], day: dt.date) -> str:
    """Every area's sheet, each starting on a new page (a form feed between them)."""
    return "\f".join(route_sheet(rt, group, day) for group in groups)


def route_sheet(rt: PluginContext, group: AreaGroup, day: dt.date) -> str:
    head = f"VISIT ROUTE SHEET  area {group.area}"
    if group.collector:
        head += f"  collector {group.collector}"
    lines = [head, f"visits due by {day.isoformat()}: {len(group.items)}", "=" * WIDTH, ""]
    for number, item in enumerate(group.items, start=1):
        lines += _visit(rt, number, item, day)
    lines += ["Record each visit the same day:",
              "  dunning visits log CASE --outcome met|not_found|moved|refused|promise|paid [--closed] [--note TEXT]",
              ""]
    return "\n".join(lines)


def _visit(rt: PluginContext, number: int, item: VisitItem, day: dt.date) -> list[str]:
    case, task = item.case, item.task
    lines = [f"{number}. {item.debtor_name}  (case {case.id}, debtor {case.debtor_id})  priority {item.priority:g}"]
    address = address_lines(task.address or "") or ["(no address)"]
    lines.append(_field("Address:", address[0]))
    lines += [" " * (len(INDENT) + LABEL) + line for line in address[1:]]
    dpd = f", {item.dpd} days past due" if item.dpd is not None else ""
    owed = owed_on(rt.store.obligations(case.id), day, case.currency)
    lines.append(_field("Overdue:", f"{money.display(owed.overdue, case.currency)}{dpd}"))
    if owed.later_items:
        lines.append(_field("Due later:", f"{money.display(owed.not_yet_due, case.currency)}, not yet due"))
    for i in owed.items:
        state = f"overdue {i.days_overdue} days" if i.overdue else "not yet due"
        lines.append(_field("Item:", f"{i.reference} due {i.due_on.isoformat()}, open "
                                     f"{money.display(i.open, case.currency)}, {state}"))
    lines.append(_field("Why:", item.reason))
    lines.append(_field("Task:", f"{task.id}, due {task.due_on.isoformat()}"))
    lines += ["", INDENT + "Script", INDENT + "------"]
    lines += [(INDENT + line).rstrip() for line in _script(rt, item, day).splitlines()]
    lines += [
        "",
        INDENT + "Outcome:  [ ] met  [ ] not found  [ ] moved  [ ] refused  [ ] promise  [ ] paid",
        INDENT + "Premises: [ ] open  [ ] closed (shutters down, equipment gone)  [ ] moved out",
        INDENT + "Collected: ____________   Promised: ____________ by ____________",
        INDENT + "Visit notice left: [ ]   Time of visit: ________",
        INDENT + "Notes: " + "_" * (WIDTH - len(INDENT) - 7),
        INDENT + "       " + "_" * (WIDTH - len(INDENT) - 7),
        RULE,
        "",
    ]
    return lines


def _field(label: str, value: str) -> str:
    wrapped = textwrap.wrap(value, WIDTH - len(INDENT) - LABEL) or [""]
    first = INDENT + label.ljust(LABEL) + wrapped[0]
    return "\n".join([first] + [" " * (len(INDENT) + LABEL) + more for more in wrapped[1:]])


def _script(rt: PluginContext, item: VisitItem, day: dt.date) -> str:
    """The task's template rendered for the case as it is today, in the debtor's language."""
    task, case = item.task, item.case
    if not task.template or "visit" not in rt.channels:
        return "(no script for this visit)"
    debtor = rt.store.debtor(case.debtor_id)
    assert debtor is not None
    settings = rt.config.settings_for("visit")
    context = audience_context(
        case_context(case, debtor, rt.store.obligations(case.id), item.dpd, day,
                     {"step": task.step, "options": {}, "sender": rt.config.notify},
                     debt_kind=rt.policy_for(case).debt_kind),
        "debtor", "none")
    collector = collector_for(settings, task.area) or task.collector
    extra = script_variables(address=task.address, area=task.area, collector=collector,
                             due_on=task.due_on, settings=settings)
    try:
        return rt.render("visit", task.template, "txt", {**context, **extra})
    except TemplateMissing as exc:
        return f"(script unavailable: {exc})"

