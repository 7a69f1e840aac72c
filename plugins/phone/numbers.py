"""Which number to dial and at what time of day: pure rules, no database.

Collection practice spreads attempts over a debtor's numbers in a rough
proportion (mobile about three calls in four, work about one in eight, home
about one in twelve) and over the parts of the day, because a debtor who
never answers at ten in the morning may well answer at seven in the
evening. The choice is a hash of the action's key, so it is the same on
every re-send of one action and spread evenly over many.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from dunning import ActionKey
from dunning.compliance.slots import SLOTS as SLOT_TIMES
from dunning.compliance.slots import preference
from dunning.models import Contact

if TYPE_CHECKING:
    import phonenumbers

PHONE_KINDS: tuple[str, ...] = ("mobile", "work", "home")

# Share of attempts per kind of number; renormalised over the kinds a debtor has.
MIX: Mapping[str, float] = {"mobile": 75.0, "work": 12.0, "home": 8.0}

SLOTS: tuple[str, ...] = ("morning", "afternoon", "evening")
# Businesses are not called in the evening: nobody is at the desk.
BUSINESS_SLOTS: tuple[str, ...] = ("morning", "afternoon")

# Where a step's `at` time falls: before noon is morning, before five afternoon.
_NOON = dt.time(12, 0)
_FIVE_PM = dt.time(17, 0)


def fraction(key: str, purpose: str) -> float:
    """A number in [0, 1) fixed by ``key``; ``purpose`` keeps the draws for kind, number and slot apart."""
    digest = hashlib.sha256(f"{purpose}\x00{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def choose_number(contacts: Sequence[Contact], key: str, mix: Mapping[str, float] = MIX) -> Contact | None:
    """The number to dial for the action ``key``, drawn by ``mix`` over the kinds present.

    ``contacts`` are the usable ones (``ctx.contacts_of`` has dropped numbers
    marked bad or opted out). Kinds with no weight are never chosen; None
    when nothing is left.
    """
    by_kind: dict[str, list[Contact]] = {}
    for contact in contacts:
        kind = str(contact.kind)
        if mix.get(kind, 0) > 0:
            by_kind.setdefault(kind, []).append(contact)
    if not by_kind:
        return None
    kinds = [kind for kind in mix if kind in by_kind]
    point = fraction(key, "kind") * sum(mix[kind] for kind in kinds)
    chosen = kinds[-1]
    for kind in kinds:
        point -= mix[kind]
        if point < 0:
            chosen = kind
            break
    numbers = by_kind[chosen]
    return numbers[int(fraction(key, "number") * len(numbers))]


def slot_of(at: dt.time) -> str:
    if at < _NOON:
        return "morning"
    if at < _FIVE_PM:
        return "afternoon"
    return "evening"


def slot_for(key: str, slots: Sequence[str] = SLOTS, day: dt.date | None = None, zone: dt.tzinfo | None = None) -> str:
    """The part of the day to call in: the step's ``at`` time if it has one, else drawn from ``slots``.

    With ``day`` and ``zone`` (the debtor's) the draw leans towards the slots
    collection practice prefers (mornings; not month-end evenings), while
    still spreading attempts over the day: each slot's weight doubles per
    point of preference.
    """
    at = ActionKey.parse(key).time  # the step's own time, as planned into the key's occurrence
    if at is not None:
        return slot_of(at)
    if day is None or zone is None:
        return slots[int(fraction(key, "slot") * len(slots))]
    weights = [2.0 ** preference(dt.datetime.combine(day, SLOT_TIMES.get(s, dt.time(12)), zone)) for s in slots]
    point = fraction(key, "slot") * sum(weights)
    for slot, weight in zip(slots, weights, strict=False):
        point -= weight
        if point < 0:
            return slot
    return slots[-1]


def parse(value: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    # Imported here: the phone channel is loaded by every command that opens the runtime, most dial nothing.
    import phonenumbers

    try:
        number = phonenumbers.parse(value, (region or "").upper() or None)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_possible_number(number) else None


def e164(value: str, region: str | None = None) -> str | None:
    """``value`` as E.164 (``+447700900123``), reading a national number in ``region``; None if it is no number."""
    import phonenumbers

    number = parse(value, region)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) if number else None


def dial_form(value: str, region: str | None = None) -> str:
    """What a collector dials: E.164 where the stored form allows it, else the stored text as it is."""
    return e164(value, region) or value.strip()


def same_number(a: str, b: str, region: str | None = None) -> bool:
    """Whether two written forms are one number (``07700 900123`` in GB and ``+44 7700 900123``)."""
    return dial_form(a, region) == dial_form(b, region)
