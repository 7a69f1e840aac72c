"""The interest rules against the worked examples of the guidance they come from, to the penny. No database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from dunning.ledger.interest_rules import (Debt, contract, de_bgb, de_compensation, eu_compensation, eu_late_payment,
                                           parse_contract_rate, round_minor, rule_for, uk_compensation,
                                           uk_late_payment, uk_reference_day)
from dunning.ledger.rates import RateMissing, RatePoint, rate_on


def history(*points: tuple[str, str]) -> list[RatePoint]:
    return [RatePoint(dt.date.fromisoformat(d), Decimal(r)) for d, r in points]


def days(first: dt.date, n: int) -> tuple[dt.date, dt.date]:
    return first, first + dt.timedelta(days=n - 1)


def test_uk_gov_uk_example_1000_pounds_at_base_half_percent_for_50_days_is_11_50():
    # gov.uk, "Late commercial payments: charging interest and debt recovery": £1,000, base rate 0.5 %:
    # £85 a year, 85 / 365 = 23p a day, after 50 days £11.50.
    debt = Debt(principal=100_000, amount=100_000, currency="GBP", late_from=dt.date(2016, 3, 1))
    accrual = uk_late_payment(debt, *days(debt.late_from, 50), {"boe-base": history(("2009-03-05", "0.5"))})
    assert accrual.amount == 1_150
    assert accrual.segments[0].percent == Decimal("8.5")


def test_uk_example_at_8_percent_for_50_days_is_11_pounds():
    # The same guide's court-claim page: £1,000 at 8 %: £80 a year, about 22p a day, after 50 days £11.
    debt = Debt(principal=100_000, amount=100_000, currency="GBP", late_from=dt.date(2021, 3, 1))
    accrual = uk_late_payment(debt, *days(debt.late_from, 50), {"boe-base": history(("2020-03-19", "0.00"))})
    assert accrual.amount == 1_100


def test_uk_rate_is_fixed_by_the_base_rate_before_interest_starts_and_holds_for_the_debt():
    # Interest starting in the first half of 2024 runs at 5.25 % + 8 = 13.25 % (base rate on 31 December 2023),
    # and keeps that rate after the Bank cut to 5 % on 1 August 2024.
    base = history(("2023-08-03", "5.25"), ("2024-08-01", "5.00"))
    assert uk_reference_day(dt.date(2024, 3, 1)) == dt.date(2023, 12, 31)
    assert uk_reference_day(dt.date(2024, 7, 1)) == dt.date(2024, 6, 30)
    debt = Debt(principal=1_000_000, amount=1_000_000, currency="GBP", late_from=dt.date(2024, 3, 1))
    accrual = uk_late_payment(debt, dt.date(2024, 7, 20), dt.date(2024, 8, 10), {"boe-base": base})
    assert [s.percent for s in accrual.segments] == [Decimal("13.25")]
    # £10,000 x 13.25 % / 365 = £3.63 a day (3.6301...), 22 days.
    assert accrual.amount == 363 * 22


def test_uk_fixed_compensation_by_debt_size():
    def comp(amount: int, currency: str = "GBP", consumer: bool = False) -> int:
        return uk_compensation(Debt(amount, amount, currency, dt.date(2025, 1, 1), consumer=consumer))
    assert comp(99_999) == 4_000  # £999.99
    assert comp(100_000) == 7_000  # £1,000.00
    assert comp(999_999) == 7_000  # £9,999.99
    assert comp(1_000_000) == 10_000  # £10,000.00
    assert comp(50_000, consumer=True) == 0  # the Act is for debts between businesses
    assert comp(50_000, currency="EUR") == 0


def test_de_consumer_example_1000_euro_at_5_12_percent_for_25_days_is_3_51():
    # The Tageszinsformel's worked example: €1,000 owed by a consumer, 25 days late, Basiszinssatz 0.12 %
    # + 5 points = 5.12 %: €3.51.
    debt = Debt(principal=100_000, amount=100_000, currency="EUR", late_from=dt.date(2012, 3, 1), consumer=True)
    accrual = de_bgb(debt, *days(debt.late_from, 25), {"de-basiszins": history(("2012-01-01", "0.12"))})
    assert [s.percent for s in accrual.segments] == [Decimal("5.12")]
    assert accrual.amount == 351


def test_de_between_businesses_nine_points_and_a_change_of_the_basiszinssatz_splits_the_period():
    basis = history(("2024-01-01", "3.62"), ("2024-07-01", "3.37"))
    debt = Debt(principal=1_000_000, amount=1_000_000, currency="EUR", late_from=dt.date(2024, 6, 21))
    accrual = de_bgb(debt, dt.date(2024, 6, 21), dt.date(2024, 7, 10), {"de-basiszins": basis})
    assert [(s.first, s.last, s.percent, s.days) for s in accrual.segments] == [
        (dt.date(2024, 6, 21), dt.date(2024, 6, 30), Decimal("12.62"), 10),
        (dt.date(2024, 7, 1), dt.date(2024, 7, 10), Decimal("12.37"), 10),
    ]
    # €10,000 x 12.62 % x 10 / 365 = 34.5753 + €10,000 x 12.37 % x 10 / 365 = 33.8904: €68.47.
    assert accrual.amount == 6_847


def test_de_pauschale_only_where_the_debtor_is_not_a_consumer():
    assert de_compensation(Debt(5_000, 5_000, "EUR", dt.date(2025, 1, 1))) == 4_000
    assert de_compensation(Debt(5_000, 5_000, "EUR", dt.date(2025, 1, 1), consumer=True)) == 0


def test_eu_rate_of_each_half_year_is_the_ecb_rate_on_1_january_or_1_july():
    # The ECB cut to 4.25 % on 12 June 2024: the first half of 2024 still runs at 4.50 % + 8 (the rate on
    # 1 January), the second at 4.25 % + 8 = 12.25 % (the Irish guidance's "12.25 % divided by 365 days").
    ecb = history(("2023-09-20", "4.50"), ("2024-06-12", "4.25"), ("2024-09-18", "3.65"))
    debt = Debt(principal=1_000_000, amount=1_000_000, currency="EUR", late_from=dt.date(2024, 6, 1))
    accrual = eu_late_payment(debt, dt.date(2024, 6, 1), dt.date(2024, 7, 30), {"ecb-mro": ecb})
    assert [(s.percent, s.days) for s in accrual.segments] == [(Decimal("12.50"), 30), (Decimal("12.25"), 30)]
    # 10,000 x 12.5 % x 30 / 365 = 102.7397 + 10,000 x 12.25 % x 30 / 365 = 100.6849: €203.42.
    assert accrual.amount == 20_342
    assert eu_compensation(debt) == 4_000


def test_contract_rates_a_year_and_a_day():
    assert parse_contract_rate("12%").per == "year"
    assert parse_contract_rate("12 % p.a.").percent == Decimal(12)
    assert parse_contract_rate("0.05%/day").per == "day"
    for bad in ("twelve", "12", "-1%", "150%", "2%/day"):
        with pytest.raises(ValueError):
            parse_contract_rate(bad)
    loan = Debt(200_000, 200_000, "CNY", dt.date(2025, 1, 1), consumer=True,
                contract_rate=parse_contract_rate("0.05%/day"))
    assert contract(loan, *days(loan.late_from, 10), {}).amount == 1_000  # 2,000.00 x 0.05 % x 10 days
    yearly = Debt(365_000, 365_000, "EUR", dt.date(2025, 1, 1), contract_rate=parse_contract_rate("10%"))
    assert contract(yearly, *days(yearly.late_from, 1), {}).amount == 100  # 3,650.00 x 10 % / 365


def test_a_contract_rate_comes_before_the_statutory_rule_and_none_charges_nothing():
    agreed = Debt(1, 1, "GBP", dt.date(2025, 1, 1), contract_rate=parse_contract_rate("5%"))
    plain = Debt(1, 1, "GBP", dt.date(2025, 1, 1))
    assert rule_for("uk-late-payment", agreed).name == "contract"  # type: ignore[union-attr]
    assert rule_for("uk-late-payment", plain).name == "uk-late-payment"  # type: ignore[union-attr]
    assert rule_for("none", agreed) is None


def test_daily_postings_round_to_the_same_penny_as_one_period():
    # 25 runs of one day each, adding the exact amounts and posting the rounded difference, give €3.51 too.
    debt = Debt(principal=100_000, amount=100_000, currency="EUR", late_from=dt.date(2012, 3, 1), consumer=True)
    rates = {"de-basiszins": history(("2012-01-01", "0.12"))}
    exact, posted = Decimal(0), 0
    for n in range(25):
        day = debt.late_from + dt.timedelta(days=n)
        new_exact = exact + de_bgb(debt, day, day, rates).exact
        posted += round_minor(new_exact) - round_minor(exact)
        exact = new_exact
    assert posted == 351


def test_a_rate_before_the_first_known_one_is_missing():
    with pytest.raises(RateMissing, match="no boe-base in force on 2000-01-01"):
        rate_on(history(("2020-01-01", "1")), dt.date(2000, 1, 1), "boe-base")
