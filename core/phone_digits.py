"""A phone number written as files give it, digits alone: ``+4915112345678``, or ``015112345678`` read with the
debtor's country.

``phonenumbers.parse`` first finds a number in free text: a leading
"Tel:", punctuation, letters for digits, RFC 3966 parameters, extensions,
each a regular expression over the text. For text that is only ASCII digits
after an optional ``+``, every one of those steps hands the text on as it
is, so this module starts where they end: it calls phonenumbers' own steps
on the digits (the country code, the national prefix, the length test, the
region of a shared country code) in parse's order, and checks the type
against the region's own patterns in ``number_type``'s order, each
pattern compiled once. The same steps on the same digits give the same
answer; tests/core/test_phone_digits.py compares every answer with
``phones.normalise``'s full parse over generated numbers per country.

Anything else, and any number phonenumbers would refuse or give a leading
zero (the message and the Italian zeros are the full parse's), is left to
``phones.normalise``: ``read`` answers None.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from phonenumbers import PhoneMetadata, PhoneNumber, PhoneNumberType
from phonenumbers import phonenumberutil as util

from dunning.phones import Phone, _zones

# ASCII digits only (``[0-9]``, not ``\d``: another script's digits take the full parse's normalising), at least
# three (fewer: not viable) and no more than an E.164 number's country code and national number can have.
_DIGITS = re.compile(r"\+?[0-9]{3,20}")
_REFUSED_LENGTHS = (util.ValidationResult.TOO_SHORT, util.ValidationResult.IS_POSSIBLE_LOCAL_ONLY,
                    util.ValidationResult.INVALID_LENGTH)
_POSSIBLE = (util.ValidationResult.IS_POSSIBLE, util.ValidationResult.IS_POSSIBLE_LOCAL_ONLY)


def read(text: str, region: str | None) -> Phone | None:
    """``phones.normalise(text, region)``'s answer when ``text`` is digits alone and phonenumbers accepts it;
    None otherwise (the full parse then answers, or says why not)."""
    if _DIGITS.fullmatch(text) is None:
        return None
    region = (region or "").upper() or None
    plus = text[0] == "+"
    if not plus and region not in util.SUPPORTED_REGIONS:
        return None  # parse needs a known region for a number without +country
    # Any: phonenumbers' stubs take a region's metadata as always there; the checks below say where it is not.
    metadata: Any = PhoneMetadata.metadata_for_region(region, None) if region is not None else None
    number = PhoneNumber()
    if plus:
        # ``_maybe_extract_country_code`` for a number after one plus: the plus dropped, the digits as they are
        # (their own normal form), the country code read from them.
        country_code, national = util._extract_country_code(text[1:])
    else:
        try:
            country_code, national = util._maybe_extract_country_code(text, metadata, False, number)
        except util.NumberParseException:
            return None
    if country_code:
        number_region = util.region_code_for_country_code(country_code)
        if number_region != region:
            metadata = PhoneMetadata.metadata_for_region_or_calling_code(country_code, number_region)
    elif plus:
        return None  # parse tries again past the plus; left to it
    else:
        national = text  # ASCII digits are their own normal form
        country_code = int(metadata.country_code)
    if metadata is None or len(national) < util._MIN_LENGTH_FOR_NSN:
        return None
    _, stripped, _ = util._maybe_strip_national_prefix_carrier_code(national, metadata)
    if util._test_number_length(stripped, metadata) not in _REFUSED_LENGTHS:
        national = stripped
    if len(national) > util._MAX_LENGTH_FOR_NSN or national[0] == "0":
        return None  # too long (refused), or a leading zero kept as such (the Italian zeros): the full parse
    number.country_code = country_code
    number.national_number = int(national)
    if not _possible(number, national):
        return None  # refused: the full parse gives the message
    number_type = _number_type(number, national)
    return Phone(f"+{country_code}{national}", number_type != PhoneNumberType.UNKNOWN, _zones(number, number_type))


def _possible(number: Any, national: str) -> bool:
    """``phonenumbers.is_possible_number`` for a number without leading zeros (so ``national`` is its national
    significant number)."""
    country_code = number.country_code
    if country_code not in util.COUNTRY_CODE_TO_REGION_CODE:
        return False
    metadata: Any = PhoneMetadata.metadata_for_region_or_calling_code(
        country_code, util.region_code_for_country_code(country_code))
    return util._test_number_length(national, metadata) in _POSSIBLE


def _number_type(number: Any, national: str) -> Any:
    """``phonenumbers.number_type`` for a number whose national significant number is ``national``."""
    region: Any = util.region_code_for_number(number)
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(number.country_code, region)
    if metadata is None:
        return PhoneNumberType.UNKNOWN
    checks = _TYPE_CHECKS.get(id(metadata))
    if checks is None or checks[0] is not metadata:
        checks = _TYPE_CHECKS[id(metadata)] = (metadata, _type_checks(metadata))
    return checks[1](national)


# A region's metadata (unhashable) -> its type checks, by identity: phonenumbers loads each region's metadata once
# and keeps it, and the entry keeps it too, so an id is never reused for another.
_TYPE_CHECKS: dict[int, tuple[Any, Callable[[str], Any]]] = {}


def _type_checks(metadata: Any) -> Callable[[str], Any]:
    """``phonenumbers._number_type_helper`` for one region's ``metadata``: its descriptions' lengths and compiled
    patterns taken once, checked in the helper's order (a region's metadata never changes once loaded).

    For each length a national number can have, only the descriptions that allow it: a description whose
    possible lengths leave it out never matches (``_is_number_matching_desc``)."""
    # The types checked before the fixed-line and mobile patterns, in number_type's order.
    special = ((PhoneNumberType.PREMIUM_RATE, metadata.premium_rate), (PhoneNumberType.TOLL_FREE, metadata.toll_free),
               (PhoneNumberType.SHARED_COST, metadata.shared_cost), (PhoneNumberType.VOIP, metadata.voip),
               (PhoneNumberType.PERSONAL_NUMBER, metadata.personal_number), (PhoneNumberType.PAGER, metadata.pager),
               (PhoneNumberType.UAN, metadata.uan), (PhoneNumberType.VOICEMAIL, metadata.voicemail))
    same_patterns = metadata.same_mobile_and_fixed_line_pattern
    by_length: dict[int, tuple[Any, ...]] = {}
    for length in range(util._MIN_LENGTH_FOR_NSN, util._MAX_LENGTH_FOR_NSN + 1):
        general = _matcher(metadata.general_desc, length)
        if general is None:
            continue  # UNKNOWN at this length
        by_length[length] = (general,
                             tuple((kind, match) for kind, desc in special
                                   if (match := _matcher(desc, length)) is not None),
                             _matcher(metadata.fixed_line, length), _matcher(metadata.mobile, length))

    def number_type(national: str) -> Any:
        checks = by_length.get(len(national))
        if checks is None:
            return PhoneNumberType.UNKNOWN
        general, special_types, fixed_line, mobile = checks
        if general(national) is None:
            return PhoneNumberType.UNKNOWN
        for kind, match in special_types:
            if match(national) is not None:
                return kind
        if fixed_line is not None and fixed_line(national) is not None:
            if same_patterns or (mobile is not None and mobile(national) is not None):
                return PhoneNumberType.FIXED_LINE_OR_MOBILE
            return PhoneNumberType.FIXED_LINE
        if not same_patterns and mobile is not None and mobile(national) is not None:
            return PhoneNumberType.MOBILE
        return PhoneNumberType.UNKNOWN

    return number_type


def _matcher(desc: Any, length: int) -> Callable[[str], Any] | None:
    """``phonenumbers._is_number_matching_desc`` for one description and national numbers of ``length`` digits:
    the compiled pattern's ``fullmatch``, or None where it never matches (no description, a length it leaves out,
    no pattern: ``_match_national_number`` refuses an empty one)."""
    if desc is None or not desc.national_number_pattern:
        return None
    if desc.possible_length and length not in desc.possible_length:
        return None
    # ``_match``: a match at the start, then the whole number; without prefix matches, the whole number alone.
    return _compiled(desc.national_number_pattern).fullmatch


_compiled = functools.lru_cache(maxsize=None)(re.compile)
