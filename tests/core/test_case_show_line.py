"""The end of `cases show`'s stage line: lateness and the next look, in words an operator reads at once."""

import datetime as dt

from dunning.cli_cases import lateness_and_next_look

TODAY = dt.date(2026, 12, 7)


def test_a_late_case_with_a_future_look_gives_both() -> None:
    assert lateness_and_next_look(38, dt.date(2026, 12, 9), TODAY) == "38 days past due, next look 2026-12-09"
    assert lateness_and_next_look(1, dt.date(2026, 12, 9), TODAY) == "1 day past due, next look 2026-12-09"


def test_a_look_on_or_before_today_is_the_next_run() -> None:
    # An import wakes a new case a year early on purpose; the date itself would only puzzle the reader.
    assert lateness_and_next_look(281, dt.date(2025, 2, 28), TODAY) == "281 days past due, next look at the next run"
    assert lateness_and_next_look(5, TODAY, TODAY) == "5 days past due, next look at the next run"


def test_a_case_not_yet_due_says_when_it_falls_due() -> None:
    assert lateness_and_next_look(-21, dt.date(2026, 12, 24), TODAY) == "first due in 21 days, next look 2026-12-24"
    assert lateness_and_next_look(-1, dt.date(2026, 12, 8), TODAY) == "first due in 1 day, next look 2026-12-08"


def test_a_closed_case_is_neither_late_nor_looked_at() -> None:
    assert lateness_and_next_look(None, None, TODAY) == "not late, no next look"
