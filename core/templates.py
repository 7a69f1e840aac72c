"""Jinja2 templates for channels: the administrator's folder first, then the channel's own.

``<template>.<locale>.<suffix>`` is tried before ``<template>.<suffix>``, so
a debtor whose locale is ``zh_CN`` gets ``overdue-notice.zh_CN.txt`` where
it exists. Missing variables are errors, never blank text in a letter.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from dunning import creditor_reference, money
from dunning.ledger.figures import FIGURE_KEYS
from dunning.models import Case, Debtor, Obligation
from dunning.owed import OwedItem, owed_on


class TemplateMissing(LookupError):
    """No template file for this name, suffix and locale."""


def environment(channel_module: str | None, admin_folder: Path | None, channel_name: str) -> jinja2.Environment:
    loaders: list[jinja2.BaseLoader] = []
    if admin_folder is not None:
        loaders.append(jinja2.FileSystemLoader([str(admin_folder / channel_name), str(admin_folder)]))
    if channel_module:
        folder = _package_folder(channel_module)
        if folder is not None:
            loaders.append(jinja2.FileSystemLoader(str(folder)))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        undefined=jinja2.StrictUndefined,
        autoescape=jinja2.select_autoescape(["html", "htm", "xml"]),
        keep_trailing_newline=True,
        # Each command is its own process, so an edited template is seen by the
        # next run; checking the files on every render costs a stat() each time.
        auto_reload=False,
    )
    env.filters["money"] = lambda minor, currency: money.display(minor, currency)
    return env


@lru_cache(maxsize=64)
def _package_folder(module_name: str) -> Path | None:
    module = importlib.import_module(module_name)
    file = getattr(module, "__file__", None)
    base = Path(file).parent if file else None
    if base is None:
        return None
    folder = base / "templates"
    return folder if folder.is_dir() else None


def render(env: jinja2.Environment, template: str, suffix: str, context: Mapping[str, Any]) -> str:
    locale = context.get("locale")
    names = ([f"{template}.{locale}.{suffix}"] if locale else []) + [f"{template}.{suffix}"]
    try:
        chosen = env.select_template(names)
    except jinja2.TemplatesNotFound:
        raise TemplateMissing(f"no template {' or '.join(names)}") from None
    return chosen.render(**context)


def case_context(case: Case, debtor: Debtor, obligations: Sequence[Obligation], dpd: int | None,
                 today: dt.date, extra: Mapping[str, Any] | None = None, *,
                 debt_kind: str = "invoice") -> dict[str, Any]:
    """What every template sees about the case it speaks of, on ``today`` (the business's date).

    The three figures come from ``dunning.owed``: what is overdue, what
    falls due later and the balance, so no template has to work out which
    amount it may call overdue.
    """
    owed = owed_on(obligations, today, case.currency)
    items = [owed_item(i, case.currency) for i in owed.items]
    reference = case.creditor_reference
    return {
        "case": case,
        "debtor": debtor,
        "locale": debtor.locale,
        "today": today,
        "dpd": dpd,
        "currency": case.currency,
        "debt_kind": debt_kind,
        "balance": money.display(owed.balance, case.currency),
        "balance_minor": owed.balance,
        "overdue": money.display(owed.overdue, case.currency),
        "overdue_minor": owed.overdue,
        "not_yet_due": money.display(owed.not_yet_due, case.currency),
        "not_yet_due_minor": owed.not_yet_due,
        "obligations": items,
        "overdue_obligations": [i for i in items if i["overdue"]],
        "later_obligations": [i for i in items if not i["overdue"]],
        "next_due_on": owed.next_due_on,
        "creditor_reference": creditor_reference.printed(reference) if reference else "",
        **(extra or {}),
    }


def owed_item(item: OwedItem, currency: str) -> dict[str, Any]:
    """One open obligation for a template: its amounts as display strings, and whether it is overdue."""
    return {
        "reference": item.reference,
        "due_on": item.due_on,
        "amount": money.display(item.amount, currency),
        "open": money.display(item.open, currency),
        "open_minor": item.open,
        "overdue": item.overdue,
        "days_overdue": item.days_overdue,
    }


# What a template addressed to a third party may never see unless the step
# discloses the debt: the engine removes it, so no template can leak it.
DEBT_DETAILS = ("case", "dpd", "currency", "debt_kind", "balance", "balance_minor", "overdue", "overdue_minor",
                "not_yet_due", "not_yet_due_minor", "obligations", "overdue_obligations", "later_obligations",
                "next_due_on", "creditor_reference", "promise", "pay_link", "payments", "deadline",
                *FIGURE_KEYS)


def audience_context(context: Mapping[str, Any], audience: str, disclosure: str) -> dict[str, Any]:
    """The context as the step's audience may see it.

    The debtor sees everything. A third party (spouse, relative, employer)
    sees the debt only at ``disclosure = "debt"``; below that the template
    gets the debtor's name and the case id, and rendering any debt detail
    fails loudly (StrictUndefined) instead of printing it.
    """
    if audience in ("debtor", "attorney") or disclosure == "debt":
        return {**context, "audience": audience, "disclosure": disclosure}
    kept = {k: v for k, v in context.items() if k not in DEBT_DETAILS}
    case = context.get("case")
    kept["case_id"] = getattr(case, "id", None)
    kept["audience"], kept["disclosure"] = audience, disclosure
    return kept
