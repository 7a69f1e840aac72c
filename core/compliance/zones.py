"""The debtor's local time zone(s): their own, else their phone number's region, else the business's."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Sequence
from functools import lru_cache
from typing import cast

from dunning.models import Contact, ContactKind, Debtor

_PHONES = (ContactKind.MOBILE, ContactKind.HOME, ContactKind.WORK)


@lru_cache(maxsize=4096)
def _zones_of_number(number: str, region: str | None) -> tuple[str, ...]:
    # Imported here, when a debtor's zone is looked up: its import costs more than most commands' whole work.
    import phonenumbers
    from phonenumbers import timezone as number_zones

    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return ()
    zones = tuple(z for z in number_zones.time_zones_for_number(parsed) if z != "Etc/Unknown")
    if zones:
        return zones
    # A number the library cannot place (a new or fictional range): the
    # zones of its country, as one of that country's own numbers gives them.
    # A parsed number always has its country code.
    country = phonenumbers.region_code_for_country_code(cast(int, parsed.country_code))
    example = phonenumbers.example_number(country) if country and country != "ZZ" else None
    if example is None:
        return ()
    return tuple(z for z in number_zones.time_zones_for_number(example) if z != "Etc/Unknown")


def debtor_zones(debtor: Debtor, contacts: Sequence[Contact], default: dt.tzinfo) -> tuple[dt.tzinfo, ...]:
    """Where the debtor's clock may be: one zone, or every zone their number's region spans."""
    if debtor.timezone:
        try:
            return (zoneinfo.ZoneInfo(debtor.timezone),)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
    for contact in contacts:
        if contact.kind in _PHONES and contact.role == "debtor" and not contact.bad:
            names = _zones_of_number(contact.value, debtor.country)
            if names:
                return tuple(zoneinfo.ZoneInfo(n) for n in names)
    return (default,)
