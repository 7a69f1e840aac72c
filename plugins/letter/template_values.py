"""The engine's template variables, with their amounts and dates written in the debtor's language.

The engine hands every template its figures in its own neutral form
(``EUR 1,234.56``, dates as ``2026-06-14``). A letter prints them in the
sentences of its text, so here they are rewritten through the letter's
``Formats``: ``{{ overdue }}`` in a German letter reads ``1.234,56 €``,
``{{ next_due_on }}`` reads ``14. Juni 2026``. The ``_minor`` forms,
``today`` and ``deadline`` stay as they are, for templates that compute.

Only variables the context already has are rewritten: for a third party
who may not learn of the debt the engine has removed them, and nothing
here puts them back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from dunning.models import Obligation
from dunning.owed import owed_on
from dunning.plugins.letter.formats import Formats

_FIGURES = ("balance", "overdue", "not_yet_due")
_LISTS = ("obligations", "overdue_obligations", "later_obligations")


def written_out(context: Mapping[str, Any], obligations: Sequence[Obligation], formats: Formats,
                today: dt.date) -> dict[str, Any]:
    """The variables of ``context`` that hold amounts or dates, rewritten for the letter's language."""
    currency = context.get("currency")
    if not isinstance(currency, str):
        return {}  # no debt in this context
    owed = owed_on(obligations, today, currency)
    figures = {"balance": owed.balance, "overdue": owed.overdue, "not_yet_due": owed.not_yet_due}
    out: dict[str, Any] = {name: formats.amount(figures[name], currency) for name in _FIGURES if name in context}
    items = {i.reference: i for i in owed.items}
    for name in _LISTS:
        if name in context:
            out[name] = [_item(entry, items.get(entry.get("reference")), formats, currency) for entry in context[name]]
    if isinstance(context.get("next_due_on"), dt.date):
        out["next_due_on"] = formats.date(context["next_due_on"])
    options = context.get("options")
    if isinstance(options, Mapping) and isinstance(options.get("settlement"), Mapping):
        out["options"] = {**options, "settlement": _settlement(options["settlement"], formats, currency)}
    return out


def _settlement(offer: Mapping[str, Any], formats: Formats, currency: str) -> dict[str, Any]:
    """A settlement offer's amounts and dates (dunning offer) written out; an offer without its figures stays."""
    out = dict(offer)
    for name in ("amount", "owed", "concession"):
        if isinstance(offer.get(f"{name}_minor"), int):
            out[name] = formats.amount(offer[f"{name}_minor"], currency)
    if isinstance(offer.get("until"), str):
        out["until"] = formats.date(dt.date.fromisoformat(offer["until"]))
    out["instalments"] = [
        {**part, "amount": formats.amount(part["amount_minor"], currency) if isinstance(part.get("amount_minor"), int)
         else part.get("amount"), "due_on": formats.date(dt.date.fromisoformat(part["due_on"]))}
        for part in offer.get("instalments", ()) if isinstance(part, Mapping)]
    return out


def _item(entry: Mapping[str, Any], item: Any, formats: Formats, currency: str) -> dict[str, Any]:
    """One open obligation as the template sees it, with ``amount``, ``open`` and ``due`` written out."""
    if item is None:
        return dict(entry)
    return {**entry, "amount": formats.amount(item.amount, currency), "open": formats.amount(item.open, currency),
            "due": formats.date(item.due_on)}
