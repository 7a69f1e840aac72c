"""Compliance profiles: the contact rules an administrator picks and tunes.

A profile is data: contact windows per medium (or channel), days off, caps,
third-party disclosure, promise limits, hold lengths. ``parse_compliance``
reads the ``[compliance]`` table of ``dunning.toml`` (a ``profile`` name plus
overrides) and names the key of anything it cannot use: a typo must never
switch a rule off.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Iterable, Mapping
from typing import Any

import attrs

from dunning.compliance.media import MEDIA, STANDARD_MEDIA

COUNTED = ("attempts", "connected", "unanswered")
SCOPES = ("debtor", "number")
PERIODS = {"day": 1, "7d": 7}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class ComplianceError(ValueError):
    """A ``[compliance]`` table that cannot be used; the message names the key."""


@attrs.frozen
class Window:
    """Local times between which a channel may reach the debtor: [start, end)."""

    start: dt.time
    end: dt.time

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


@attrs.frozen
class Cap:
    """At most ``max`` counted contacts per ``per`` (day or rolling 7 days) on ``channel``.

    ``channel`` names a medium (``call``: every channel that calls) or one channel.
    """

    name: str
    channel: str
    max: int
    per: str = "day"
    count: str = "attempts"  # attempts | connected | unanswered
    scope: str = "debtor"  # debtor | number
    source: str = ""

    @property
    def days(self) -> int:
        return PERIODS[self.per]


@attrs.frozen
class Profile:
    name: str
    source: str
    # By medium or channel name (a channel's own entry wins); None: any time.
    windows: Mapping[str, Window | None] = attrs.field(factory=dict)
    # Media (or channels) that wait for a working day (weekends and public holidays).
    working_days_only: tuple[str, ...] = ()
    days_off: tuple[int, ...] = (5, 6)  # weekday numbers: Saturday, Sunday
    caps: tuple[Cap, ...] = ()
    # No call within this many days after a conversation with the debtor (0: off).
    quiet_days_after_conversation: int = 0
    # Third parties: days past due from which each disclosure level is allowed.
    third_party_location_from_dpd: int | None = 6
    third_party_debt_from_dpd: int | None = 18
    # The debtor counts as unreachable after this many days without a conversation.
    unreachable_after_days: int = 3
    third_party_at_most_once: bool = True
    promise_max_days: int = 2
    promise_grace: dt.timedelta = dt.timedelta(hours=1)
    promise_reminder_before: dt.timedelta = dt.timedelta(hours=1)
    # Media (or channels) on which an opt-out is confirmed by one last message (and only one).
    opt_out_confirmation_channels: tuple[str, ...] = ("email", "text")
    # The first of these that is enabled carries the reminder before a promise falls due.
    promise_reminder_channels: tuple[str, ...] = ("sms", "email")
    breathing_space_days: int = 60
    # Templates that may still go out under a cease-communication hold.
    cease_permitted_templates: tuple[str, ...] = ("cease-acknowledgement", "remedy-notice", "remedy-intent")
    # Templates that mention legal action: never sent on a time-barred debt.
    legal_threat_templates: tuple[str, ...] = ("lawyers-letter", "formal-demand")
    limitation_years: int = 3
    # False for rules written for consumer debts (Reg F, UK consumer credit):
    # a company debtor is then held to the fallback profile instead.
    binds_companies: bool = True
    # A payment pays principal before fees and interest ([ledger] allocation
    # otherwise): the house default for the consumer profiles, so that what a
    # person pays first reduces the debt itself.
    principal_first: bool = False
    # Whether interest and fees may be charged on a consumer's debt at all (the contract must
    # allow them as well: a rate agreed for the obligation, or a statutory rule that covers consumers).
    charges_on_consumer_debts: bool = False


def window_for(profile: Profile, channel: str, medium: str | None) -> Window | None:
    """The window that binds ``channel``: its own, else its medium's, else (no medium declared) the strictest."""
    if channel in profile.windows:
        return profile.windows[channel]
    if medium is None:
        return strictest(w for w in profile.windows.values() if w is not None)
    return profile.windows.get(medium)


def strictest(windows: Iterable[Window]) -> Window | None:
    """The hours every one of ``windows`` allows (the narrowest of them if they share none)."""
    given = list(windows)
    if not given:
        return None
    common = Window(max(w.start for w in given), min(w.end for w in given))
    if common.start < common.end:
        return common
    return min(given, key=lambda w: dt.datetime.combine(dt.date.min, w.end) - dt.datetime.combine(dt.date.min, w.start))


def waits_for_working_day(profile: Profile, channel: str, medium: str | None) -> bool:
    """Whether ``channel`` waits for a working day (a channel of no declared medium does if anything does)."""
    if medium is None:
        return bool(profile.working_days_only)
    return channel in profile.working_days_only or medium in profile.working_days_only


