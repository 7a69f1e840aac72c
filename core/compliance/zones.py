"""The debtor's local time zone(s): their own, else their phone number's region, else the business's.

Worked out when the debtor is imported and kept in ``debtors.zone`` (``stored_zone``): delivery and the
rules read it there instead of parsing a phone number for every action. A change to the debtor's zone or
country, or to their contacts, clears it (triggers of migration m021), and ``debtor_zones`` then works it out
from the contacts again, as it always did.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable, Sequence
from functools import lru_cache

from dunning.models import Contact, ContactKind, Debtor

_PHONES = (ContactKind.MOBILE, ContactKind.HOME, ContactKind.WORK)


@lru_cache(maxsize=4096)
def _zones_of_number(number: str, region: str | None) -> tuple[str, ...]:
    # Imported here, when a debtor's zone is looked up: its import costs more than most commands' whole work.
    from dunning import phones

    return phones.zones_of(number, region)


def debtor_zones(debtor: Debtor, contacts: Sequence[Contact], default: dt.tzinfo) -> tuple[dt.tzinfo, ...]:
    """Where the debtor's clock may be: one zone, or every zone their number's region spans."""
    if debtor.zone is not None:  # worked out already (stored_zone)
        return _named_zones(debtor.zone) or (default,)
    return _named_zones(zone_of(debtor, contacts)) or (default,)


def zone_of(debtor: Debtor, contacts: Sequence[Contact]) -> str:
    """What ``debtors.zone`` keeps for the debtor (``stored_zone``), from its own zone and its contacts."""
    # Read lazily: a debtor with a known zone of their own needs no look at their contacts.
    numbers = (c.value for c in contacts if c.kind in _PHONES and c.role == "debtor" and not c.bad)
    return stored_zone(debtor.timezone, (_zones_of_number(n, debtor.country) for n in numbers))


def stored_zone(timezone: str | None, number_zones: Iterable[tuple[str, ...]]) -> str:
    """The debtor's own zone when it is a known one, else the zones of the first of their usable numbers
    (in contact order) that has any, space-separated; "" for neither (the business's zone applies).
    ``number_zones`` is read only as far as needed (an iterable of each number's zones)."""
    if timezone and _known(timezone):
        return timezone
    for names in number_zones:
        if names:
            return " ".join(names)
    return ""


@lru_cache(maxsize=1024)
def _known(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


@lru_cache(maxsize=1024)
def _named_zones(names: str) -> tuple[dt.tzinfo, ...]:
    return tuple(zoneinfo.ZoneInfo(n) for n in names.split())
