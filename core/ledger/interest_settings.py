"""The ``[ledger]`` keys for interest and waivers: which rule charges whom, and when a waiver needs approval.

::

    [ledger]
    interest = "uk-late-payment"      # the rule where no jurisdiction below matches (default "none")
    waive_approval_above = "100.00"   # a waiver above this needs --approved-by

    [ledger.jurisdictions]            # ISO 3166 country or subdivision -> rule, by the debtor's address
    DE = "de-bgb"
    FR = "eu-late-payment"

Pure: the raw table in, ``InterestSettings`` out; errors name the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs

from dunning import money
from dunning.compliance.jurisdictions import is_country, is_subdivision
from dunning.models import Debtor

# The keys of ``[ledger]`` read here; config.py checks the table against these and the other ledger keys.
INTEREST_KEYS = frozenset({"interest", "jurisdictions", "waive_approval_above"})
DEFAULT_WAIVE_APPROVAL_ABOVE = Decimal("100.00")


class InterestSettingsError(ValueError):
    """A ``[ledger]`` value that cannot be used; the message names the file and key."""


@attrs.frozen
class InterestSettings:
    rule: str = "none"
    jurisdictions: Mapping[str, str] = attrs.field(factory=dict)
    # In major units, whatever the currency ("100.00" means 100 EUR or 100 GBP).
    waive_approval_above: Decimal = DEFAULT_WAIVE_APPROVAL_ABOVE

    def rule_for(self, debtor: Debtor | None) -> tuple[str, str]:
        """The rule that charges ``debtor``, and the key that chose it: subdivision, then country, then the default."""
        if debtor is not None:
            for code in (debtor.region, debtor.country):
                if code and code in self.jurisdictions:
                    return self.jurisdictions[code], f"ledger.jurisdictions.{code}"
        return self.rule, "ledger.interest"

    def waiver_needs_approval(self, amount: int, currency: str) -> bool:
        return money.to_decimal(amount, currency) > self.waive_approval_above


def parse_interest_settings(ledger: Mapping[str, Any], source: str) -> InterestSettings:
    """The interest keys of the ``[ledger]`` table (other ledger keys are someone else's to read)."""

    def fail(key: str, message: str) -> InterestSettingsError:
        return InterestSettingsError(f"{source}: 'ledger.{key}' {message}")

    values: dict[str, Any] = {}
    if "interest" in ledger:
        values["rule"] = _rule(ledger["interest"], "interest", fail)
    if "jurisdictions" in ledger:
        table = ledger["jurisdictions"]
        if not isinstance(table, dict):
            raise fail("jurisdictions", "must be a table of CODE = \"rule\"")
        chosen = {}
        for code, name in table.items():
            if not (is_country(code) or is_subdivision(code)):
                raise fail(f"jurisdictions.{code}", "is not an ISO 3166-1 country (like DE) or ISO 3166-2 "
                                                    "subdivision (like US-NY); codes are upper case")
            chosen[code] = _rule(name, f"jurisdictions.{code}", fail)
        values["jurisdictions"] = chosen
    if "waive_approval_above" in ledger:
        raw = ledger["waive_approval_above"]
        if isinstance(raw, bool) or not isinstance(raw, (str, int)):
            raise fail("waive_approval_above", f"must be an amount such as \"100.00\", got {raw!r}")
        try:
            amount = Decimal(str(raw).replace(",", ""))
        except InvalidOperation:
            raise fail("waive_approval_above", f"must be an amount such as \"100.00\", got {raw!r}") from None
        if not amount.is_finite() or amount < 0:
            raise fail("waive_approval_above", f"must be an amount of at least 0, got {raw!r}")
        values["waive_approval_above"] = amount
    return InterestSettings(**values)


def _rule(name: Any, key: str, fail: Any) -> str:
    # Imported here: every command reads the config, and most configs name no interest rule.
    from dunning.ledger.interest_rules import RULE_NAMES

    if name not in RULE_NAMES:
        raise fail(key, f"must be one of {', '.join(RULE_NAMES)}, got {name!r}")
    return str(name)
