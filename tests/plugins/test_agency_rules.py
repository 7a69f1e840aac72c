"""The agency plugin's pure parts: settings, commission scales, the choice of agency."""

from __future__ import annotations

import tomllib
from decimal import Decimal
from pathlib import Path

import pytest

from dunning.plugins.agency.choice import AgencyRecord, choose, why_not
from dunning.plugins.agency.commission import commission_on
from dunning.plugins.agency.settings import Agency, Commission, parse_commission, parse_settings

NORTHWIND = {"name": "Northwind Recoveries Ltd", "commission": "25"}


def settings(**agencies: dict) -> dict:
    return {"folder": "out", "agencies": agencies or {"northwind": NORTHWIND}}


# --- settings ------------------------------------------------------------------------


def test_settings_parse_into_agencies() -> None:
    parsed = parse_settings({"folder": "out", "recovery_window": 5, "agencies": {
        "northwind": {**NORTHWIND, "min_balance": "500.00", "max_balance": 20000, "capacity": 3, "placement_days": 90,
                      "currencies": ["EUR", "GBP"]},
        "eastgate": {"name": "Eastgate", "commission": {"by": "age", "bands": [
            {"from_days": 0, "percent": 20}, {"from_days": 180, "percent": "32.5"}]}},
    }})
    assert [a.id for a in parsed.agencies] == ["eastgate", "northwind"]
    northwind = parsed.agency("northwind")
    assert northwind is not None and northwind.min_balance == Decimal("500.00") and northwind.capacity == 3
    assert northwind.commission == Commission.flat(Decimal(25)) and northwind.currencies == ("EUR", "GBP")
    eastgate = parsed.agency("eastgate")
    assert eastgate is not None and eastgate.commission.bands[1].percent == Decimal("32.5")
    assert parsed.recovery_window == 5


