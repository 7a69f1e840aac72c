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
from dunning.schema import Invalid, SchemaError, must, one_of, structure

# Agency ids name folders and appear in files the agency receives: keep them plain.
AGENCY_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
SCALES = ("flat", "recovered", "age")
DEFAULT_RECOVERY_WINDOW = 20

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


Number = str | int | float


def _decimal(value: Number) -> Decimal | None:
    try:
        # Through str, so 22.5 means 22.5 and not a binary fraction next to it.
        number = Decimal(str(value).replace(",", "").strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def number(key: str | tuple[str | int, ...], value: Number) -> Decimal:
    """``value`` as a Decimal, or ``Invalid`` naming ``key``."""
    found = _decimal(value)
    if found is None:
        raise Invalid(f'{{key}} must be a number such as "1500.00", got {value!r}', key)
    return found


def percent(key: str | tuple[str | int, ...], value: Number) -> Decimal:
    found = number(key, value)
    if not 0 <= found <= 100:
        raise Invalid(f"{{key}} must be a percentage between 0 and 100, got {value!r}", key)
    return found


PERCENT_REQUIRED = '{key} is required: a percentage such as "25"'
NUMBER = {"expects": 'a number such as "1500.00"'}
NON_EMPTY = must("a non-empty string", lambda text: text.strip() != "")
ONE_OR_MORE = must("a whole number, 1 or more", lambda n: n >= 1)


@attrs.frozen(kw_only=True)
class BandTable:
    """One band of a sliding scale: ``from`` (an amount recovered) or ``from_days`` (an age), and its percentage."""

    start: Number | None = attrs.field(default=None, metadata={"key": "from", **NUMBER})
    from_days: int | None = None
    percent: Number = attrs.field(metadata={"required": PERCENT_REQUIRED, **NUMBER})


@attrs.frozen(kw_only=True)
class CommissionTable:
    """A commission written as a table: ``{ by = "flat", percent = ... }`` or a scale with ``bands``."""

    by: str = attrs.field(validator=one_of(SCALES), metadata={"required": f"{{key}} is required: one of "
                                                                          f"{', '.join(SCALES)}"})
    bands: list[BandTable] | None = attrs.field(default=None, metadata={"expects": "a non-empty list"})
    percent: Number | None = attrs.field(default=None, metadata=NUMBER)

    def __attrs_post_init__(self) -> None:
        self.commission()  # checked now: the error names the key

    def commission(self) -> Commission:
        if self.by == "flat":
            if self.bands is not None:
                raise Invalid("a flat commission has 'percent', not 'bands'")
            if self.percent is None:
                raise Invalid(PERCENT_REQUIRED, "percent")
            return Commission.flat(percent("percent", self.percent))
        if self.percent is not None:
            raise Invalid(f"a scale by {self.by} has 'bands', not 'percent'")
        if not self.bands:
            example = ('[{ from = "0.00", percent = "30" }, { from = "5000.00", percent = "20" }]'
                       if self.by == "recovered"
                       else '[{ from_days = 0, percent = "25" }, { from_days = 365, percent = "35" }]')
            raise Invalid(f"{{key}} must be a non-empty list such as {example}", "bands")
        start_key, other = ("from", "from_days") if self.by == "recovered" else ("from_days", "from")
        parsed: list[Band] = []
        for index, band in enumerate(self.bands):
            here: tuple[str | int, ...] = ("bands", index)
            given = band.start if self.by == "recovered" else band.from_days
            if (band.from_days if self.by == "recovered" else band.start) is not None:
                raise Invalid(f"unknown key {{key}} (allowed: {start_key}, percent)", (*here, other))
            if given is None:
                raise Invalid("{key} is required", (*here, start_key))
            if self.by == "age" and (not isinstance(given, int) or given < 0):
                raise Invalid(f"{{key}} must be a whole number of days, 0 or more, got {given!r}", (*here, start_key))
            start = number((*here, start_key), given)
            if start < 0:
                raise Invalid("{key} must not be negative", (*here, start_key))
            if parsed and start <= parsed[-1].start:
                raise Invalid(f"{{key}} must be above the band before it ({parsed[-1].start})", (*here, start_key))
            if not parsed and start != 0:
                raise Invalid("{key}: the first band must start at 0", (*here, start_key))
            parsed.append(Band(start, percent((*here, "percent"), band.percent)))
        return Commission(self.by, tuple(parsed))


def _currencies(_instance: Any, attribute: attrs.Attribute[Any], value: list[str]) -> None:
    for code in value:
        try:
            money.exponent(code)
        except money.MoneyError:
            raise Invalid(f"{{key}} has an unknown currency {code!r}", attribute.name) from None


def _amount(_instance: Any, attribute: attrs.Attribute[Any], value: Number | None) -> None:
    if value is not None and number(attribute.name, value) < 0:
        raise Invalid("{key} must not be negative", attribute.name)


@attrs.frozen(kw_only=True)
class AgencyTable:
    """``[channels.agency.agencies.<id>]``."""

    name: str = attrs.field(validator=NON_EMPTY, metadata={
        "required": "{key} is required: the agency's name as it appears in reports"})
    commission: Number | CommissionTable = attrs.field(metadata={
        "required": '{key} is required: a percentage such as "25", or a sliding scale',
        "expects": 'a percentage such as "25", or a sliding scale'})
    min_balance: Number | None = attrs.field(default=None, validator=_amount, metadata=NUMBER)
    max_balance: Number | None = attrs.field(default=None, validator=_amount, metadata=NUMBER)
    capacity: int | None = attrs.field(default=None, validator=ONE_OR_MORE)
    placement_days: int | None = attrs.field(default=None, validator=ONE_OR_MORE)
    folder: str | None = attrs.field(default=None, validator=must("a folder path", lambda path: path.strip() != ""))
    currencies: list[str] = attrs.field(factory=list, validator=_currencies, metadata={
        "expects": 'a list of currency codes such as ["EUR"]'})

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.commission, CommissionTable):
            percent("commission", self.commission)
        low, high = self.balance("min_balance"), self.balance("max_balance")
        if low is not None and high is not None and high < low:
            raise Invalid(f"{{key}} ({high}) is below 'min_balance' ({low})", "max_balance")

    def balance(self, key: str) -> Decimal | None:
        value = getattr(self, key)
        return None if value is None else number(key, value)

    def agency(self, agency_id: str) -> Agency:
        commission = (self.commission.commission() if isinstance(self.commission, CommissionTable)
                      else Commission.flat(percent("commission", self.commission)))
        return Agency(id=agency_id, name=self.name.strip(), commission=commission,
                      min_balance=self.balance("min_balance"), max_balance=self.balance("max_balance"),
                      capacity=self.capacity, placement_days=self.placement_days, folder=self.folder,
                      currencies=tuple(self.currencies))


