"""The call list, the call script and the call-outcome form as the browser console shows them.

Registered through ``register_work_lists``: the console asks this list and
never imports the plugin's modules, so what it shows is what ``dunning
calls``, ``dunning calls script`` and ``dunning calls log`` print and do.
"""

# The Chinese lines are written with full-width punctuation, which the ambiguous-character rule flags.
# ruff: noqa: RUF001

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, ClassVar

from dunning.plugins.phone import calls
from dunning.work_lists import OutcomeForm, WorkItem, WorkList

if TYPE_CHECKING:
    from collections.abc import Mapping

    from dunning import PluginContext
    from dunning.models import Case
    from dunning.plugins.phone.calls import CallRow, PhoneSettings


def _settings(ctx: PluginContext) -> PhoneSettings:
    return calls.phone_settings(ctx.config.settings_for("phone"))


def _now(ctx: PluginContext) -> dt.datetime:
    # The console hands every work list a context carrying the request's moment.
    assert ctx.now is not None, "a work list is asked with the moment (PluginContext(rt, now))"
    return ctx.now


def work_item(row: CallRow) -> WorkItem:
    """A call-list row as a console line: the number, its kind and the part of the day to call."""
    return WorkItem(case_id=row.case_id, debtor_name=row.debtor_name, figure=row.balance,
                    detail=f"{row.number} ({row.kind or '-'}) · {row.slot}", why=row.reason, dpd=row.dpd,
                    collector=row.collector, urgent=row.promise_id is not None)


class CallList(WorkList):
    channel = "phone"
    title: ClassVar[Mapping[str, str]] = {"en": "Calls", "zh_CN": "电话"}
    empty: ClassVar[Mapping[str, str]] = {"en": "No calls today.", "zh_CN": "今日没有电话任务。"}
    # The outcomes' meanings without the command's option names ("(--promise and --due)").
    outcomes: ClassVar[Mapping[str, str]] = {name: meaning.split(" (--")[0]
                                             for name, meaning in calls.OUTCOMES.items()}
    promise_outcomes = frozenset({"promise"})

    def items(self, ctx: PluginContext, today: dt.date, collector: str | None) -> list[WorkItem]:
        from dunning.plugins.phone.worklist import call_list

        return [work_item(row) for row in call_list(ctx, today, _now(ctx), _settings(ctx), collector)]

    def works_case(self, ctx: PluginContext, case_id: int, collector: str) -> bool:
        return calls.collector_for(case_id, _settings(ctx).collectors) == collector

    def script(self, ctx: PluginContext, case: Case, today: dt.date) -> str | None:
        """The script ``dunning calls script CASE`` prints; None without a call task with a script."""
        import jinja2

        from dunning.plugins.phone import scripts
        from dunning.plugins.phone.store import CallStore
        from dunning.templates import TemplateMissing

        store = CallStore(ctx.db)
        task = calls.first_task(store.open_for_case(case.id, today)) or store.latest_for_case(case.id)
        if task is None or not task.template:
            return None
        try:
            return scripts.render(ctx, task.template, scripts.script_context(ctx, case, task, today, _settings(ctx)))
        except (TemplateMissing, jinja2.UndefinedError):
            return None

    def record_outcome(self, ctx: PluginContext, case_id: int, form: OutcomeForm) -> Mapping[str, str]:
        """Record the call as ``dunning calls log`` does."""
        from dunning.plugins.phone.outcomes import record_call

        logged = record_call(ctx, case_id, form.outcome, now=_now(ctx), settings=_settings(ctx), note=form.note,
                             collector=form.collector, promise_amount=form.promise_amount, due_at=form.due_at,
                             approved_by=form.approved_by)
        parts = [f"call {logged.call.id} logged as {form.outcome}"]
        chinese = [f"电话 {logged.call.id} 已记录，结果：{form.outcome}"]
        if logged.promise_id is not None:
            parts.append(f"promise {logged.promise_id} recorded")
            chinese.append(f"还款承诺 {logged.promise_id} 已记录")
        if logged.hold_id is not None:
            parts.append(f"dispute hold {logged.hold_id} placed")
            chinese.append(f"争议暂停 {logged.hold_id} 已设置")
        return {"en": "; ".join(parts), "zh_CN": "；".join(chinese)}