@pytest.mark.parametrize(("table", "message"), [
    ({"agencies": {"northwind": NORTHWIND}}, "'folder' is required"),
    (settings() | {"foldr": "x"}, "unknown key 'foldr'"),
    (settings() | {"sftp": {"host": "files.example.com"}}, "'sftp' is not supported yet"),
    ({"folder": "out"}, "'agencies' is required"),
    (settings(Northwind=NORTHWIND), "agencies.Northwind: an agency id is lower-case"),
    (settings(northwind={"commission": "25"}), "'agencies.northwind.name' is required"),
    (settings(northwind={"name": "N"}), "'agencies.northwind.commission' is required"),
    (settings(northwind={**NORTHWIND, "commision": "25"}), "unknown key 'agencies.northwind.commision'"),
    (settings(northwind={**NORTHWIND, "commission": "125"}), "between 0 and 100"),
    (settings(northwind={**NORTHWIND, "commission": "a quarter"}), "'agencies.northwind.commission' must be a number"),
    (settings(northwind={**NORTHWIND, "capacity": 0}), "'agencies.northwind.capacity' must be a whole number"),
    (settings(northwind={**NORTHWIND, "placement_days": True}), "'agencies.northwind.placement_days'"),
    (settings(northwind={**NORTHWIND, "min_balance": "900", "max_balance": "100"}), "is below"),
    (settings(northwind={**NORTHWIND, "currencies": ["EURO"]}), "unknown currency 'EURO'"),
    (settings() | {"recovery_window": 0}, "'recovery_window' must be"),
])
def test_bad_settings_name_the_key(table: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_settings(table)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"by": "recovered", "bands": [{"from": "100", "percent": 30}]}, "the first band must start at 0"),
        (
            {"by": "recovered", "bands": [{"from": 0, "percent": 30}, {"from": 0, "percent": 20}]},
            r"bands\[1\].from' must be above",
        ),
        ({"by": "age", "bands": [{"from": 0, "percent": 30}]}, r"unknown key 'c.bands\[0\].from'"),
        ({"by": "age", "bands": [{"from_days": -1, "percent": 30}]}, "must be a whole number of days"),
        ({"by": "recovered", "bands": []}, "must be a non-empty list"),
        ({"by": "weekday", "bands": []}, "'c.by' must be one of flat, recovered, age"),
        ({"by": "recovered", "bands": [{"from": 0}]}, r"'c.bands\[0\].percent' is required"),
        ({"by": "flat"}, "'c.percent' is required"),
    ],
)
def test_bad_commission_scales_name_the_band(raw: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_commission(raw, "c")


# --- commission ------------------------------------------------------------------------


def test_flat_commission_rounds_half_up_to_the_minor_unit() -> None:
    flat = Commission.flat(Decimal("22.5"))
    assert commission_on(flat, 200000, "EUR").amount == 45000
    assert commission_on(flat, 1, "EUR").amount == 0  # 0.225 of a cent
    assert commission_on(flat, 3, "EUR").amount == 1  # 0.675 of a cent
    assert commission_on(flat, 1000, "JPY").rate == "22.5%"


def test_sliding_scale_by_amount_recovered_splits_a_payment_across_bands() -> None:
    scale = parse_commission({"by": "recovered", "bands": [
        {"from": "0", "percent": 30}, {"from": "1000.00", "percent": 20}, {"from": "5000.00", "percent": 10}]}, "c")
    # Nothing collected before: 1,000.00 at 30 % and 500.00 at 20 %.
    charge = commission_on(scale, 150000, "EUR", recovered_before=0)
    assert charge.amount == 30000 + 10000
    assert charge.rate == "30% of 1,000.00 + 20% of 500.00"
    # 4,500.00 already collected: 500.00 at 20 %, then 1,000.00 at 10 %.
    assert commission_on(scale, 150000, "EUR", recovered_before=450000).amount == 10000 + 10000
    # Far into the top band.
    assert commission_on(scale, 10000, "EUR", recovered_before=900000).amount == 1000
    # Bands are in major units of the case's currency.
    assert commission_on(scale, 1500, "JPY").amount == 300 + 100


def test_sliding_scale_by_age_charges_the_band_of_the_age_at_placement() -> None:
    scale = parse_commission({"by": "age", "bands": [
        {"from_days": 0, "percent": 20}, {"from_days": 180, "percent": 30}, {"from_days": 365, "percent": 40}]}, "c")
    assert commission_on(scale, 100000, "EUR", age_days=91).amount == 20000
    assert commission_on(scale, 100000, "EUR", age_days=180).amount == 30000
    assert commission_on(scale, 100000, "EUR", age_days=700).amount == 40000


def test_a_payment_must_be_positive() -> None:
    with pytest.raises(ValueError):
        commission_on(Commission.flat(Decimal(25)), 0, "EUR")


# --- choice ------------------------------------------------------------------------------


def agency(agency_id: str, **kw) -> Agency:
    return Agency(id=agency_id, name=agency_id.title(), commission=Commission.flat(Decimal(25)), **kw)


def test_eligibility_by_currency_balance_and_capacity() -> None:
    small = agency("small", min_balance=Decimal(100), max_balance=Decimal(1000), capacity=2, currencies=("EUR",))
    assert why_not(small, 50000, "EUR", 1) is None
    assert why_not(small, 50000, "GBP", 0) == "does not take GBP (takes EUR)"
    assert why_not(small, 9999, "EUR", 0) == "balance 99.99 is below its minimum 100"
    assert why_not(small, 100001, "EUR", 0) == "balance 1000.01 is above its maximum 1000"
    assert why_not(small, 50000, "EUR", 2) == "full (2 open placements, capacity 2)"


def test_the_best_recovery_rate_wins() -> None:
    a, b = agency("alpha"), agency("bravo")
    records = {
        "alpha": AgencyRecord(recent_rates=(Decimal("0.10"), Decimal("0.20")), last_placed_at="2026-01-02T09:00:00Z"),
        "bravo": AgencyRecord(recent_rates=(Decimal("0.40"),), last_placed_at="2026-01-03T09:00:00Z"),
    }
    choice = choose([a, b], 100000, "EUR", records)
    assert choice.agency == b and choice.rate == Decimal("0.40")


def test_ties_go_round_robin_to_the_agency_placed_with_longest_ago() -> None:
    a, b, c = agency("alpha"), agency("bravo"), agency("charlie")
    same = (Decimal("0.25"),)
    records = {"alpha": AgencyRecord(recent_rates=same, last_placed_at="2026-01-05T09:00:00Z"),
               "bravo": AgencyRecord(recent_rates=same, last_placed_at="2026-01-03T09:00:00Z"),
               "charlie": AgencyRecord(recent_rates=(Decimal("0.251"),), last_placed_at="2026-01-04T09:00:00Z")}
    # 25 % and 25.1 % are the same in whole points: bravo's turn.
    assert choose([a, b, c], 100000, "EUR", records).agency == b


def test_a_new_agency_counts_as_equal_to_the_best_and_gets_its_turn() -> None:
    old, new = agency("old"), agency("new")
    records = {"old": AgencyRecord(recent_rates=(Decimal("0.5"),), last_placed_at="2026-01-01T09:00:00Z")}
    assert choose([old, new], 100000, "EUR", records).agency == new


def test_no_eligible_agency_says_why_for_each() -> None:
    full = agency("full", capacity=1)
    picky = agency("picky", min_balance=Decimal(5000))
    choice = choose([full, picky], 100000, "EUR", {"full": AgencyRecord(open_placements=1)})
    assert choice.agency is None
    assert choice.refused == {"full": "full (1 open placements, capacity 1)",
                              "picky": "balance 1000.00 is below its minimum 5000"}


def test_the_documented_example_is_valid() -> None:
    page = (Path(__file__).parents[2] / "docs" / "channels" / "agency.md").read_text(encoding="utf-8")
    example = page.split("## 4. A complete example", 1)[1].split("```toml", 1)[1].split("```", 1)[0]
    parsed = parse_settings(tomllib.loads(example)["channels"]["agency"])
    assert [a.id for a in parsed.agencies] == ["eastgate", "northwind", "oldbridge"]
    assert parsed.agency("eastgate").commission.by == "recovered"  # type: ignore[union-attr]
