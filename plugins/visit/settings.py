"""The ``[channels.visit]`` table: what each key may hold, checked before anything is sent."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from dunning.plugins.visit.areas import AREA_BY
from dunning.schema import Invalid, must, one_of, structure


def _collectors(_instance: Any, _attribute: attrs.Attribute[Any], value: dict[str, str]) -> None:
    for area, collector in value.items():
        if not collector.strip():
            raise Invalid(f"{{key}} must be a non-empty string, got {collector!r}", ("collectors", area))


@attrs.frozen(kw_only=True)
class VisitSettings:
    area_by: str = attrs.field(default="postal_district", validator=one_of(AREA_BY, quoted=True))
    # Area -> the field collector who covers it.
    collectors: dict[str, str] = attrs.field(factory=dict, validator=_collectors,
                                             metadata={"expects": 'a table of area = "collector"'})
    due_in_days: int = attrs.field(default=0, validator=must("a whole number of days, 0 or more", lambda n: n >= 0))
    company: str = ""


DEFAULTS: Mapping[str, Any] = attrs.asdict(VisitSettings())


def check_settings(settings: Mapping[str, Any]) -> None:
    """Raise ValueError naming the first bad key of ``[channels.visit]``."""
    structure(settings, VisitSettings)


def setting(settings: Mapping[str, Any], key: str) -> Any:
    return settings.get(key, DEFAULTS[key])


def collector_for(settings: Mapping[str, Any], area: str) -> str | None:
    """The field collector who covers ``area``, if ``[channels.visit.collectors]`` names one."""
    collectors: Mapping[str, str] = setting(settings, "collectors")
    if area in collectors:
        return collectors[area]
    # Areas are written by hand in the TOML: "sw1a" means SW1A.
    folded = {name.casefold(): who for name, who in collectors.items()}
    return folded.get(area.casefold())
