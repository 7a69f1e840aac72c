"""Which area a postal address belongs to, so that visits can be grouped into routes: pure rules.

A debtor's postal contact is free text. Its lines are separated by newlines
or by ", " (a comma and a space, as a one-line address is usually written;
a comma alone is kept, because "12,5" can be part of a house number).

``area_by = "postal_district"`` (the default) finds the postal code and keeps
the part of it that names a district:

- a UK postcode ("SW1A 1AA") gives its outward code, ``SW1A``;
- a 6-digit code (China: "100022") gives its first 4 digits, ``1000``;
- a 5-digit code (Germany, France and most of Europe: "10117", "75008")
  gives its first 3 digits, ``101`` or ``750``.

Numeric districts are prefixed with the debtor's country when it is known
(``DE-101``, ``FR-750``, ``CN-1000``): the same digits name different
places in different countries, and one collector must not be sent to both.
An address without a recognisable code falls back to its city.

``area_by = "city"`` groups by the city: the text beside the postal code
("10117 Berlin", "London SW1A 1AA"), the line before a code that stands on
its own line, for Chinese addresses the name ending in 市, and otherwise the
last line without digits that is not a country.

An address nothing can be found in belongs to ``UNKNOWN_AREA``.
"""

from __future__ import annotations

import re
from typing import Literal

AreaBy = Literal["postal_district", "city"]
AREA_BY: tuple[str, ...] = ("postal_district", "city")
UNKNOWN_AREA = "unknown area"

# Outward code (area letters, district digit, optional letter or digit), then
# the inward code (a digit and two letters). Both halves are required, so
# "Flat 2B" or "Unit 4" is never taken for a postcode.
_UK = re.compile(r"(?<![A-Z0-9])([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][A-Z]{2})(?![A-Z0-9])", re.IGNORECASE)
_SIX = re.compile(r"(?<![0-9])([0-9]{6})(?![0-9])")
_FIVE = re.compile(r"(?<![0-9])([0-9]{5})(?![0-9])")
# A prefecture-level city, after an optional province or autonomous region:
# "广东省广州市天河区..." -> 广州市, "北京市朝阳区..." -> 北京市.
_CN_CITY = re.compile(r"(?:[\u4e00-\u9fff]{2,}?(?:省|自治区))?([\u4e00-\u9fff]{2,}?市)")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_LINE_BREAK = re.compile(r"\s*(?:\r?\n|, |，)\s*")  # noqa: RUF001  the full-width comma splits Chinese addresses

# Countries a one-line address often ends with; never taken for a city.
_COUNTRY_NAMES = frozenset(
    name.casefold()
    for name in ("United Kingdom", "UK", "Great Britain", "England", "Scotland", "Wales", "Northern Ireland",
                 "Germany", "Deutschland", "France", "China", "PRC", "People's Republic of China", "中国",
                 "中华人民共和国", "Austria", "Österreich", "Switzerland", "Schweiz", "Suisse", "Italy", "Italia",
                 "Spain", "España", "Netherlands", "Nederland", "Belgium", "USA", "United States")
)
_COUNTRY_ALIASES = {"UK": "GB"}


def address_lines(address: str) -> list[str]:
    """The address's lines, stripped, empty ones left out."""
    return [line for line in (part.strip() for part in _LINE_BREAK.split(address or "")) if line]


def one_line(address: str | None) -> str:
    """The address on one line, as evidence events and listings show it."""
    return ", ".join(address_lines(address or ""))


def postal_district(address: str, country: str | None = None) -> str | None:
    """The district part of the address's postal code (see the module's docstring), or None."""
    country = _country(country)
    text = "\n".join(address_lines(address))
    # With a known country only its own format counts; otherwise the UK
    # format (letters and digits, hard to mistake) is tried first.
    if country in (None, "GB"):
        uk = _last(_UK, text)
        if uk is not None:
            return uk.group(1).upper()
        if country == "GB":
            return None
    for pattern, keep, countries in ((_SIX, 4, ("CN",)), (_FIVE, 3, ("DE", "FR"))):
        if country is not None and country in ("CN", "DE", "FR") and country not in countries:
            continue
        found = _last(pattern, text)
        if found is not None:
            digits = found.group(1)[:keep]
            return f"{country}-{digits}" if country else digits
    return None


def city(address: str, country: str | None = None) -> str | None:
    """The city the address names (see the module's docstring), or None."""
    lines = address_lines(address)
    if not lines:
        return None
    if any(_CJK.search(line) for line in lines):
        for line in lines:
            found = _CN_CITY.search(line)
            if found:
                return found.group(1)
    country = _country(country)
    for index in range(len(lines) - 1, -1, -1):
        line = lines[index]
        code = _code_in(line, country)
        if code is None:
            continue
        beside = _clean(line[:code.start()] + " " + line[code.end():])
        if beside and not _is_country(beside):
            return _normalise(beside)
        before = [candidate for candidate in lines[:index] if not _is_country(candidate)]
        if before and not any(ch.isdigit() for ch in before[-1]):
            return _normalise(before[-1])
        return None
    for line in reversed(lines[1:] if len(lines) > 1 else lines):
        if not _is_country(line) and not any(ch.isdigit() for ch in line):
            return _normalise(line)
    return None


def area_of(address: str, by: str = "postal_district", country: str | None = None) -> str:
    """The area a visit to ``address`` is grouped under; ``UNKNOWN_AREA`` when nothing is found."""
    if by not in AREA_BY:
        raise ValueError(f"area_by must be one of {', '.join(AREA_BY)}, got {by!r}")
    if by == "postal_district":
        found = postal_district(address, country) or city(address, country)
    else:
        found = city(address, country)
    return found or UNKNOWN_AREA


# --- helpers -------------------------------------------------------------------


def _country(country: str | None) -> str | None:
    if not country or not country.strip():
        return None
    code = country.strip().upper()
    return _COUNTRY_ALIASES.get(code, code)


def _last(pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
    # The postal code comes late in an address; a street number or a
    # building code earlier on must not win over it.
    found = None
    for found in pattern.finditer(text):  # noqa: B007  the loop only walks to the last match
        pass
    return found


def _code_in(line: str, country: str | None) -> re.Match[str] | None:
    patterns = {"GB": (_UK,), "CN": (_SIX,), "DE": (_FIVE,), "FR": (_FIVE,)}.get(country or "", (_UK, _SIX, _FIVE))
    for pattern in patterns:
        found = _last(pattern, line)
        if found is not None:
            return found
    return None


def _clean(text: str) -> str:
    return " ".join(text.replace(",", " ").split())


def _is_country(text: str) -> bool:
    return text.strip().casefold() in _COUNTRY_NAMES


def _normalise(name: str) -> str:
    # "LONDON" and "london" are the same route as "London".
    name = " ".join(name.split())
    return name.title() if name.isupper() or name.islower() else name
