"""What the ``[compliance]`` table may hold, as attrs classes checked by ``dunning.schema``.

Every key is optional: a key left out keeps the chosen profile's rule
(``dunning.compliance.profiles.parse_compliance`` applies the ones given).
Whether a window or cap names a known channel depends on the channels
installed, so ``parse_compliance`` checks that once the table is read.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import attrs

from dunning.schema import Invalid, must, one_of

COUNTED = ("attempts", "connected", "unanswered")
SCOPES = ("debtor", "number")
PERIODS = {"day": 1, "7d": 7}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_TIME = re.compile(r"^\d{2}:\d{2}$")

AT_LEAST_0 = must("a whole number of at least 0", lambda n: n >= 0)
NAMES = {"expects": "a list of names"}


def _from_dpd(_instance: Any, attribute: attrs.Attribute[Any], value: int | bool | None) -> None:
    # false: never; a number: from that many days past due.
    if value is None or value is False:
        return
    if value is True or value < 0:
        raise Invalid(f"{{key}} must be a whole number of at least 0, got {value!r}", attribute.name)


@attrs.frozen(kw_only=True)
class CapTable:
    """One ``[[compliance.caps]]``: at most ``max`` counted contacts per ``per`` on ``channel``."""

    name: str | None = None
    channel: str
    max: int = attrs.field(validator=AT_LEAST_0)
    per: str = attrs.field(default="day", validator=one_of(tuple(PERIODS)))
    count: str = attrs.field(default="attempts", validator=one_of(COUNTED))
    scope: str = attrs.field(default="debtor", validator=one_of(SCOPES))


def window_times(value: list[str] | bool) -> tuple[dt.time, dt.time] | None:
    """A window as written: ``["HH:MM", "HH:MM"]``, or false (or []) for none. Raises ``Invalid``."""
    if value is False or value == []:
        return None
    if (not isinstance(value, list) or len(value) != 2
            or not all(isinstance(v, str) and _TIME.match(v) for v in value)):
        raise Invalid(f'{{key}} must be ["HH:MM", "HH:MM"] or false, got {value!r}')
    try:
        start, end = dt.time.fromisoformat(value[0]), dt.time.fromisoformat(value[1])
    except ValueError:
        raise Invalid(f"{{key}} must hold times of day from 00:00 to 23:59, got {value!r}") from None
    if start >= end:
        raise Invalid("{key} must start before it ends")
    return start, end


@attrs.frozen(kw_only=True)
class ComplianceTable:
    """``[compliance]``: a profile by name, and any of its rules changed."""

    # One of dunning.compliance.profiles.PROFILES (checked there, where they are defined).
    profile: str = "default"
    # Medium or channel -> ["HH:MM", "HH:MM"], or false for no window.
    windows: dict[str, list[str] | bool] | None = attrs.field(default=None, metadata={
        "expects": 'a table of medium or channel = ["HH:MM", "HH:MM"]'})
    working_days_only: list[str] | None = attrs.field(default=None, metadata=NAMES)
    days_off: list[str] | None = attrs.field(default=None, validator=must(
        f"a list of {', '.join(WEEKDAYS)}", lambda days: all(d in WEEKDAYS for d in days)))
    caps: list[CapTable] | None = attrs.field(default=None, metadata={
        "expects": "a list of tables ([[compliance.caps]])"})
    quiet_days_after_conversation: int | None = attrs.field(default=None, validator=AT_LEAST_0)
    third_party_location_from_dpd: int | bool | None = attrs.field(default=None, validator=_from_dpd)
    third_party_debt_from_dpd: int | bool | None = attrs.field(default=None, validator=_from_dpd)
    unreachable_after_days: int | None = attrs.field(default=None, validator=AT_LEAST_0)
    third_party_at_most_once: bool | None = None
    promise_max_days: int | None = attrs.field(default=None, validator=AT_LEAST_0)
    promise_grace_minutes: int | None = attrs.field(default=None, validator=AT_LEAST_0)
    promise_reminder_minutes: int | None = attrs.field(default=None, validator=AT_LEAST_0)
    promise_reminder_channels: list[str] | None = attrs.field(default=None, metadata=NAMES)
    opt_out_confirmation_channels: list[str] | None = attrs.field(default=None, metadata=NAMES)
    breathing_space_days: int | None = attrs.field(default=None, validator=AT_LEAST_0)
    cease_permitted_templates: list[str] | None = attrs.field(default=None, metadata=NAMES)
    legal_threat_templates: list[str] | None = attrs.field(default=None, metadata=NAMES)
    limitation_years: int | None = attrs.field(default=None, validator=AT_LEAST_0)
    binds_companies: bool | None = None
    principal_first: bool | None = None
    charges_on_consumer_debts: bool | None = None
    # ISO 3166 country or subdivision -> profile name (codes and names checked by dunning.compliance.jurisdictions).
    jurisdictions: dict[str, str] = attrs.field(factory=dict, metadata={
        "expects": 'a table of CODE = "profile"'})

    def __attrs_post_init__(self) -> None:
        for channel, value in (self.windows or {}).items():
            try:
                window_times(value)
            except Invalid as exc:
                raise Invalid(exc.text, ("windows", channel)) from None
