"""The canned queries' SQL pieces, checked on an in-memory database (no Datasette needed)."""

from __future__ import annotations

import sqlite3

from dunning.datasette.queries import AGING_BUCKETS, days_past_due, major, stuck_in_stage
from dunning.policy import load_policy


def test_major_units_follow_each_currencys_exponent() -> None:
    conn = sqlite3.connect(":memory:")
    for minor, currency, expected in ((123456, "USD", 1234.56), (1500, "JPY", 1500), (1500, "KWD", 1.5),
                                      (-250, "EUR", -2.5)):
        got = conn.execute(f"SELECT {major(':m', ':c')}", {"m": minor, "c": currency}).fetchone()[0]
        assert got == expected, (currency, got)


def test_days_past_due_counts_from_as_of_or_today() -> None:
    conn = sqlite3.connect(":memory:")
    sql = f"SELECT {days_past_due(':due')}"
    assert conn.execute(sql, {"due": "2026-01-01", "as_of": "2026-03-01"}).fetchone()[0] == 59
    today = conn.execute(sql, {"due": "2000-01-01", "as_of": ""}).fetchone()[0]
    assert today > 9000


def test_the_buckets_cover_every_day_once() -> None:
    lows = [low for _, low, _ in AGING_BUCKETS[1:]]
    highs = [high for _, _, high in AGING_BUCKETS[:-1]]
    assert all(low == high + 1 for low, high in zip(lows, highs, strict=True))


def test_stuck_in_stage_names_the_policys_entry_days() -> None:
    policy = load_policy("consumer-loans")
    sql = stuck_in_stage(policy)
    for stage, rule in policy.stages.items():
        if rule.entry_dpd is not None:
            assert f"'{stage.value}', {rule.entry_dpd})" in sql
