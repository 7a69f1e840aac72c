"""The built-in contact rules, as a plugin: ``check_action`` and ``escalation_check``.

Every verdict names its rule (``window:phone``, ``regf_7_in_7``,
``third_party_disclosure``, ``time_barred``, ...) so the evidence shows why a
contact happened or did not. The profile is the debtor's own (chosen by
jurisdiction, see ``jurisdictions``) and a channel is bound by the rules of
its medium (see ``media``). An integrator adds rules the same way, or
turns these off with ``[plugins] disabled = ["dunning.compliance"]``.
Holds and opt-outs are enforced by the core itself (rules ``hold:<reason>``
and ``opt_out:<channel>``); see docs/compliance.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, cast

import attrs

from dunning import calendar, hookimpl
from dunning.compliance import caps, limitation, windows
from dunning.compliance.caps import Attempt
from dunning.compliance.media import medium_of
from dunning.compliance.profiles import Cap, Profile, caps_for, waits_for_working_day, window_for
from dunning.compliance.rule_memo import RoundMemo, memo_for
from dunning.verdicts import Verdict, strongest

if TYPE_CHECKING:
    from dunning.channels import RuleContext
    from dunning.config import Config
    from dunning.models import Action, Case, Contact, Debtor, Stage

# Every command registers this plugin, `dunning cases list` included: holidays, phonenumbers (for the
# debtor's time zones) and the models are imported by the rules when they run. The caps and the memo are
# light (attrs and the profiles, imported here already) and are asked about for every action.

PHONE_KINDS = ("mobile", "work", "home")
# How far back attempts are read: the longest cap period plus a day of zone slack.
LOOKBACK = dt.timedelta(days=8)


@lru_cache(maxsize=256)
def _holidays_of(country: str, year: int) -> frozenset[dt.date]:
    import holidays

    try:
        return frozenset(holidays.country_holidays(country, years=year).keys())
    except NotImplementedError:  # a country the library does not know: no public holidays assumed
        return frozenset()


def holiday_checker(country: str | None) -> Callable[[dt.date], bool]:
    if not country:
        return lambda _day: False
    return lambda day: day in _holidays_of(country.upper(), day.year)


def limitation_period(case: Case, profile: Profile, today: dt.date, ctx: RuleContext) -> limitation.Limitation | None:
    """The profile's limitation period on ``today``; None when nothing is unpaid or the profile sets none.

    Every payment and acknowledgement on record counts, not just the latest: one made after
    the debt became time-barred revives nothing, so an earlier one made in time decides.
    """
    if case.anchor_due_on is None or profile.limitation_years <= 0:
        return None
    payments = {calendar.local_date(p.at, ctx.config.zone) for p in ctx.store.payments(case.id)}
    acknowledgements = {dt.date.fromisoformat(e.data["on"])
                        for e in ctx.store.events(case_id=case.id, kind="acknowledgement") if e.data.get("on")}
    # The dates kept on the case, should one have been set without its record (an old database).
    if case.last_payment_on is not None and not payments:
        payments.add(case.last_payment_on)
    if case.last_acknowledged_on is not None:
        acknowledgements.add(case.last_acknowledged_on)
    return limitation.limitation(case.anchor_due_on, profile.limitation_years, today=today,
                                 payments=payments, acknowledgements=acknowledgements)


def _legal_decides(ctx: RuleContext) -> bool:
    """With the legal channel enabled, its per-jurisdiction limitation periods apply instead of the profile's one."""
    return "legal" in ctx.config.enabled_channels


def _local_time_verdict(channel: str, medium: str | None, profile: Profile, now: dt.datetime,
                        zones: Sequence[dt.tzinfo], debtor: Debtor) -> Verdict | None:
    window = window_for(profile, channel, medium)
    if window is not None:
        until = windows.next_allowed(now, zones, window)
        if until is not None:
            where = ", ".join(str(z) for z in zones)
            return Verdict.defer(f"window:{channel}", until, f"outside {window} in the debtor's time ({where})")
    if waits_for_working_day(profile, channel, medium):
        until = windows.next_allowed(now, zones, window, working_days_only=True, days_off=profile.days_off,
                                     is_holiday=holiday_checker(debtor.country))
        if until is not None:
            return Verdict.defer(
                f"working_days:{channel}",
                until,
                "weekend or public holiday where the debtor lives" + (f" ({debtor.country})" if debtor.country else ""),
            )
    return None


