"""Phone numbers in one form: E.164, checked against the numbering plan (``phonenumbers``)."""

from __future__ import annotations

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


def normalise(text: str, region: str | None) -> Phone:
    """``text`` as E.164; ``region`` (ISO country) reads numbers written without +country."""
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
    return Phone(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164),
                 phonenumbers.is_valid_number(parsed))
