"""Frequency caps: how many contacts a channel may make in a day or a rolling week. Pure."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import attrs

from dunning.compliance.media import STANDARD_MEDIA
from dunning.compliance.profiles import Cap


@attrs.frozen
class Attempt:
    """One contact attempt as the rules count it (from ``contact_attempts``)."""

    at: dt.datetime
    channel: str
    contact: str | None = None
    # None until the outcome is known (a call task not yet worked).
    connected: bool | None = None
    # What kind of contact it was: a cap on a medium counts every channel of that medium.
    medium: str | None = attrs.field(
        default=attrs.Factory(lambda self: STANDARD_MEDIA.get(self.channel), takes_self=True)
    )


def _counted(cap: Cap, attempt: Attempt) -> bool:
    if cap.channel not in (attempt.channel, attempt.medium):
        return False
    if cap.count == "connected":
        return attempt.connected is True
    if cap.count == "unanswered":
        return attempt.connected is False
    return True


def period_start(cap: Cap, now: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    """Per day: the debtor's local midnight; per 7 days: exactly 7 days back (rolling)."""
    if cap.per == "day":
        local = now.astimezone(zone)
        return dt.datetime.combine(local.date(), dt.time(0, 0), tzinfo=zone).astimezone(dt.UTC)
    return now - dt.timedelta(days=cap.days)


def cap_reached(cap: Cap, attempts: Sequence[Attempt], now: dt.datetime, zone: dt.tzinfo,
                numbers: Sequence[str] = (), *, since: dt.datetime | None = None) -> bool:
    """True when one more contact would exceed the cap.

    For a per-number cap, the contact is still possible while any of the
    debtor's usable ``numbers`` is under it (the channel picks among them).
    ``since`` is ``period_start(cap, now, zone)`` when the caller has it already.
    """
    if not attempts:  # nothing counted: only a cap of no contacts at all is reached
        return cap.max <= 0
    if since is None:
        since = period_start(cap, now, zone)
    counted = [a for a in attempts if since <= a.at <= now and _counted(cap, a)]
    if cap.scope == "number" and numbers:
        return all(sum(1 for a in counted if a.contact == n) >= cap.max for n in numbers)
    return len(counted) >= cap.max


def conversation_within(attempts: Sequence[Attempt], medium: str, now: dt.datetime, days: int) -> Attempt | None:
    """The latest conversation (connected attempt) on ``medium``, or a channel of that name, in the last ``days`` days.
    """
    since = now - dt.timedelta(days=days)
    talks = [a for a in attempts if medium in (a.channel, a.medium) and a.connected is True and since <= a.at <= now]
    return max(talks, key=lambda a: a.at) if talks else None
