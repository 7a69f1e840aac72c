"""The ``[channels.agency]`` table: the agencies an administrator works with. Pure.

``parse_settings`` turns the table into frozen objects or raises
``ValueError`` naming the key (the core adds ``channels.agency:``), so a
typo stops ``dunning`` at start-up rather than at the first placement.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import attrs

from dunning import money

# Agency ids name folders and appear in files the agency receives: keep them plain.
AGENCY_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
SCALES = ("flat", "recovered", "age")
DEFAULT_RECOVERY_WINDOW = 20

_TOP_KEYS = frozenset({"folder", "recovery_window", "agencies", "sftp"})
_AGENCY_KEYS = frozenset({"name", "commission", "min_balance", "max_balance", "capacity", "placement_days", "folder",
                          "currencies"})


@attrs.frozen
class Band:
    """One step of a sliding scale: ``percent`` from ``start`` on.

    ``start`` is an amount recovered in major units (scale ``recovered``)
    or the debt's age in days past due at placement (scale ``age``).
    """

    start: Decimal
    percent: Decimal


@attrs.frozen
class Commission:
    """A contingency commission: a flat percentage, or bands by amount recovered or by age."""

    by: str
    bands: tuple[Band, ...]

    @classmethod
    def flat(cls, percent: Decimal) -> Commission:
        return cls("flat", (Band(Decimal(0), percent),))

    def describe(self) -> str:
        if self.by == "flat":
            return f"{self.bands[0].percent}%"
        unit = "" if self.by == "recovered" else " days"
        return ", ".join(f"{b.percent}% from {b.start}{unit}" for b in self.bands) + f" (by {self.by})"


@attrs.frozen
class Agency:
    id: str
    name: str
    commission: Commission
    min_balance: Decimal | None = None
    max_balance: Decimal | None = None
    capacity: int | None = None  # open placements at most; None: no limit
    placement_days: int | None = None  # None: until the policy or a person recalls it
    folder: str | None = None
    currencies: tuple[str, ...] = ()


@attrs.frozen
class AgencySettings:
    folder: str
    agencies: tuple[Agency, ...]
    recovery_window: int = DEFAULT_RECOVERY_WINDOW

    def agency(self, agency_id: str) -> Agency | None:
        return next((a for a in self.agencies if a.id == agency_id), None)

    def folder_for(self, agency_id: str, base_dir: Path) -> Path:
        """Where an agency's placement and recall files go: its own folder, else ``<folder>/<id>``."""
        agency = self.agency(agency_id)
        if agency is not None and agency.folder:
            return base_dir / agency.folder
        return base_dir / self.folder / agency_id


def parse_settings(table: Mapping[str, Any]) -> AgencySettings:
    """Validate ``[channels.agency]``; raise ValueError naming the first bad key."""
    for key in sorted(table):
        if key not in _TOP_KEYS:
            raise ValueError(f"unknown key {key!r} (allowed: {', '.join(sorted(_TOP_KEYS))})")
    if "sftp" in table:
        raise ValueError("'sftp' is not supported yet: files are written to 'folder'; move them to the agency "
                         "with your own transfer job (see docs/channels/agency.md)")
    folder = table.get("folder")
    if not isinstance(folder, str) or not folder.strip():
        raise ValueError("'folder' is required: the folder placement and recall files are written to")
    window = table.get("recovery_window", DEFAULT_RECOVERY_WINDOW)
    if isinstance(window, bool) or not isinstance(window, int) or window < 1:
        raise ValueError(f"'recovery_window' must be a whole number of placements, 1 or more, got {window!r}")
    agencies_table = table.get("agencies")
    if not isinstance(agencies_table, Mapping) or not agencies_table:
        raise ValueError("'agencies' is required: one table per agency, [channels.agency.agencies.<id>]")
    agencies = tuple(_agency(agency_id, raw) for agency_id, raw in sorted(agencies_table.items()))
    return AgencySettings(folder=folder, agencies=agencies, recovery_window=window)


def _agency(agency_id: str, raw: Any) -> Agency:
    where = f"agencies.{agency_id}"
    if not AGENCY_ID.match(agency_id):
        raise ValueError(f"{where}: an agency id is lower-case letters, digits, '-' or '_' (at most 40), "
                         f"got {agency_id!r}")
    if not isinstance(raw, Mapping):
        raise ValueError(f"'{where}' must be a table")
    for key in sorted(raw):
        if key not in _AGENCY_KEYS:
            raise ValueError(f"unknown key '{where}.{key}' (allowed: {', '.join(sorted(_AGENCY_KEYS))})")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"'{where}.name' is required: the agency's name as it appears in reports")
    if "commission" not in raw:
        raise ValueError(f"'{where}.commission' is required: a percentage such as \"25\", or a sliding scale")
    minimum = _amount(raw, "min_balance", where)
    maximum = _amount(raw, "max_balance", where)
    if minimum is not None and maximum is not None and maximum < minimum:
        raise ValueError(f"'{where}.max_balance' ({maximum}) is below '{where}.min_balance' ({minimum})")
    currencies = raw.get("currencies", [])
    if not isinstance(currencies, list) or not all(isinstance(c, str) for c in currencies):
        raise ValueError(f"'{where}.currencies' must be a list of currency codes such as [\"EUR\"]")
    for code in currencies:
        try:
            money.exponent(code)
        except money.MoneyError:
            raise ValueError(f"'{where}.currencies' has an unknown currency {code!r}") from None
    folder = raw.get("folder")
    if folder is not None and (not isinstance(folder, str) or not folder.strip()):
        raise ValueError(f"'{where}.folder' must be a folder path")
    return Agency(
        id=agency_id,
        name=name.strip(),
        commission=parse_commission(raw["commission"], f"{where}.commission"),
        min_balance=minimum,
        max_balance=maximum,
        capacity=_positive(raw, "capacity", where),
        placement_days=_positive(raw, "placement_days", where),
        folder=folder,
        currencies=tuple(currencies),
    )