def caps_for(profile: Profile, channel: str, medium: str | None) -> tuple[Cap, ...]:
    """The caps that bind ``channel``: those on its name or its medium (``other`` when it declares none)."""
    keys = {channel, medium or "other"}
    return tuple(cap for cap in profile.caps if cap.channel in keys)


def _window(start: str, end: str) -> Window:
    return Window(dt.time.fromisoformat(start), dt.time.fromisoformat(end))


# The media that reach a person directly, and so have hours.
_CONTACT_MEDIA = ("call", "text", "email", "visit")

DEFAULT = Profile(
    name="default",
    source="house rules: contact from 08:00 to 21:00, at most 3 attempts a day, calls and visits on working days",
    windows={m: _window("08:00", "21:00") for m in _CONTACT_MEDIA},
    working_days_only=("call", "visit"),
    caps=tuple(Cap(f"daily_attempts:{m}", m, 3, "day", source="house rules: at most 3 attempts a day")
               for m in ("call", "text", "email", "other")),
)

US_REGF = Profile(
    name="us-regf",
    source="US Regulation F, 12 CFR 1006",
    windows={m: _window("08:00", "21:00") for m in _CONTACT_MEDIA},
    working_days_only=(),
    caps=(Cap("regf_7_in_7", "call", 7, "7d", source="12 CFR 1006.14(b)(2)(i): more than 7 calls in 7 days"),),
    quiet_days_after_conversation=7,
    third_party_location_from_dpd=0,
    third_party_debt_from_dpd=None,  # 1006.10: location calls never mention the debt
    breathing_space_days=0,
    binds_companies=False,  # 1006.2(e): a consumer's debt, for personal, family or household purposes
    principal_first=True,
)

CN = Profile(
    name="cn",
    source="China: 2024 collection industry guideline; 2026 banking guideline (as reported)",
    windows={m: _window("08:00", "22:00") for m in _CONTACT_MEDIA},
    working_days_only=(),
    caps=(
        Cap("cn_connected_calls", "call", 3, "day", count="connected", source="at most 3 connected voice calls a day"),
        Cap("cn_unanswered_per_number", "call", 6, "day", count="unanswered", scope="number",
            source="at most 6 unanswered attempts a day on one number"),
    ),
    breathing_space_days=0,
)

UK = Profile(
    name="uk",
    source="UK FCA CONC 7; Debt Respite Scheme (Breathing Space) Regulations 2020",
    windows={m: _window("08:00", "21:00") for m in _CONTACT_MEDIA},
    working_days_only=("call", "visit"),
    caps=DEFAULT.caps,
    third_party_location_from_dpd=0,
    third_party_debt_from_dpd=None,  # CONC 7.3: no disclosure to third parties
    breathing_space_days=60,
    binds_companies=False,  # CONC and the Breathing Space scheme protect individuals
    principal_first=True,
)

PROFILES: Mapping[str, Profile] = {p.name: p for p in (DEFAULT, US_REGF, CN, UK)}

_KEYS = {
    "profile", "windows", "working_days_only", "days_off", "caps", "quiet_days_after_conversation",
    "third_party_location_from_dpd", "third_party_debt_from_dpd", "unreachable_after_days",
    "third_party_at_most_once", "promise_max_days", "promise_grace_minutes", "promise_reminder_minutes",
    "promise_reminder_channels", "opt_out_confirmation_channels",
    "breathing_space_days", "cease_permitted_templates", "legal_threat_templates", "limitation_years",
    "binds_companies", "jurisdictions", "principal_first", "charges_on_consumer_debts",
}
_CAP_KEYS = {"name", "channel", "max", "per", "count", "scope"}
_TIME = re.compile(r"^\d{2}:\d{2}$")


