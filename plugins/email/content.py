"""What the email templates see on top of the engine's case context.

The engine gives every template the case, the debtor, the balance and the
open obligations (see docs/admin.md). An email also needs the sender's
signature, the opt-out line, the pay link, a pending promise, and amounts and
dates written for the reader's language; this module adds those.

For a step addressed to third parties that does not disclose the debt, the
engine has removed the debt from the context; nothing here puts it back.
"""

from __future__ import annotations

import datetime as dt
import urllib.parse
from collections.abc import Sequence
from typing import Any

from dunning import calendar, money
from dunning.channels import DeliveryContext
from dunning.models import Case, Promise, PromiseStatus
from dunning.owed import owed_on
from dunning.plugins.email import wording
from dunning.plugins.email.settings import EmailSettings


def template_extras(case: Case, ctx: DeliveryContext, settings: EmailSettings, recipient_name: str,
                    promise_id: int | None = None) -> dict[str, Any]:
    """The variables an email template gets besides the engine's (documented in docs/channels/email.md).

    ``promise_id`` is the promise a reminder is about; without it ``promise``
    is the latest pending promise, if any.
    """
    locale = ctx.debtor.locale
    extras: dict[str, Any] = {
        "recipient_name": recipient_name,
        "sender_name": settings.sender_name or settings.sender_address,
        "sender_address": settings.sender_address,
        "reply_address": settings.reply_to or settings.sender_address,
        "signature": settings.signature or settings.sender_name or settings.sender_address,
        "opt_out": opt_out_facts(settings.unsubscribe),
    }
    if "obligations" not in ctx.template_context:
        return extras  # a third party who may not learn of the debt
    today = ctx.template_context["today"]
    owed = owed_on(ctx.obligations, today, case.currency)
    items = [
        {
            "reference": i.reference,
            "due_on": i.due_on,
            "due": wording.date(i.due_on, locale),
            "amount": wording.amount(i.amount, case.currency, locale),
            "open": wording.amount(i.open, case.currency, locale),
            "paid": wording.amount(i.paid, case.currency, locale) if i.paid else None,
            "overdue": i.overdue,
            "days_overdue": i.days_overdue,
        }
        for i in owed.items
    ]
    overdue_items = [i for i in items if i["overdue"]]
    later_items = [i for i in items if not i["overdue"]]
    dpd = ctx.dpd
    extras.update({
        "items": items,
        "overdue_items": overdue_items,
        "later_items": later_items,
        "total": wording.amount(owed.balance, case.currency, locale),
        "overdue_total": wording.amount(owed.overdue, case.currency, locale),
        "later_total": wording.amount(owed.not_yet_due, case.currency, locale),
        "today_text": wording.date(today, locale),
        # The engine's deadline for the case ("pay by ..."): an email that prints it is held to it.
        "deadline_text": wording.date(deadline_of(ctx.template_context, today), locale),
        "days_overdue": max(0, dpd) if dpd is not None else 0,
        "days_until_due": max(0, -dpd) if dpd is not None else 0,
        "earliest_due": items[0]["due"] if items else None,
        "first_overdue_due": overdue_items[0]["due"] if overdue_items else None,
        "next_due": later_items[0]["due"] if later_items else None,
        "promise": pending_promise(case, ctx, promise_id),
        "pay_link": pay_link(settings.pay_link, case, ctx.key, owed.overdue) if settings.pay_link else None,
        "charges": _charges(ctx.template_context, case.currency, locale),
        "portal_link": portal_link(case, ctx),
    })
    return extras


def portal_link(case: Case, ctx: DeliveryContext) -> str | None:
    """The link to the debtor's own page when ``[portal] base_url`` is set; never in a message to anyone else."""
    if ctx.audience != "debtor":
        return None
    from dunning.portal import links

    return links.link(ctx.config, case.id, ctx.now)


def _charges(context: Any, currency: str, locale: str | None) -> dict[str, str] | None:
    """Interest and fees on arrears, and the total with them (none before the notice of interest went out)."""
    if not context.get("has_charges"):
        return None
    return {key: wording.amount(context[f"{figure}_minor"], currency, locale)
            for key, figure in (("interest", "interest"), ("fees", "fees"), ("total", "total_due"))}


def deadline_of(context: Any, today: dt.date) -> dt.date:
    """The engine's deadline (``deadline.on`` in the context); 14 days on for a caller that gives none."""
    given = context.get("deadline")
    if isinstance(given, dict) and isinstance(given.get("on"), dt.date):
        return given["on"]
    return today + dt.timedelta(days=14)


def stated_deadline(context: Any, texts: Sequence[str], deadline_text: str | None) -> dict[str, Any]:
    """The facts for the ``sent`` event when the email's words give the deadline: the engine then keeps it."""
    given = context.get("deadline")
    if not deadline_text or not isinstance(given, dict) or not any(deadline_text in t for t in texts):
        return {}
    return {"deadline": given["on"].isoformat(), "deadline_stage": given.get("stage")}


def opt_out_facts(target: str) -> dict[str, str | None]:
    """The opt-out target for the template's line: a URL to visit, or an address to write to."""
    if target.startswith("mailto:"):
        address, _, query = target[len("mailto:"):].partition("?")
        subject = urllib.parse.parse_qs(query).get("subject", [""])[0]
        return {"url": None, "address": urllib.parse.unquote(address), "subject": subject or None, "target": target}
    return {"url": target, "address": None, "subject": None, "target": target}


def pay_link(template: str, case: Case, key: str, overdue: int | None = None) -> str:
    """The configured pay link for this case, each value URL-quoted; ``overdue`` in minor units (the balance if not
    given)."""
    values = {
        "case_id": case.id,
        "debtor_id": case.debtor_id,
        "key": key,
        "balance": money.format_minor(case.balance, case.currency),
        "overdue": money.format_minor(case.balance if overdue is None else overdue, case.currency),
        "reference": case.creditor_reference or "",
        "currency": case.currency,
    }
    return template.format(**{name: urllib.parse.quote(str(value), safe="") for name, value in values.items()})


def pending_promise(case: Case, ctx: DeliveryContext, promise_id: int | None = None) -> dict[str, Any] | None:
    """A promise not yet kept or broken (this one, or the latest), with its amount and time in the debtor's zone."""
    if ctx.store is None:
        return None
    pending: list[Promise] = [p for p in ctx.store.promises(case.id)
                              if p.status is PromiseStatus.PENDING and (promise_id is None or p.id == promise_id)]
    if not pending:
        return None
    promise = pending[-1]
    zone = calendar.zone(ctx.debtor.timezone, ctx.config.timezone)
    due_local = promise.due_at.astimezone(zone)
    locale = ctx.debtor.locale
    return {
        "amount": wording.amount(promise.amount, case.currency, locale),
        "due_at": due_local,
        "due": wording.moment(due_local, locale),
    }
