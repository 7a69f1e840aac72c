"""The ``[channels.legal]`` table: the law firm, the litigation threshold, limitation rules. Pure.

The letter channel reads ``firm_name``, ``firm_address`` and ``lawyer``
from the same table for the lawyer's letter, so those keys are shared.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs

from dunning.compliance.limitation import RESTARTS
from dunning.schema import must, structure

DEFAULT_THREATENING = ("lawyers-letter", "formal-demand")
COUNTRY = re.compile(r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")

@attrs.frozen
class Jurisdiction:
    """Where a debt is judged: how long the limitation period is and what restarts it."""

    code: str
    limitation_years: int
    restarted_by: tuple[str, ...]


@attrs.frozen
class LegalSettings:
    firm_name: str
    firm_address: str | None = None
    lawyer: str | None = None
    min_balance: Decimal = Decimal(0)
    limitation_years: int = 3
    restarted_by: tuple[str, ...] = RESTARTS
    default_jurisdiction: str | None = None
    jurisdictions: Mapping[str, Jurisdiction] = attrs.field(factory=dict)
    threatening_templates: tuple[str, ...] = DEFAULT_THREATENING
    litigation_requires_approval: bool = True

    def jurisdiction_for(self, country: str | None) -> Jurisdiction:
        """The debtor's country's rules; the default jurisdiction's for a debtor without one; else the general rule."""
        code = (country or "").strip().upper() or self.default_jurisdiction or ""
        found = self.jurisdictions.get(code)
        if found is not None:
            return found
        return Jurisdiction(code or "default", self.limitation_years, self.restarted_by)


def _decimal(text: str | int) -> Decimal | None:
    try:
        number = Decimal(str(text).replace(",", ""))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _amount_ok(text: str | int) -> bool:
    number = _decimal(text)
    return number is not None and number >= 0


def _address_lines(value: str | list[str]) -> tuple[str, ...]:
    # One string (lines split by newlines) or a list of lines, as the letter channel reads it.
    lines = [value] if isinstance(value, str) else value
    return tuple(line.strip() for line in lines)


NON_EMPTY = must("a non-empty string", lambda text: text.strip() != "")
YEARS = must("a whole number of years from 1 to 100", lambda n: 1 <= n <= 100)
RESTARTED_BY = must(f"a list of {', '.join(RESTARTS)} (or empty)", lambda names: all(n in RESTARTS for n in names))
COUNTRY_CODE = must('an upper-case country code such as "GB" or "US-NY"', lambda code: bool(COUNTRY.match(code)))


def _codes(_instance: Any, _attribute: attrs.Attribute[Any], value: Mapping[str, Any]) -> None:
    for code in value:
        COUNTRY_CODE.test("jurisdictions." + code, code)


@attrs.frozen(kw_only=True)
class JurisdictionTable:
    """``[channels.legal.jurisdictions.<CODE>]``: what differs there from the general rule."""

    limitation_years: int | None = attrs.field(default=None, validator=YEARS)
    restarted_by: list[str] | None = attrs.field(default=None, validator=RESTARTED_BY)


@attrs.frozen(kw_only=True)
class LegalTable:
    """``[channels.legal]`` as written."""

    firm_name: str = attrs.field(validator=NON_EMPTY, metadata={
        "required": "{key} is required: the law firm that acts for you (the lawyer's letter names it)"})
    firm_address: str | list[str] | None = attrs.field(default=None, validator=must(
        "a non-empty string or a list of lines", lambda value: bool(value) and all(_address_lines(value))))
    lawyer: str | None = attrs.field(default=None, validator=NON_EMPTY)
    min_balance: str | int = attrs.field(default=0, validator=must('an amount of 0 or more, such as "5000.00"',
                                                                   _amount_ok))
    limitation_years: int = attrs.field(default=3, validator=YEARS)
    restarted_by: list[str] = attrs.field(factory=lambda: list(RESTARTS), validator=RESTARTED_BY)
    default_jurisdiction: str | None = attrs.field(default=None, validator=COUNTRY_CODE)
    jurisdictions: dict[str, JurisdictionTable] = attrs.field(factory=dict, validator=_codes, metadata={
        "expects": "a table of countries, [channels.legal.jurisdictions.GB]"})
    threatening_templates: list[str] = attrs.field(factory=lambda: list(DEFAULT_THREATENING), validator=must(
        'a list of template names such as ["lawyers-letter"]', lambda names: all(names)))
    litigation_requires_approval: bool = True


def parse_settings(table: Mapping[str, Any]) -> LegalSettings:
    """Validate ``[channels.legal]``; raise ValueError naming the first bad key."""
    given = structure(table, LegalTable)
    restarted_by = tuple(given.restarted_by)
    return LegalSettings(
        firm_name=given.firm_name.strip(),
        firm_address="\n".join(_address_lines(given.firm_address)) if given.firm_address is not None else None,
        lawyer=given.lawyer.strip() if given.lawyer is not None else None,
        min_balance=_decimal(given.min_balance) or Decimal(0),
        limitation_years=given.limitation_years,
        restarted_by=restarted_by,
        default_jurisdiction=given.default_jurisdiction,
        # A jurisdiction's table says only what differs from the general rule above it.
        jurisdictions={code: Jurisdiction(code, j.limitation_years or given.limitation_years,
                                          restarted_by if j.restarted_by is None else tuple(j.restarted_by))
                       for code, j in sorted(given.jurisdictions.items())},
        threatening_templates=tuple(given.threatening_templates),
        litigation_requires_approval=given.litigation_requires_approval,
    )