def parse_compliance(
    table: Mapping[str, Any], source: str, channels: Collection[str] = tuple(STANDARD_MEDIA)
) -> Profile:
    """The profile named in ``table`` (default ``"default"``) with the table's overrides applied.

    ``channels`` are the channel names a window, cap or list may name
    besides the media; anything else is a typo and an error, never ignored.
    (``jurisdictions`` is read by ``dunning.compliance.jurisdictions``.)
    """

    def fail(key: str, message: str) -> ComplianceError:
        return ComplianceError(f"{source}: 'compliance.{key}' {message}")

    def known(key: str, name: Any, *, media: bool = True) -> None:
        if isinstance(name, str) and (name in channels or (media and name in MEDIA)):
            return
        allowed = (f"a medium ({', '.join(MEDIA)}) or " if media else "") + f"a channel ({', '.join(sorted(channels))})"
        raise fail(key, f"must name {allowed}, got {name!r}")

    for key in table:
        if key not in _KEYS:
            raise fail(key, f"is not a known key (allowed: {', '.join(sorted(_KEYS))})")
    name = table.get("profile", "default")
    if name not in PROFILES:
        raise fail("profile", f"must be one of {', '.join(PROFILES)}, got {name!r}")
    profile = PROFILES[name]
    changes: dict[str, Any] = {}
    if "windows" in table:
        windows = dict(profile.windows)
        if not isinstance(table["windows"], dict):
            raise fail("windows", "must be a table of medium or channel = [\"HH:MM\", \"HH:MM\"]")
        for channel, value in table["windows"].items():
            known(f"windows.{channel}", channel)
            if value is False or value == []:
                windows[channel] = None  # no window: any time
                continue
            if (not isinstance(value, list) or len(value) != 2
                    or not all(isinstance(v, str) and _TIME.match(v) for v in value)):
                raise fail(f"windows.{channel}", f"must be [\"HH:MM\", \"HH:MM\"] or false, got {value!r}")
            try:
                window = _window(*value)
            except ValueError:
                raise fail(f"windows.{channel}", f"must hold times of day from 00:00 to 23:59, got {value!r}") from None
            if window.start >= window.end:
                raise fail(f"windows.{channel}", "must start before it ends")
            windows[channel] = window
        changes["windows"] = windows
    for key in ("working_days_only", "cease_permitted_templates", "legal_threat_templates", "promise_reminder_channels",
                "opt_out_confirmation_channels"):
        if key in table:
            value = table[key]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise fail(key, "must be a list of names")
            if key in ("working_days_only", "opt_out_confirmation_channels"):
                for i, item in enumerate(value):
                    known(f"{key}[{i}]", item)
            elif key == "promise_reminder_channels":
                for i, item in enumerate(value):
                    known(f"{key}[{i}]", item, media=False)
            changes[key] = tuple(value)
    if "days_off" in table:
        value = table["days_off"]
        if not isinstance(value, list) or not all(v in WEEKDAYS for v in value):
            raise fail("days_off", f"must be a list of {', '.join(WEEKDAYS)}")
        changes["days_off"] = tuple(WEEKDAYS.index(v) for v in value)
    for key in ("quiet_days_after_conversation", "unreachable_after_days", "promise_max_days",
                "breathing_space_days", "limitation_years"):
        if key in table:
            changes[key] = _non_negative(table[key], key, fail)
    for key in ("third_party_location_from_dpd", "third_party_debt_from_dpd"):
        if key in table:
            value = table[key]
            changes[key] = None if value is False else _non_negative(value, key, fail)
    for key in ("third_party_at_most_once", "binds_companies", "principal_first", "charges_on_consumer_debts"):
        if key in table:
            if not isinstance(table[key], bool):
                raise fail(key, "must be true or false")
            changes[key] = table[key]
    if "promise_grace_minutes" in table:
        changes["promise_grace"] = dt.timedelta(
            minutes=_non_negative(table["promise_grace_minutes"], "promise_grace_minutes", fail)
        )
    if "promise_reminder_minutes" in table:
        changes["promise_reminder_before"] = dt.timedelta(
            minutes=_non_negative(table["promise_reminder_minutes"], "promise_reminder_minutes", fail))
    if "caps" in table:
        parsed = tuple(_cap(raw, i, fail) for i, raw in enumerate(_list_of_tables(table["caps"], fail)))
        for i, cap in enumerate(parsed):
            known(f"caps[{i}].channel", cap.channel)
        changes["caps"] = parsed
    return attrs.evolve(profile, **changes) if changes else profile


def _list_of_tables(value: Any, fail: Any) -> list[Mapping[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise fail("caps", "must be a list of tables ([[compliance.caps]])")
    return value


def _cap(raw: Mapping[str, Any], index: int, fail: Any) -> Cap:
    where = f"caps[{index}]"
    for key in raw:
        if key not in _CAP_KEYS:
            raise fail(f"{where}.{key}", f"is not a known key (allowed: {', '.join(sorted(_CAP_KEYS))})")
    for key in ("channel", "max"):
        if key not in raw:
            raise fail(f"{where}.{key}", "is required")
    per, count, scope = raw.get("per", "day"), raw.get("count", "attempts"), raw.get("scope", "debtor")
    if per not in PERIODS:
        raise fail(f"{where}.per", f"must be one of {', '.join(PERIODS)}, got {per!r}")
    if count not in COUNTED:
        raise fail(f"{where}.count", f"must be one of {', '.join(COUNTED)}, got {count!r}")
    if scope not in SCOPES:
        raise fail(f"{where}.scope", f"must be one of {', '.join(SCOPES)}, got {scope!r}")
    maximum = _non_negative(raw["max"], f"{where}.max", fail)
    channel = raw["channel"]
    return Cap(raw.get("name") or f"cap:{channel}:{count}:{maximum}/{per}", channel, maximum, per, count, scope,
               source="dunning.toml")


def _non_negative(value: Any, key: str, fail: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise fail(key, f"must be a whole number of at least 0, got {value!r}")
    return value
