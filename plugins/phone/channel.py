"""The ``phone`` channel: each action becomes a task on a collector's call list.

Nothing is dialled here. ``send`` picks the number and the part of the day,
assigns the case's collector, checks that the call script renders, and
writes the task under the action's key; ``dunning calls`` shows the list
and ``dunning calls log`` records what came of each call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dunning import Delivery, DeliveryContext
from dunning.calendar import local_date
from dunning.models import Action, Case
from dunning.plugins.phone import numbers, scripts
from dunning.plugins.phone.calls import CallTask, collector_for, phone_settings
from dunning.plugins.phone.store import CallStore


class PhoneChannel:
    """Call tasks for human collectors."""

    name = "phone"
    in_doubt = "resend"  # a call task is stored under its action key: a re-send adds nothing
    deduplicates_by_key = True
    medium = "call"  # calls: the call window, the call caps (7-in-7, 3 connected a day)
    needs: tuple[str, ...] = numbers.PHONE_KINDS
    templates_module = "dunning.plugins.phone"
    template_suffixes = ("txt",)

    def check_settings(self, settings: Mapping[str, Any]) -> None:
        phone_settings(settings)

    def send(self, action: Action, case: Case, ctx: DeliveryContext) -> Delivery:
        try:
            settings = phone_settings(ctx.settings)
        except ValueError as exc:
            return Delivery.failed(f"channels.phone: {exc}", retry=False)
        audience = ctx.audience
        contact = numbers.choose_number(ctx.contacts_of(*self.needs), ctx.key, settings.mix)
        if contact is None:
            # The core checked that a number exists; the mix may give its kind no weight.
            return Delivery.failed(f"no number of a kind the mix allows ({_weighted(settings.mix)})", retry=False)
        number = numbers.dial_form(contact.value, ctx.debtor.country)
        from dunning.compliance.zones import debtor_zones

        zone = debtor_zones(ctx.debtor, ctx.contacts, ctx.config.zone)[0]
        collector = collector_for(case.id, settings.collectors)
        contact_name = contact.name or (ctx.debtor.name if audience == "debtor" else None)
        if action.template:
            # The script is rendered again when the collector asks for it; rendering
            # now finds a missing template, or one that would tell a third party
            # about the debt, before the task reaches anybody's list.
            ctx.render(action.template, "txt",
                       **scripts.extras(settings, case.id, collector, number, contact_name, contact.role.value))
        task = CallTask(
            key=ctx.key, case_id=case.id, debtor_id=ctx.debtor.id, due_on=local_date(ctx.now, ctx.config.zone),
            number=number, slot=numbers.slot_for(ctx.key, settings.slots_for(ctx.debtor.kind),
                                                 local_date(ctx.now, zone), zone),
            contact_id=contact.id, number_kind=contact.kind.value, contact_name=contact.name,
            contact_role=contact.role.value, template=action.template, step=action.step, audience=audience,
            disclosure=str(action.options.get("disclosure", "none")), collector=collector,
        )
        with ctx.transaction():
            stored = CallStore(ctx.db).add_task(task, ctx.now)
        return Delivery.sent(
            # `contact` is the number as stored: the core counts the attempt against it.
            reference=f"call:{stored.id}", contact=contact.value, number=stored.number,
            number_kind=stored.number_kind, slot=stored.slot,
            collector=stored.collector, due_on=stored.due_on.isoformat(),
        )


def _weighted(mix: Mapping[str, float]) -> str:
    return ", ".join(kind for kind, weight in mix.items() if weight > 0)