def parse_commission(raw: Any, where: str) -> Commission:
    """``"25"`` or ``25`` (flat), or ``{ by = "recovered" | "age", bands = [...] }``."""
    if not isinstance(raw, Mapping):
        return Commission.flat(_percent(raw, where))
    for key in sorted(raw):
        if key not in ("by", "bands", "percent"):
            raise ValueError(f"unknown key '{where}.{key}' (allowed: by, bands, percent)")
    by = raw.get("by")
    if by not in SCALES:
        raise ValueError(f"'{where}.by' must be one of {', '.join(SCALES)}, got {by!r}")
    if by == "flat":
        if "bands" in raw:
            raise ValueError(f"'{where}': a flat commission has 'percent', not 'bands'")
        return Commission.flat(_percent(raw.get("percent"), f"{where}.percent"))
    if "percent" in raw:
        raise ValueError(f"'{where}': a scale by {by} has 'bands', not 'percent'")
    bands = raw.get("bands")
    if not isinstance(bands, list) or not bands:
        raise ValueError(
            f"'{where}.bands' must be a non-empty list such as "
            + (
                '[{ from = "0.00", percent = "30" }, { from = "5000.00", percent = "20" }]'
                if by == "recovered"
                else '[{ from_days = 0, percent = "25" }, { from_days = 365, percent = "35" }]'
            )
        )
    start_key = "from" if by == "recovered" else "from_days"
    parsed: list[Band] = []
    for index, band in enumerate(bands):
        here = f"{where}.bands[{index}]"
        if not isinstance(band, Mapping):
            raise ValueError(f"'{here}' must be a table with '{start_key}' and 'percent'")
        for key in sorted(band):
            if key not in (start_key, "percent"):
                raise ValueError(f"unknown key '{here}.{key}' (allowed: {start_key}, percent)")
        if start_key not in band:
            raise ValueError(f"'{here}.{start_key}' is required")
        if by == "recovered":
            start = _decimal(band[start_key], f"{here}.from")
        else:
            days = band[start_key]
            if isinstance(days, bool) or not isinstance(days, int) or days < 0:
                raise ValueError(f"'{here}.from_days' must be a whole number of days, 0 or more, got {days!r}")
            start = Decimal(days)
        if start < 0:
            raise ValueError(f"'{here}.{start_key}' must not be negative")
        if parsed and start <= parsed[-1].start:
            raise ValueError(f"'{here}.{start_key}' must be above the band before it ({parsed[-1].start})")
        if not parsed and start != 0:
            raise ValueError(f"'{here}.{start_key}': the first band must start at 0")
        parsed.append(Band(start, _percent(band.get("percent"), f"{here}.percent")))
    return Commission(by, tuple(parsed))


def _decimal(value: Any, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"'{where}' must be a number such as \"1500.00\", got {value!r}")
    try:
        # Through str, so 22.5 means 22.5 and not a binary fraction next to it.
        number = Decimal(str(value).replace(",", "").strip())
    except InvalidOperation:
        raise ValueError(f"'{where}' must be a number such as \"1500.00\", got {value!r}") from None
    if not number.is_finite():
        raise ValueError(f"'{where}' must be a number, got {value!r}")
    return number


def _percent(value: Any, where: str) -> Decimal:
    if value is None:
        raise ValueError(f"'{where}' is required: a percentage such as \"25\"")
    number = _decimal(value, where)
    if not 0 <= number <= 100:
        raise ValueError(f"'{where}' must be a percentage between 0 and 100, got {value!r}")
    return number


def _amount(raw: Mapping[str, Any], key: str, where: str) -> Decimal | None:
    if key not in raw:
        return None
    number = _decimal(raw[key], f"{where}.{key}")
    if number < 0:
        raise ValueError(f"'{where}.{key}' must not be negative")
    return number


def _positive(raw: Mapping[str, Any], key: str, where: str) -> int | None:
    if key not in raw:
        return None
    value = raw[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"'{where}.{key}' must be a whole number, 1 or more, got {value!r}")
    return value


