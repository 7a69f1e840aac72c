"""``phone_digits.read`` (a number written as digits alone) gives ``phones.parse_fully``'s answer, country by
country, or leaves the number to it: never a different one."""

from __future__ import annotations

import re

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dunning import phone_digits, phones


def _full(text: str, region: str | None) -> phones.Phone | None:
    try:
        return phones.parse_fully(text, region)
    except phones.PhoneError:
        return None


def _agrees(text: str, region: str | None) -> bool:
    """Whether ``read`` answered (and then with the full parse's answer, or it fails)."""
    fast = phone_digits.read(text, region)
    if fast is None:
        return False
    assert fast == _full(text, region), (text, region)
    return True


_REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)


def _written(region: str) -> list[tuple[str, str]]:
    """``region``'s example number of every type as files write them: E.164, and its national form's digits."""
    found = []
    for kind in range(11):
        example = phonenumbers.example_number_for_type(region, kind)
        if example is None:
            continue
        found.append((phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164), region))
        national = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL)
        found.append((re.sub(r"\D", "", national), region))
    return found


_EXAMPLES = [written for region in _REGIONS for written in _written(region)]


def test_every_regions_example_numbers_in_both_shapes() -> None:
    answered = sum(_agrees(text, region) for text, region in _EXAMPLES)
    # Most of them are read here (the rest: leading zeros kept, shared country codes' quirks, refusals).
    assert len(_EXAMPLES) > 1500
    assert answered > 0.8 * len(_EXAMPLES), (answered, len(_EXAMPLES))


def test_the_shapes_an_import_gives_are_read_here() -> None:
    for text, region in [("+4915112345678", "DE"), ("015112345678", "DE"), ("+493012345678", None),
                         ("2125551234", "us"), ("+12125551234", "US"), ("+447911123456", "GB"),
                         ("07911123456", "GB"), ("+33612345678", "FR"), ("0612345678", "FR")]:
        assert _agrees(text, region), (text, region)
    assert phone_digits.read("+4915112345678", None) == phones.Phone("+4915112345678", True, ("Europe/Berlin",))


@pytest.mark.parametrize(("text", "region"), [
    ("+49 151 12345678", "DE"), ("0151-12345678", "DE"), ("tel:+4915112345678", None), ("+4915112345678 x12", "DE"),
    ("015112345678", None), ("015112345678", "XX"), ("+0151", "DE"), ("+9991234567", None), ("12", "DE"),
    ("+390612345678", "IT"), ("\u0661\u0662\u0663\u0664\u0665\u0666\u0667", "EG"),
])
def test_anything_else_is_left_to_the_full_parse(text: str, region: str | None) -> None:
    assert phone_digits.read(text, region) is None
    try:  # and normalise answers as the full parse does
        normalised: phones.Phone | None = phones.normalise(text, region)
    except phones.PhoneError:
        normalised = None
    assert normalised == _full(text, region)


@settings(max_examples=3000, deadline=None)
@given(st.sampled_from(_EXAMPLES), st.integers(0, 4), st.text(alphabet="0123456789", max_size=5))
def test_neighbours_of_each_regions_numbers(written: tuple[str, str], cut: int, tail: str) -> None:
    """Other last digits, shorter and longer: numbers in use, in unused ranges, of the wrong length."""
    text, region = written
    _agrees(text[:len(text) - cut] + tail, region)


@settings(max_examples=3000, deadline=None)
@given(st.sampled_from(_REGIONS), st.sampled_from(["", "+", "0", "00", "+0", "011"]),
       st.text(alphabet="0123456789", min_size=1, max_size=18), st.booleans())
def test_random_digits_in_every_region(region: str, prefix: str, digits: str, with_region: bool) -> None:
    """Digits after a plus, a national prefix, an international prefix, with and without the debtor's country."""
    _agrees(prefix + digits, region if with_region else None)


@settings(max_examples=2000, deadline=None)
@given(st.sampled_from(sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)), st.text(alphabet="0123456789", max_size=15),
       st.sampled_from([None, *_REGIONS]))
def test_random_digits_after_every_country_code(code: int, digits: str, region: str | None) -> None:
    _agrees(f"+{code}{digits}", region)
    _agrees(f"{code}{digits}", region)  # a country code written without its plus
