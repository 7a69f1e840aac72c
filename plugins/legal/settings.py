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

DEFAULT_THREATENING = ("lawyers-letter", "formal-demand")
COUNTRY = re.compile(r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")

_KEYS = frozenset({"firm_name", "firm_address", "lawyer", "min_balance", "limitation_years", "restarted_by",
                   "default_jurisdiction", "jurisdictions", "threatening_templates", "litigation_requires_approval"})
_JURISDICTION_KEYS = frozenset({"limitation_years", "restarted_by"})


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


def parse_settings(table: Mapping[str, Any]) -> LegalSettings:
    """Validate ``[channels.legal]``; raise ValueError naming the first bad key."""
    for key in sorted(table):
        if key not in _KEYS:
            raise ValueError(f"unknown key {key!r} (allowed: {', '.join(sorted(_KEYS))})")
    firm = table.get("firm_name")
    if not isinstance(firm, str) or not firm.strip():
        raise ValueError("'firm_name' is required: the law firm that acts for you (the lawyer's letter names it)")
    values: dict[str, Any] = {"firm_name": firm.strip()}
    if "lawyer" in table:
        if not isinstance(table["lawyer"], str) or not table["lawyer"].strip():
            raise ValueError("'lawyer' must be a non-empty string")
        values["lawyer"] = table["lawyer"].strip()
    if "firm_address" in table:
        # One string (lines split by newlines) or a list of lines, as the letter channel reads it.
        address = table["firm_address"]
        lines = [address] if isinstance(address, str) else address
        if not isinstance(lines, list) or not lines or not all(isinstance(x, str) and x.strip() for x in lines):
            raise ValueError("'firm_address' must be a non-empty string or a list of lines")
        values["firm_address"] = "\n".join(x.strip() for x in lines)
    if "min_balance" in table:
        values["min_balance"] = _amount(table["min_balance"], "min_balance")
    if "limitation_years" in table:
        values["limitation_years"] = _years(table["limitation_years"], "limitation_years")
    if "restarted_by" in table:
        values["restarted_by"] = _restarts(table["restarted_by"], "restarted_by")
    if "default_jurisdiction" in table:
        values["default_jurisdiction"] = _country(table["default_jurisdiction"], "default_jurisdiction")
    if "jurisdictions" in table:
        values["jurisdictions"] = _jurisdictions(table["jurisdictions"], values)
    if "threatening_templates" in table:
        names = table["threatening_templates"]
        if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
            raise ValueError("'threatening_templates' must be a list of template names such as [\"lawyers-letter\"]")
        values["threatening_templates"] = tuple(names)
    if "litigation_requires_approval" in table:
        flag = table["litigation_requires_approval"]
        if not isinstance(flag, bool):
            raise ValueError("'litigation_requires_approval' must be true or false")
        values["litigation_requires_approval"] = flag
    return LegalSettings(**values)


def _jurisdictions(raw: Any, values: Mapping[str, Any]) -> dict[str, Jurisdiction]:
    if not isinstance(raw, Mapping):
        raise ValueError("'jurisdictions' must be a table of countries, [channels.legal.jurisdictions.GB]")
    found: dict[str, Jurisdiction] = {}
    for code, table in sorted(raw.items()):
        where = f"jurisdictions.{code}"
        _country(code, where)
        if not isinstance(table, Mapping):
            raise ValueError(f"'{where}' must be a table")
        for key in sorted(table):
            if key not in _JURISDICTION_KEYS:
                raise ValueError(f"unknown key '{where}.{key}' (allowed: {', '.join(sorted(_JURISDICTION_KEYS))})")
        found[code] = Jurisdiction(
            code,
            _years(table["limitation_years"], f"{where}.limitation_years") if "limitation_years" in table
            else values.get("limitation_years", 3),
            _restarts(table["restarted_by"], f"{where}.restarted_by") if "restarted_by" in table
            else values.get("restarted_by", RESTARTS),
        )
    return found


def _country(value: Any, where: str) -> str:
    if not isinstance(value, str) or not COUNTRY.match(value):
        raise ValueError(f"'{where}' must be an upper-case country code such as \"GB\" or \"US-NY\", got {value!r}")
    return value


def _years(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100:
        raise ValueError(f"'{where}' must be a whole number of years from 1 to 100, got {value!r}")
    return value


def _restarts(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(v in RESTARTS for v in value):
        raise ValueError(f"'{where}' must be a list of {', '.join(RESTARTS)} (or empty), got {value!r}")
    return tuple(value)


def _amount(value: Any, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError(f"'{where}' must be an amount such as \"5000.00\", got {value!r}")
    try:
        number = Decimal(str(value).replace(",", ""))
    except InvalidOperation:
        raise ValueError(f"'{where}' must be an amount such as \"5000.00\", got {value!r}") from None
    if not number.is_finite() or number < 0:
        raise ValueError(f"'{where}' must be an amount of 0 or more, got {value!r}")
    return number
