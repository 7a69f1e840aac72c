"""Which profile binds a debtor: by their country or subdivision, and whether they are a person. Pure.

``[compliance.jurisdictions]`` maps an ISO 3166-1 country (``US``) or an
ISO 3166-2 subdivision (``US-NY``) to a profile; a subdivision beats its
country, and ``[compliance] profile`` is the fallback. A profile written
for consumer debts (``binds_companies = false``: Reg F, UK consumer credit)
does not bind a company debtor, who is held to the fallback instead (or to
``default`` when the fallback is itself such a profile).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from dunning.compliance.profiles import DEFAULT, PROFILES, ComplianceError, Profile

if TYPE_CHECKING:
    from dunning.models import Debtor, DebtorKind

# pycountry (its import reads the installed packages' metadata) and the models are imported where used: every
# command reads the config, `dunning --help` included, and most configs name no jurisdiction.


@attrs.frozen
class Chosen:
    """The profile that binds one debtor, and why: the evidence names both."""

    profile: Profile
    # The debtor's own jurisdiction as known: "US-NY", "DE", or None when unknown.
    jurisdiction: str | None
    # How the profile was reached: "compliance.jurisdictions.US", "compliance.profile", ...
    by: str

    def evidence(self) -> dict[str, Any]:
        """What a rule's verdict event records about where its rule came from."""
        return {"profile": self.profile.name, "jurisdiction": self.jurisdiction, "profile_by": self.by}


def is_country(code: str) -> bool:
    """An ISO 3166-1 alpha-2 code as written there (upper case: that is how debtors' countries are stored)."""
    from dunning.compliance.country_codes import COUNTRY_CODES

    if code in COUNTRY_CODES:
        return True
    import pycountry

    country = pycountry.countries.get(alpha_2=code) if len(code) == 2 else None
    return country is not None and country.alpha_2 == code


def is_subdivision(code: str) -> bool:
    """An ISO 3166-2 subdivision code as written there (``US-NY``)."""
    import pycountry

    subdivision = pycountry.subdivisions.get(code=code)
    return subdivision is not None and subdivision.code == code


def subdivision_error(country: str | None, region: str) -> str | None:
    """Why ``region`` cannot be the debtor's subdivision (None when it can)."""
    if not is_subdivision(region):
        return f"is not an ISO 3166-2 subdivision code (like US-NY), got {region!r}"
    if country and region.split("-", 1)[0] != country:
        return f"{region} is not in the debtor's country {country}"
    return None


def parse_jurisdictions(table: Any, source: str, fallback: Profile) -> Mapping[str, Profile]:
    """``[compliance.jurisdictions]`` as code -> profile; an unknown code or profile names the key.

    A jurisdiction mapped to the fallback's profile gets the fallback as
    tuned in ``[compliance]``; any other gets its profile as shipped.
    """
    if not isinstance(table, dict):
        raise ComplianceError(f"{source}: 'compliance.jurisdictions' must be a table of CODE = \"profile\"")
    chosen: dict[str, Profile] = {}
    for code, name in table.items():
        key = f"compliance.jurisdictions.{code}"
        if not (is_country(code) or is_subdivision(code)):
            raise ComplianceError(f"{source}: '{key}' is not an ISO 3166-1 country (like US) "
                                  "or ISO 3166-2 subdivision (like US-NY); codes are upper case")
        if name not in PROFILES:
            raise ComplianceError(f"{source}: '{key}' must be one of {', '.join(PROFILES)}, got {name!r}")
        chosen[code] = fallback if name == fallback.name else PROFILES[name]
    return chosen


def choose_profile(fallback: Profile, jurisdictions: Mapping[str, Profile], country: str | None,
                   region: str | None, kind: DebtorKind) -> Chosen:
    """The profile for a debtor in ``country``/``region`` of ``kind``: subdivision, then country, then fallback."""
    from dunning.models import DebtorKind

    jurisdiction = region or country
    if region and region in jurisdictions:
        chosen = Chosen(jurisdictions[region], jurisdiction, f"compliance.jurisdictions.{region}")
    elif country and country in jurisdictions:
        chosen = Chosen(jurisdictions[country], jurisdiction, f"compliance.jurisdictions.{country}")
    else:
        chosen = Chosen(fallback, jurisdiction, "compliance.profile")
    if kind is DebtorKind.COMPANY and not chosen.profile.binds_companies:
        company = fallback if fallback.binds_companies else DEFAULT
        return Chosen(company, jurisdiction,
                      f"{chosen.profile.name} binds consumer debts only; companies: {company.name}")
    return chosen


def profile_for(fallback: Profile, jurisdictions: Mapping[str, Profile], debtor: Debtor | None) -> Chosen:
    if debtor is None:
        return Chosen(fallback, None, "compliance.profile")
    return choose_profile(fallback, jurisdictions, debtor.country, debtor.region, debtor.kind)