def _unreachable(attempts: Sequence[tuple[dt.datetime, str, str | None, str, bool | None]], contacts: Sequence[Contact],
                 now: dt.datetime, days: int) -> bool:
    """No conversation with the debtor for ``days`` despite trying, or no working number left."""
    from dunning.channels import usable_contacts

    if not usable_contacts(contacts, PHONE_KINDS):
        return True
    since = now - dt.timedelta(days=days)
    own = [a for a in attempts if a[3] == "debtor"]
    if any(a[4] is True and a[0] >= since for a in own):
        return False
    tried = [a for a in own if a[0] < now and a[1] in ("phone", "sms", "visit")]
    return bool(tried) and min(a[0] for a in tried) <= since


def _third_party_verdict(
    action: Action, profile: Profile, dpd: int | None, unreachable: Callable[[], bool]
) -> Verdict | None:
    disclosure = str(action.options.get("disclosure", "none"))
    rule = "third_party_disclosure"
    if disclosure == "none":
        return Verdict.block(rule, "third parties are not contacted at this level (disclosure none)")
    if disclosure == "location":
        start = profile.third_party_location_from_dpd
        if start is None or dpd is None or dpd < start:
            return Verdict.block(rule, f"location calls to third parties are allowed from {start} days past due"
                                 if start is not None else "location calls to third parties are not allowed")
        return None
    start = profile.third_party_debt_from_dpd
    if start is None:
        return Verdict.block(rule, f"profile {profile.name} never allows telling third parties of the debt")
    if dpd is None or dpd < start:
        return Verdict.block(rule, f"third parties may be told of the debt from {start} days past due")
    if not unreachable():
        return Verdict.block(rule, f"the debtor was reachable in the last {profile.unreachable_after_days} days; "
                                   "third parties may be told only when the debtor cannot be reached")
    return None


@hookimpl
def check_action(action: Action, case: Case, now: dt.datetime, ctx: RuleContext) -> Verdict | None:
    """Contact windows, days off, frequency caps, third-party disclosure and time-barred threats."""
    from dunning.models import ActionKind

    if action.kind is not ActionKind.OUTREACH or not action.channel:
        return None
    return _contact_rules(action, case, now, ctx, memo_for(ctx.config, now, ctx.media))


def _contact_rules(action: Action, case: Case, now: dt.datetime, ctx: RuleContext, memo: RoundMemo) -> Verdict:
    """``check_action`` for an outreach action, with what depends on the moment alone kept in ``memo``.

    ``memo`` holds answers that depend only on the moment, the configuration, the media and the keys
    they are kept under (never on the store), so the store is read for every action as before.
    """
    from dunning.channels import usable_contacts
    from dunning.compliance.zones import debtor_zones

    store = ctx.store
    debtor = cast("Debtor", store.debtor(case.debtor_id))  # a case always has its debtor
    contacts = store.contacts(case.debtor_id)
    zones = debtor_zones(debtor, contacts, memo.zone)
    channel = cast(str, action.channel)
    # Everything about this channel for debtors of this jurisdiction, kind and clock, looked up once.
    bound = memo.answer((debtor.country, debtor.region, debtor.kind, channel, zones),
                        lambda: _bound_rules(ctx.config, debtor, channel, zones, now, memo))
    profile, medium = bound.profile, bound.medium
    today = memo.today
    verdicts: list[Verdict] = []
    period = limitation_period(case, profile, today, ctx) \
        if action.template in profile.legal_threat_templates and not _legal_decides(ctx) else None
    if period is not None and period.is_barred(today):
        verdicts.append(Verdict.block("time_barred", f"the debt is time-barred ({profile.limitation_years}-year "
                                                     "limitation); no letter may threaten legal action"))
    if bound.timing is not None:
        verdicts.append(bound.timing)
    raw = store.attempts(case.debtor_id, now - LOOKBACK, excluding_key=action.key)
    audience = str(action.options.get("audience", "debtor"))
    if audience == "contacts":
        dpd = None if case.anchor_due_on is None else (today - case.anchor_due_on).days
        third = _third_party_verdict(action, profile, dpd,
                                     lambda: _unreachable(raw, contacts, now, profile.unreachable_after_days))
        if third is not None:
            verdicts.append(third)
    if raw or any(cap.max <= 0 for cap, _, _ in bound.caps):
        own, every = _counted_attempts(raw, memo.media, bound.counts)
        numbers = [c.value for c in usable_contacts(contacts, PHONE_KINDS, audience)] if bound.caps else []
        for cap, reason, since in bound.caps:
            if cap.scope == "debtor" and audience != "debtor":
                continue  # a call to a relative is not a call to the debtor
            if caps.cap_reached(cap, own if cap.scope == "debtor" else every, now, zones[0], numbers, since=since):
                verdicts.append(Verdict.block(cap.name, reason))
        if profile.quiet_days_after_conversation and medium == "call" and audience == "debtor":
            talk = caps.conversation_within(own, "call", now, profile.quiet_days_after_conversation)
            if talk is not None:
                verdicts.append(Verdict.block("quiet_after_conversation",
                                              f"a conversation took place on {talk.at:%Y-%m-%d}; no call within "
                                              f"{profile.quiet_days_after_conversation} days after it"))
    # One verdict goes back: the strongest of this plugin's own.
    return strongest(verdicts) or ALLOWED


