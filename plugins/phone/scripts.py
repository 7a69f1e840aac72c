"""What a call script's template sees, for the channel at send time and for ``dunning calls script``.

The case's part comes from the core (``case_context`` then
``audience_context``), so a script for a third party never receives the
debt unless the step discloses it. The plugin adds only who is calling and
whom they are calling, which holds nothing about the debt.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from dunning.models import Case, Debtor
from dunning.plugins.phone.calls import CallTask, PhoneSettings
from dunning.policy import dpd_on
from dunning.templates import audience_context, case_context


def extras(settings: PhoneSettings, case_id: int, collector: str | None, number: str, contact_name: str | None,
           contact_role: str | None) -> dict[str, Any]:
    """Who calls whom; ``case_id`` too, which third parties' contexts keep and the debtor's lack."""
    return {
        "case_id": case_id,
        "caller": collector or "",
        "company": settings.company,
        "callback": settings.callback,
        "contact": {"name": contact_name or "", "role": contact_role or "debtor", "number": number},
    }


def task_extras(settings: PhoneSettings, task: CallTask, debtor: Debtor, number: str | None = None,
                collector: str | None = None) -> dict[str, Any]:
    name = task.contact_name or (debtor.name if task.audience == "debtor" else "")
    return extras(settings, task.case_id, collector or task.collector, number or task.number, name,
                  task.contact_role)


def script_context(rt: Any, case: Case, task: CallTask, today: dt.date, settings: PhoneSettings,
                   *, number: str | None = None, locale: str | None = None) -> dict[str, Any]:
    """The full context for ``task``'s script, as the channel would have rendered it on ``today``."""
    debtor = rt.store.debtor(case.debtor_id)
    base = case_context(case, debtor, rt.store.obligations(case.id), dpd_on(case, today), today,
                        {"step": task.step, "options": task.options, "sender": rt.config.notify},
                        debt_kind=rt.policy_for(case).debt_kind)
    context: dict[str, Any] = {**audience_context(base, task.audience, task.disclosure),
                               **task_extras(settings, task, debtor, number)}
    if locale:
        context["locale"] = locale
    return context


def render(rt: Any, template: str, context: Mapping[str, Any]) -> str:
    """Render ``<template>.txt`` through the phone channel's template lookup (admin folder first)."""
    return rt.render("phone", template, "txt", context)
