"""The policies side by side: a table for people, a dictionary for --json, and the model stated."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs

from dunning import money
from dunning.backtest.payment_model import PaymentModel
from dunning.backtest.replay import PolicyRun


@attrs.frozen
class Backtest:
    first_day: dt.date
    days: int
    seed: int
    cases: int  # open at the start
    model: PaymentModel
    runs: tuple[PolicyRun, ...]


def _rows(bt: Backtest) -> list[tuple[str, list[str]]]:
    runs = bt.runs

    def each(get: Any) -> list[str]:
        return [str(get(r)) for r in runs]

    rows: list[tuple[str, list[str]]] = [("contacts sent", each(lambda r: sum(r.sent.values())))]
    for channel in sorted({c for r in runs for c in r.sent}):
        rows.append((f"  {channel}", each(lambda r, c=channel: r.sent.get(c, 0))))
    rows.append(("contacts blocked", each(lambda r: sum(r.blocked.values()))))
    for rule in sorted({k for r in runs for k in r.blocked}):
        rows.append((f"  by {rule}", each(lambda r, k=rule: r.blocked.get(k, 0))))
    rows.append(("held back (deferred)", each(lambda r: r.deferred)))
    rows.append(("approvals asked", each(lambda r: r.approvals_asked)))
    rows.append(("stage changes", each(lambda r: sum(r.stage_changes.values()))))
    for stage in sorted({s for r in runs for s in r.stage_changes}):
        rows.append((f"  to {stage}", each(lambda r, s=stage: r.stage_changes.get(s, 0))))
    rows.append(("all cases at the end", [""] * len(runs)))
    for stage in sorted({s for r in runs for s in r.stages_at_end}):
        rows.append((f"  {stage}", each(lambda r, s=stage: r.stages_at_end.get(s, 0))))
    for currency in sorted({x.currency for r in runs for x in r.recovery}):
        def found(r: PolicyRun, c: str = currency) -> Any:
            return next((x for x in r.recovery if x.currency == c), None)

        rows.append((f"open balance {currency}", each(lambda r, f=found, c=currency: money.display(
            f(r).balance if f(r) else 0, c))))
        rows.append((f"expected recovery {currency}", each(lambda r, f=found, c=currency: money.display(
            f(r).expected if f(r) else 0, c))))
        rows.append(("  9 draws in 10 within", each(lambda r, f=found, c=currency: (
            f"{money.format_minor(f(r).low, c, grouping=True)} - {money.format_minor(f(r).high, c, grouping=True)}"
            if f(r) else ""))))
        rows.append(("  cases expected to pay", each(lambda r, f=found: f"{f(r).paying_cases:.1f}" if f(r) else "")))
    return rows


def lines(bt: Backtest) -> list[str]:
    last = bt.first_day + dt.timedelta(days=bt.days - 1)
    out = [f"backtest: {len(bt.runs)} policies over the {bt.cases} cases open on {bt.first_day}, "
           f"{bt.first_day} to {last} ({bt.days} days), seed {bt.seed}", ""]
    rows = _rows(bt)
    names = [r.policy.rsplit("/", 1)[-1] for r in bt.runs]
    first = max(len(label) for label, _ in rows)
    widths = [max(len(name), *(len(values[i]) for _, values in rows)) for i, name in enumerate(names)]
    out.append(" " * first + "".join(f"  {name:>{w}}" for name, w in zip(names, widths, strict=True)))
    for label, values in rows:
        out.append((f"{label:<{first}}" + "".join(f"  {v:>{w}}" for v, w in zip(values, widths, strict=True))).rstrip())
    out.append("")
    out.extend(model_lines(bt.model, bt.first_day))
    return out


def model_lines(model: PaymentModel, before: dt.date) -> list[str]:
    out = [f"payment model, fitted on the {model.contacts} contacts (sent events) before {before}:",
           f"  a payment counts for the last contact on its case before it, if within {model.window_days} days;",
           "  rate = payments counted for a bucket and channel / contacts in it; a cell with fewer than",
           f"  {model.min_contacts} contacts takes its bucket's rate, a bucket with fewer the overall rate;",
           "  a case pays at most once in the replay: chance = 1 - product of (1 - rate) over its contacts;",
           f"  a payment pays {model.share:.0%} of the balance (mean of the {model.payments} payments counted; "
           "100% when none)."]
    if not model.cells:
        out.append("no contacts in the history: every rate is 0, the expected recovery is nil.")
        return out
    out.append("")
    width = max(len(c.channel) for c in model.cells)
    out.append(f"{'bucket':<12}{'channel':<{width + 2}}{'contacts':>9}{'payments':>10}{'rate':>8}")
    for c in model.cells:
        out.append(f"{c.bucket:<12}{c.channel:<{width + 2}}{c.contacts:>9}{c.paid:>10}{c.rate:>8.1%}")
    return out


def as_json(bt: Backtest) -> dict[str, Any]:
    return {
        "from": bt.first_day.isoformat(),
        "days": bt.days,
        "seed": bt.seed,
        "cases": bt.cases,
        "model": {
            "window_days": bt.model.window_days,
            "min_contacts": bt.model.min_contacts,
            "share_of_balance": round(bt.model.share, 4),
            "payments": bt.model.payments,
            "cells": [{"bucket": c.bucket, "channel": c.channel, "contacts": c.contacts, "paid": c.paid,
                       "rate": round(c.rate, 4)} for c in bt.model.cells],
        },
        "policies": [
            {
                "policy": r.policy,
                "sent": r.sent,
                "blocked": r.blocked,
                "deferred": r.deferred,
                "approvals_asked": r.approvals_asked,
                "stage_changes": r.stage_changes,
                "stages_at_end": r.stages_at_end,
                "recovery": [{"currency": x.currency, "balance": x.balance, "expected": x.expected, "low": x.low,
                              "high": x.high, "paying_cases": round(x.paying_cases, 3)} for x in r.recovery],
            }
            for r in bt.runs
        ],
    }
