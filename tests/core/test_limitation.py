"""The one limitation rule (dunning.compliance.limitation), used by the contact rules and by the legal plugin. Pure."""

from __future__ import annotations

import datetime as dt

from dunning.compliance.limitation import add_years, is_time_barred, limitation

D = dt.date


def test_three_years_from_the_due_date_by_default() -> None:
    period = limitation(D(2023, 3, 1), 3, today=D(2026, 1, 1))
    assert (period.starts_on, period.barred_on, period.restarted_by) == (D(2023, 3, 1), D(2026, 3, 1), None)
    assert not is_time_barred(D(2026, 2, 28), D(2023, 3, 1), 3)
    assert is_time_barred(D(2026, 3, 1), D(2023, 3, 1), 3)


def test_the_29th_of_february_ends_on_the_28th() -> None:
    assert add_years(D(2024, 2, 29), 3) == D(2027, 2, 28)
    assert add_years(D(2024, 2, 29), 4) == D(2028, 2, 29)


def test_a_payment_or_a_written_acknowledgement_restarts_the_period() -> None:
    paid = limitation(D(2023, 3, 1), 3, today=D(2026, 6, 1), payments=[D(2024, 5, 10)])
    assert (paid.starts_on, paid.barred_on, paid.restarted_by) == (D(2024, 5, 10), D(2027, 5, 10), "payment")
    both = limitation(D(2023, 3, 1), 3, today=D(2026, 6, 1), payments=[D(2024, 5, 10)],
                      acknowledgements=[D(2025, 1, 20)])
    assert (both.barred_on, both.restarted_by) == (D(2028, 1, 20), "acknowledgement")
    # Restarts chain: each one while the period still runs.
    chained = limitation(D(2020, 1, 1), 3, today=D(2026, 1, 1), payments=[D(2022, 6, 1), D(2025, 5, 1)])
    assert chained.barred_on == D(2028, 5, 1)


# The two modules disagreed here: compliance restarted the period from any last payment or acknowledgement,
# so a debt barred in 2023 came back to life with a payment in 2024; legal did not. Now both say: it does not.

def test_once_time_barred_a_later_payment_does_not_revive_the_debt() -> None:
    period = limitation(D(2020, 1, 1), 3, today=D(2026, 1, 1), payments=[D(2024, 6, 1)])
    assert (period.barred_on, period.restarted_by) == (D(2023, 1, 1), None)
    assert is_time_barred(D(2026, 1, 1), D(2020, 1, 1), 3, payments=[D(2024, 6, 1)])


def test_once_time_barred_a_later_acknowledgement_does_not_revive_the_debt() -> None:
    assert is_time_barred(D(2026, 1, 1), D(2020, 1, 1), 3, acknowledgements=[D(2023, 1, 2)])
    assert limitation(D(2020, 1, 1), 3, today=D(2026, 1, 1), acknowledgements=[D(2023, 1, 2)]).starts_on == D(
        2020, 1, 1
    )


def test_a_restart_on_the_day_the_debt_became_time_barred_is_too_late_and_the_day_before_is_not() -> None:
    assert is_time_barred(D(2024, 1, 1), D(2020, 1, 1), 3, payments=[D(2023, 1, 1)])
    assert not is_time_barred(D(2024, 1, 1), D(2020, 1, 1), 3, payments=[D(2022, 12, 31)])


def test_a_late_payment_after_one_in_time_leaves_the_period_the_one_in_time_set() -> None:
    # Paid in time in 2022 (barred from 2025-06-01), then again in 2025-12: the second one is too late.
    period = limitation(D(2020, 1, 1), 3, today=D(2026, 1, 1), payments=[D(2022, 6, 1), D(2025, 12, 1)])
    assert (period.starts_on, period.barred_on) == (D(2022, 6, 1), D(2025, 6, 1))
    assert period.is_barred(D(2026, 1, 1))


def test_a_payment_before_the_due_date_starts_nothing() -> None:
    assert limitation(D(2023, 3, 1), 3, today=D(2026, 6, 1), payments=[D(2023, 2, 1)]).barred_on == D(2026, 3, 1)


def test_a_jurisdiction_may_count_only_some_restarts() -> None:
    period = limitation(D(2023, 3, 1), 3, today=D(2026, 6, 1), payments=[D(2024, 5, 10)],
                        acknowledgements=[D(2025, 1, 20)], restarted_by=["acknowledgement"])
    assert period.barred_on == D(2028, 1, 20)
    assert is_time_barred(D(2026, 6, 1), D(2023, 3, 1), 3, payments=[D(2024, 5, 10)], restarted_by=[])


def test_restarts_after_today_nothing_unpaid_and_no_period() -> None:
    assert limitation(D(2023, 3, 1), 3, today=D(2026, 1, 1), payments=[D(2026, 2, 1)]).barred_on == D(2026, 3, 1)
    assert not is_time_barred(D(2040, 1, 1), None, 3)
    assert not is_time_barred(D(2040, 1, 1), D(2020, 1, 1), 0)  # a profile with limitation_years = 0 sets none
