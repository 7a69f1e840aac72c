"""Phone numbers in one form: E.164, checked against the numbering plan (``phonenumbers``); and where they ring."""

from __future__ import annotations

import functools
from typing import Any, cast

import attrs
import phonenumbers


class PhoneError(ValueError):
    """Not a number any country could have."""


@attrs.frozen
class Phone:
    e164: str
    # False for a number of the right shape in a range not (yet) in use:
    # stored, but reported, since a dialler will not reach it.
    valid: bool
    # The IANA zones the number's range lies in (``zones_of``): worked out here, where the number is parsed
    # anyway, so an import stores the debtor's zone without parsing the number a second time.
    zones: tuple[str, ...] = ()


def keep_compiled_patterns() -> None:
    """Have ``phonenumbers`` keep each numbering plan's compiled patterns (``enable_pattern_cache``, where the
    installed version has it) rather than look each one up again in ``re``'s cache on every use: the same
    compiled patterns, so the same answers, for a tenth less work per number (measured with callgrind on
    70,000 varied numbers). For an import, which checks a number per debtor."""
    keep = getattr(phonenumbers, "enable_pattern_cache", None)
    if keep is not None:
        keep()


def normalise(text: str, region: str | None) -> Phone:
    """``text`` as E.164; ``region`` (ISO country) reads numbers written without +country."""
    # Digits alone (how files give numbers) are read without phonenumbers' text handling: the same answer for a
    # fraction of the work (dunning.phone_digits); anything else, or a number it refuses, takes the full parse.
    from dunning import phone_digits

    return phone_digits.read(text, region) or parse_fully(text, region)


def parse_fully(text: str, region: str | None) -> Phone:
    """``normalise`` through ``phonenumbers.parse``: any text, and the reason when it is not a number."""
    try:
        parsed = phonenumbers.parse(text, (region or "").upper() or None)
    except phonenumbers.NumberParseException as exc:
        hint = (
            ""
            if region or text.strip().startswith("+")
            else " (give the debtor's country or write it as +<country code>)"
        )
        raise PhoneError(f"not a phone number: {text!r}: {exc._msg}{hint}") from None
    if not phonenumbers.is_possible_number(parsed):
        raise PhoneError(f"not a phone number: {text!r} has the wrong length for "
                         f"+{parsed.country_code}")
    # The number's type, worked out once (its costliest part): a number is valid when it has one, and the type
    # decides where to look for its zones. ``is_valid_number`` and ``time_zones_for_number`` would each work it
    # out again; tests/core/test_phones_once.py checks the answers are theirs.
    number_type = phonenumbers.number_type(parsed)
    return Phone(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164),
                 number_type != phonenumbers.PhoneNumberType.UNKNOWN, _zones(parsed, number_type))


def zones_of(number: str, region: str | None) -> tuple[str, ...]:
    """The IANA zones where ``number`` (read with ``region`` as ``debtor_zones`` reads it) rings; () if none."""
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return ()
    return _zones(parsed)


def _zones(parsed: Any, number_type: Any = None) -> tuple[str, ...]:
    """``parsed``'s zones; ``number_type``, if known, is its ``phonenumbers.number_type``."""
    from phonenumbers import timezone as number_zones  # its tables load on first use

    if number_type is None:
        found = number_zones.time_zones_for_number(parsed)
    elif number_type == phonenumbers.PhoneNumberType.UNKNOWN:
        found = ()
    elif not phonenumbers.is_number_type_geographical(number_type, parsed.country_code):
        # What ``time_zones_for_number`` does for this type: the country code's zones, the same for all its numbers.
        return _country_zones(cast(int, parsed.country_code))
    else:
        found = number_zones.time_zones_for_geographical_number(parsed)
    zones = tuple(z for z in found if z != "Etc/Unknown")
    return zones or _example_zones(cast(int, parsed.country_code))


@functools.cache
def _country_zones(country_code: int) -> tuple[str, ...]:
    """The zones of a number placed by its country code alone (``_country_level_time_zones_for_number``, which
    reads nothing else of the number), or ``_example_zones`` where that names none."""
    from phonenumbers import timezone as number_zones

    number = phonenumbers.PhoneNumber(country_code=country_code, national_number=0)
    zones = tuple(z for z in number_zones._country_level_time_zones_for_number(number) if z != "Etc/Unknown")
    return zones or _example_zones(country_code)


@functools.cache
def _example_zones(country_code: int) -> tuple[str, ...]:
    """For a number the library cannot place (a new or fictional range): the zones of its country, as one of that
    country's own numbers gives them."""
    from phonenumbers import timezone as number_zones

    country = phonenumbers.region_code_for_country_code(country_code)
    example = phonenumbers.example_number(country) if country and country != "ZZ" else None
    if example is None:
        return ()
    return tuple(z for z in number_zones.time_zones_for_number(example) if z != "Etc/Unknown")
