"""The legal plugin's pure parts: milestone order, settings (its limitation rule is the core's:
tests/core/test_limitation.py)."""

from __future__ import annotations

import tomllib
from decimal import Decimal
from pathlib import Path

import pytest

from dunning.plugins.legal.milestones import check_milestone
from dunning.plugins.legal.settings import parse_settings

# --- milestones -------------------------------------------------------------------------


def test_milestones_in_order() -> None:
    done: list[str] = []
    for milestone, amount, cost in [("preservation_requested", None, 30000), ("preservation_granted", None, None),
                                    ("filed", None, 45500), ("hearing", None, None), ("judgment", 1075500, None),
                                    ("enforcement", None, 12000), ("cost", None, 5000), ("closed", None, None)]:
        check_milestone(done, milestone, amount=amount, cost=cost)
        done.append(milestone)


@pytest.mark.parametrize(("earlier", "milestone", "amount", "cost", "message"), [
    ([], "judgment", 100, None, "judgment needs filed first"),
    ([], "hearing", None, None, "hearing needs filed first"),
    ([], "preservation_granted", None, None, "preservation_granted needs preservation_requested first"),
    (["filed"], "enforcement", None, None, "enforcement needs judgment first"),
    (["filed"], "judgment", None, None, "a judgment needs --amount"),
    (["filed"], "hearing", 100, None, "--amount is the amount awarded, for a judgment only"),
    ([], "cost", None, None, "a cost entry needs --cost"),
    ([], "filed", None, -5, "--cost must be positive"),
    (["filed", "closed"], "hearing", None, None, "the matter is closed"),
    ([], "appeal", None, None, "unknown milestone 'appeal'"),
])
def test_milestones_out_of_order_are_refused(earlier: list[str], milestone: str, amount: int | None,
                                              cost: int | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_milestone(earlier, milestone, amount=amount, cost=cost)


# --- settings ---------------------------------------------------------------------------------


def test_settings_and_the_jurisdiction_of_a_debtor() -> None:
    settings = parse_settings(
        {
            "firm_name": "Castle & Reed LLP",
            "firm_address": ["9 Temple Row", "Birmingham"],
            "lawyer": "Dana Reed",
            "min_balance": "5,000.00",
            "limitation_years": 6,
            "default_jurisdiction": "GB",
            "jurisdictions": {"GB": {}, "DE": {"limitation_years": 3, "restarted_by": ["acknowledgement"]}},
        }
    )
    assert settings.min_balance == Decimal("5000.00") and settings.firm_address == "9 Temple Row\nBirmingham"
    assert settings.jurisdiction_for("de").limitation_years == 3
    assert settings.jurisdiction_for("DE").restarted_by == ("acknowledgement",)
    assert settings.jurisdiction_for(None).code == "GB" and settings.jurisdiction_for(None).limitation_years == 6
    assert settings.jurisdiction_for("FR").code == "FR" and settings.jurisdiction_for("FR").limitation_years == 6
    assert settings.threatening_templates == ("lawyers-letter", "formal-demand")
    assert settings.litigation_requires_approval


@pytest.mark.parametrize(("table", "message"), [
    ({}, "'firm_name' is required"),
    ({"firm_name": "F", "firm": "x"}, "unknown key 'firm'"),
    ({"firm_name": "F", "limitation_years": 0}, "'limitation_years' must be a whole number of years"),
    ({"firm_name": "F", "restarted_by": ["promise"]}, "'restarted_by' must be a list of payment, acknowledgement"),
    ({"firm_name": "F", "default_jurisdiction": "gb"}, "'default_jurisdiction' must be an upper-case country code"),
    ({"firm_name": "F", "jurisdictions": {"DE": {"years": 3}}}, "unknown key 'jurisdictions.DE.years'"),
    ({"firm_name": "F", "jurisdictions": {"DE": {"limitation_years": "3"}}}, "'jurisdictions.DE.limitation_years'"),
    ({"firm_name": "F", "min_balance": "lots"}, "'min_balance' must be an amount"),
    ({"firm_name": "F", "threatening_templates": "lawyers-letter"}, "'threatening_templates' must be a list"),
    ({"firm_name": "F", "litigation_requires_approval": "yes"}, "'litigation_requires_approval' must be true or false"),
    ({"firm_name": "F", "firm_address": []}, "'firm_address' must be a non-empty string or a list of lines"),
])
def test_bad_settings_name_the_key(table: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_settings(table)


def test_the_documented_example_is_valid() -> None:
    page = (Path(__file__).parents[2] / "docs" / "channels" / "legal.md").read_text(encoding="utf-8")
    example = page.split("## 3. A complete example", 1)[1].split("```toml", 1)[1].split("```", 1)[0]
    parsed = parse_settings(tomllib.loads(example)["channels"]["legal"])
    assert parsed.jurisdiction_for("US-NY").restarted_by == ("acknowledgement",)
    assert parsed.jurisdiction_for(None).limitation_years == 6