def _agencies(_instance: Any, attribute: attrs.Attribute[Any], value: dict[str, AgencyTable]) -> None:
    if not value:
        raise Invalid(AGENCIES_REQUIRED, attribute.name)
    for agency_id in value:
        if not AGENCY_ID.match(agency_id):
            raise Invalid(f"an agency id is lower-case letters, digits, '-' or '_' (at most 40), got {agency_id!r}",
                          (attribute.name, agency_id))


def _no_sftp(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None:
        raise Invalid("{key} is not supported yet: files are written to 'folder'; move them to the agency "
                      "with your own transfer job (see docs/channels/agency.md)", attribute.name)


AGENCIES_REQUIRED = "{key} is required: one table per agency, [channels.agency.agencies.<id>]"


@attrs.frozen(kw_only=True)
class AgencyChannelTable:
    """``[channels.agency]`` as written."""

    folder: str = attrs.field(validator=NON_EMPTY, metadata={
        "required": "{key} is required: the folder placement and recall files are written to"})
    recovery_window: int = attrs.field(default=DEFAULT_RECOVERY_WINDOW, validator=must(
        "a whole number of placements, 1 or more", lambda n: n >= 1))
    agencies: dict[str, AgencyTable] = attrs.field(validator=_agencies, metadata={"required": AGENCIES_REQUIRED})
    sftp: Any = attrs.field(default=None, validator=_no_sftp)


def parse_settings(table: Mapping[str, Any]) -> AgencySettings:
    """Validate ``[channels.agency]``; raise ValueError naming the first bad key."""
    given = structure(table, AgencyChannelTable)
    return AgencySettings(folder=given.folder, recovery_window=given.recovery_window,
                          agencies=tuple(raw.agency(agency_id) for agency_id, raw in sorted(given.agencies.items())))


def parse_commission(raw: Any, where: str) -> Commission:
    """``"25"`` or ``25`` (flat), or ``{ by = "recovered" | "age", bands = [...] }``; errors name ``where``."""
    try:
        if not isinstance(raw, Mapping):
            return Commission.flat(percent((), raw))
        return structure(raw, CommissionTable).commission()
    except Invalid as exc:
        raise SchemaError((where, *exc.key), exc.text) from None
    except SchemaError as exc:
        raise SchemaError((where, *exc.path), exc.text) from None
