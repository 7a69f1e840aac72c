"""The ``visit`` channel: a visit step becomes a task on a field collector's list, not a message."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from dunning import calendar
from dunning.channels import Delivery, DeliveryContext
from dunning.models import Action, Case
from dunning.plugins.visit import store
from dunning.plugins.visit.areas import address_lines, area_of, one_line
from dunning.plugins.visit.settings import check_settings, collector_for, setting


def script_variables(*, address: str | None, area: str, collector: str | None, due_on: dt.date,
                     settings: Mapping[str, Any]) -> dict[str, Any]:
    """What a visit script sees besides the case's own context (the same in ``send`` and on the sheet)."""
    return {
        "address": address or "",
        "address_lines": address_lines(address or ""),
        "area": area,
        "collector": collector or "",
        "visit_due_on": due_on,
        "company": setting(settings, "company"),
    }


class VisitChannel:
    """Turns each visit action into an open row of ``visit_tasks``, grouped by area.

    Nothing leaves the building: the "delivery" is the task a collector
    finds with ``dunning visits``. The row is keyed on ``ctx.key``, so a
    re-send after a crash returns the task the first attempt made.
    """

    name = "visit"
    medium = "visit"
    in_doubt = "resend"  # a visit task is stored under its action key: a re-send adds nothing
    deduplicates_by_key = True
    needs: tuple[str, ...] = ("postal",)
    # Templates live beside the package's __init__, not beside this module.
    templates_module = "dunning.plugins.visit"
    template_suffixes = ("txt",)

    def check_settings(self, settings: Mapping[str, Any]) -> None:
        check_settings(settings)

    def send(self, action: Action, case: Case, ctx: DeliveryContext) -> Delivery:
        try:
            check_settings(ctx.settings)
        except ValueError as exc:
            return Delivery.failed(f"channels.visit: {exc}", retry=False)
        postal = ctx.contacts_of("postal")
        if not postal:
            return Delivery.failed("no usable postal address to visit", retry=False)
        address = postal[0].value
        area = area_of(address, setting(ctx.settings, "area_by"), ctx.debtor.country)
        collector = collector_for(ctx.settings, area)
        today = calendar.local_date(ctx.now, ctx.config.zone) if ctx.config is not None else ctx.now.date()
        due_on = today + dt.timedelta(days=setting(ctx.settings, "due_in_days"))
        if action.template:
            # Rendered now only to prove the script exists and renders: a
            # missing template fails the action here, not on the route sheet.
            ctx.render(action.template, "txt", **script_variables(
                address=address, area=area, collector=collector, due_on=due_on, settings=ctx.settings))
        with ctx.transaction():
            task, created = store.create_task(
                ctx.db, key=ctx.key, case_id=case.id, debtor_id=case.debtor_id, action_id=action.id, address=address,
                area=area, due_on=due_on, template=action.template, step=action.step, collector=collector,
                now=ctx.now)
        ctx.log.debug("visit task " + ("created" if created else "already there"), task_id=task.id, area=task.area)
        return Delivery.sent(reference=f"visit:{task.id}", area=task.area, address=one_line(task.address),
                             collector=task.collector, due_on=task.due_on.isoformat(), task_id=task.id)
