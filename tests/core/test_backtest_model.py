"""The backtest's payment model and expected recovery: pure functions, checked by hand."""

from __future__ import annotations

import datetime as dt

import pytest

from dunning.backtest.payment_model import Contact, Paid, bucket_of, fit
from dunning.backtest.recovery import Exposure, expected_recovery

T0 = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)


def at(days: float) -> dt.datetime:
    return T0 + dt.timedelta(days=days)


def test_buckets_by_days_past_due() -> None:
    assert [bucket_of(d) for d in (None, -3, 0, 1, 30, 31, 90, 91, 180, 181, 900)] == [
        "not yet due", "not yet due", "not yet due", "1-30", "1-30", "31-60", "61-90", "91-180", "91-180",
        "181+", "181+"]


def test_a_payment_counts_for_the_last_contact_before_it_within_the_window() -> None:
    contacts = [Contact(1, at(0), 10, "email"), Contact(1, at(2), 12, "phone"),  # case 1 pays at day 3: phone
                Contact(2, at(0), 40, "email"),  # case 2 pays at day 20: too late to count
                *[Contact(3, at(i), 11 + i, "email") for i in range(5)]]  # case 3 never pays
    payments = [Paid(1, at(3), amount=500, balance_before=1000), Paid(2, at(20), amount=100, balance_before=100),
                Paid(4, at(1), amount=100, balance_before=100)]  # case 4 was never contacted
    model = fit(contacts, payments)
    cells = {(c.bucket, c.channel): (c.contacts, c.paid) for c in model.cells}
    assert cells == {("1-30", "email"): (6, 0), ("1-30", "phone"): (1, 1), ("31-60", "email"): (1, 0)}
    assert model.contacts == 8
    assert (model.payments, model.share) == (1, 0.5)
    # email in 1-30 has enough contacts for its own rate; phone (1 contact) takes the bucket's, 1 in 7;
    # 31-60 has one contact in all, so the overall rate, 1 in 8.
    assert model.rate(20, "email") == 0.0
    assert model.rate(20, "phone") == pytest.approx(1 / 7)
    assert model.rate(45, "email") == pytest.approx(1 / 8)
    assert model.rate(200, "letter") == pytest.approx(1 / 8)


def test_no_history_no_recovery() -> None:
    model = fit([], [])
    assert model.rate(10, "email") == 0.0 and model.share == 1.0
    (rec,) = expected_recovery([Exposure(1, "EUR", 1000, (model.rate(10, "email"),))], model.share, seed=1)
    assert (rec.expected, rec.low, rec.high, rec.paying_cases) == (0, 0, 0, 0)


def test_expected_recovery_by_hand_and_the_same_seed_gives_the_same_draws() -> None:
    exposures = [Exposure(1, "EUR", 10_000, (0.5,)), Exposure(2, "EUR", 4_000, (0.5, 0.5)),
                 Exposure(3, "EUR", 2_000, ()), Exposure(4, "JPY", 9_000, (1.0,))]
    eur, jpy = expected_recovery(exposures, 0.5, seed=7)
    # Case 1: 5,000 x 0.5; case 2: 2,000 x 0.75 (one in four that neither contact pays); case 3: never.
    assert (eur.currency, eur.balance, eur.expected, eur.paying_cases) == ("EUR", 16_000, 4_000, 1.25)
    assert (jpy.expected, jpy.low, jpy.high) == (4_500, 4_500, 4_500)
    assert 0 <= eur.low <= eur.expected <= eur.high <= 7_000
    assert expected_recovery(exposures, 0.5, seed=7) == [eur, jpy]
    draws = {(r.low, r.high) for seed in range(20) for r in expected_recovery(exposures, 0.5, seed=seed,
                                                                               draws=5)[:1]}
    assert len(draws) > 1  # the seed does choose the draws
