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

from dunning import money
from dunning.models import Case, Debtor, Obligation


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
    base = Path(module.__file__).parent if getattr(module, "__file__", None) else None
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
                 today: dt.date, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What every template sees about the case it speaks of."""
    open_items = [o for o in obligations if o.open_amount > 0]
    return {
        "case": case,
        "debtor": debtor,
        "locale": debtor.locale,
        "today": today,
        "dpd": dpd,
        "currency": case.currency,
        "balance": money.display(case.balance, case.currency),
        "balance_minor": case.balance,
        "obligations": [
            {
                "reference": o.reference,
                "due_on": o.due_on,
                "amount": money.display(o.amount, o.currency),
                "open": money.display(o.open_amount, o.currency),
            }
            for o in open_items
        ],
        **(extra or {}),
    }


# What a template addressed to a third party may never see unless the step
# discloses the debt: the engine removes it, so no template can leak it.
DEBT_DETAILS = ("case", "dpd", "currency", "balance", "balance_minor", "obligations", "promise", "pay_link",
                "payments", "deadline")


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
