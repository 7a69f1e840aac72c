"""``phones.normalise`` works a number's type out once: its validity and zones are those phonenumbers' own
``is_valid_number`` and ``time_zones_for_number`` give, number by number."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import timezone as number_zones

from dunning import phones


def _by_phonenumbers(text: str, region: str | None) -> phones.Phone:
    """What ``normalise`` gave before: each answer from its own phonenumbers call."""
    parsed = phonenumbers.parse(text, region)
    if not phonenumbers.is_possible_number(parsed):
        raise phones.PhoneError(text)
    zones = tuple(z for z in number_zones.time_zones_for_number(parsed) if z != "Etc/Unknown")
    return phones.Phone(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164),
                        phonenumbers.is_valid_number(parsed), zones or phones._zones(parsed))


def _same(text: str, region: str | None) -> None:
    try:
        expected = _by_phonenumbers(text, region)
    except (phonenumbers.NumberParseException, phones.PhoneError):
        with pytest.raises(phones.PhoneError):
            phones.normalise(text, region)
        return
    assert phones.normalise(text, region) == expected, (text, region)


# Every region's example number of every type, and the non-geographic ones (+800, +882, ...): valid numbers
# of each kind (mobile, fixed line, toll free, ...), with shared country codes (+1, +7, +44) among them.
_EXAMPLES = sorted({
    phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
    for region in phonenumbers.SUPPORTED_REGIONS for kind in range(11)
    if (example := phonenumbers.example_number_for_type(region, kind)) is not None} | {
    phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
    for code in phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS
    if (example := phonenumbers.example_number_for_non_geo_entity(code)) is not None})


def test_every_example_number_gets_the_same_answers() -> None:
    assert len(_EXAMPLES) > 900
    for text in _EXAMPLES:
        _same(text, None)


@settings(max_examples=2000, deadline=None)
@given(st.sampled_from(_EXAMPLES), st.integers(0, 4), st.text(alphabet="0123456789", min_size=0, max_size=5))
def test_example_numbers_with_other_last_digits(example: str, cut: int, tail: str) -> None:
    """Neighbours of valid numbers: some valid, some in unused ranges, some too short or too long."""
    _same(example[:len(example) - cut] + tail, None)


@settings(max_examples=1000, deadline=None)
@given(st.sampled_from(sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)), st.text(alphabet="0123456789", max_size=15),
       st.sampled_from([None, "DE", "US", "GB", "FR", "IT", "RU"]), st.booleans())
def test_random_digits_get_the_same_answers(code: int, digits: str, region: str | None, international: bool) -> None:
    _same(f"+{code}{digits}" if international else f"0{digits}", region)
