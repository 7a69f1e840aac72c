"""The ``[channels.visit]`` table: what each key may hold, checked before anything is sent."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dunning.plugins.visit.areas import AREA_BY

ALLOWED = frozenset({"area_by", "collectors", "due_in_days", "company"})
DEFAULTS: Mapping[str, Any] = {"area_by": "postal_district", "collectors": {}, "due_in_days": 0, "company": ""}


def check_settings(settings: Mapping[str, Any]) -> None:
    """Raise ValueError naming the first bad key of ``[channels.visit]``."""
    for key in sorted(settings):
        if key not in ALLOWED:
            raise ValueError(f"unknown key {key!r} (allowed: {', '.join(sorted(ALLOWED))})")
    area_by = settings.get("area_by", DEFAULTS["area_by"])
    if area_by not in AREA_BY:
        raise ValueError(f"'area_by' must be one of {', '.join(repr(a) for a in AREA_BY)}, got {area_by!r}")
    collectors = settings.get("collectors", {})
    if not isinstance(collectors, Mapping):
        raise ValueError("'collectors' must be a table of area = \"collector\"")
    for area, collector in collectors.items():
        if not isinstance(collector, str) or not collector.strip():
            raise ValueError(f"'collectors.{area}' must be a non-empty string, got {collector!r}")
    days = settings.get("due_in_days", 0)
    # bool is an int in Python; `due_in_days = true` is a mistake.
    if isinstance(days, bool) or not isinstance(days, int) or days < 0:
        raise ValueError(f"'due_in_days' must be a whole number of days, 0 or more, got {days!r}")
    company = settings.get("company", "")
    if not isinstance(company, str):
        raise ValueError(f"'company' must be a string, got {company!r}")


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