@attrs.frozen
class _Bound:
    """What binds one channel for debtors of one jurisdiction, kind and set of zones, at one moment.

    Worked out once per moment (``RoundMemo``) from the configuration and the media alone.
    """

    profile: Profile
    medium: str | None
    caps: tuple[tuple[Cap, str, dt.datetime], ...]  # each cap, its reason, the start of its period
    counts: frozenset[str]  # the channels and media whose attempts the caps and the quiet days count
    timing: Verdict | None  # the contact window's or the working days' deferral, if the moment is outside


def _bound_rules(config: Config, debtor: Debtor, channel: str, zones: tuple[dt.tzinfo, ...], now: dt.datetime,
                 memo: RoundMemo) -> _Bound:
    profile = memo.answer(("profile", debtor.country, debtor.region, debtor.kind),
                          lambda: config.profile_for(debtor).profile)
    medium, channel_caps, cap_reasons, counts = _channel_rules(profile, channel, memo.media)
    return _Bound(profile=profile, medium=medium,
                  caps=tuple((cap, cap_reasons[cap], caps.period_start(cap, now, zones[0])) for cap in channel_caps),
                  counts=counts, timing=_local_time_verdict(channel, medium, profile, now, zones, debtor))


# What the rules answer when none of them stops the action (a frozen value: one serves every action).
ALLOWED = Verdict.allow("contact_rules")


def _channel_rules(profile: Profile, channel: str, media: Mapping[str, str | None]
                   ) -> tuple[str | None, tuple[Cap, ...], dict[Cap, str], frozenset[str]]:
    """What binds ``channel`` under ``profile``: its medium, its caps, each cap's reason, and the channels
    and media whose attempts those caps and the quiet days after a conversation count."""
    medium = medium_of(channel, media)
    bound = caps_for(profile, channel, medium)
    reasons = {cap: f"at most {cap.max} {cap.count} on {cap.channel} per {cap.scope} per "
                    f"{'day' if cap.per == 'day' else '7 days'}" + (f" ({cap.source})" if cap.source else "")
               for cap in bound}
    counts = {cap.channel for cap in bound} | ({"call"} if profile.quiet_days_after_conversation else set())
    return medium, bound, reasons, frozenset(counts)


def _counted_attempts(raw: Sequence[tuple[dt.datetime, str, str | None, str, bool | None]],
                      media: Mapping[str, str | None], counts: frozenset[str]) -> tuple[list[Attempt], list[Attempt]]:
    """The attempts the caps count: the debtor's own, and every one (calls to third parties included).

    Only those on a channel or medium in ``counts`` are built: no cap (nor the quiet days after a
    conversation) looks at any other.
    """
    own: list[Attempt] = []
    every: list[Attempt] = []
    for at, ch, contact, role, connected in raw:
        medium = medium_of(ch, media)
        if ch in counts or medium in counts:
            attempt = Attempt(at, ch, contact, connected, medium)
            every.append(attempt)
            if role == "debtor":
                own.append(attempt)
    return own, every


@hookimpl
def escalation_check(case: Case, from_stage: Stage, to_stage: Stage, ctx: RuleContext) -> Verdict | None:
    """No litigation on a time-barred debt."""
    from dunning.models import Stage

    if to_stage is not Stage.LITIGATION:
        return None
    profile = ctx.config.profile_for(ctx.store.debtor(case.debtor_id)).profile
    today = ctx.now.astimezone(ctx.config.zone).date()
    period = None if _legal_decides(ctx) else limitation_period(case, profile, today, ctx)
    if period is not None and period.is_barred(today):
        return Verdict.block("time_barred",
                             f"the debt became time-barred on {period.barred_on}; it cannot go to litigation")
    return None
