"""The legal rules: no litigation and no threat of suit on a time-barred debt; litigation's threshold and approval."""

from __future__ import annotations

import datetime as dt
from typing import Any

from dunning import calendar, money
from dunning.models import Action, ActionKind, Case, Stage
from dunning.plugins.legal.matters import case_limitation
from dunning.plugins.legal.settings import LegalSettings, parse_settings
from dunning.verdicts import Verdict

TIME_BARRED = "legal:time-barred"
MIN_BALANCE = "legal:min-balance"
APPROVAL = "legal:approval"


def _barred(case: Case, settings: LegalSettings, ctx: Any, now: dt.datetime) -> str | None:
    """Why the case's debt is time-barred, or None if it is not."""
    zone = ctx.config.zone
    today = calendar.local_date(now, zone)
    period, jurisdiction = case_limitation(ctx.store, ctx.db, settings, case, today, zone)
    if period is None or not period.is_barred(today):
        return None
    restart = f", counted from the {period.restarted_by} of {period.starts_on}" if period.restarted_by else ""
    return (f"the debt became time-barred on {period.barred_on} ({period.years}-year limitation in "
            f"{jurisdiction.code}{restart})")


def litigation_verdict(case: Case, to_stage: Stage, ctx: Any) -> Verdict | None:
    if to_stage is not Stage.LITIGATION:
        return None
    settings = parse_settings(ctx.config.settings_for("legal"))
    barred = _barred(case, settings, ctx, ctx.now)
    if barred is not None:
        return Verdict.block(TIME_BARRED, f"{barred}; it cannot go to litigation")
    balance = money.to_decimal(case.balance, case.currency)
    if balance < settings.min_balance:
        return Verdict.block(MIN_BALANCE, f"balance {money.format_minor(case.balance, case.currency)} is below the "
                                          f"minimum for litigation ({settings.min_balance:f})")
    if settings.litigation_requires_approval:
        return Verdict.needs_approval(APPROVAL, "going to court needs a person's approval")
    return None


def threat_verdict(action: Action, case: Case, now: dt.datetime, ctx: Any) -> Verdict | None:
    if action.kind is not ActionKind.OUTREACH or not action.template:
        return None
    settings = parse_settings(ctx.config.settings_for("legal"))
    if action.template not in settings.threatening_templates:
        return None
    barred = _barred(case, settings, ctx, now)
    if barred is None:
        return None
    return Verdict.block(TIME_BARRED, f"{barred}; no letter may threaten legal action ({action.template})")

