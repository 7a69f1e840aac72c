"""The call a promise to pay asks for: its times and the line on the call list (pure, no database)."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from dunning.plugins.phone.calls import CallRow, order, promise_call_times, promise_reason

LONDON = zoneinfo.ZoneInfo("Europe/London")


def test_a_promise_is_called_about_before_and_after_its_time_in_the_business_zone():
    due = dt.datetime(2026, 4, 7, 10, tzinfo=dt.UTC)  # 11:00 in London (summer time)
    before, after = promise_call_times(due, dt.timedelta(hours=1), dt.timedelta(minutes=90), LONDON)
    assert (f"{before:%H:%M}", f"{after:%H:%M}") == ("10:00", "12:30")
    local = due.astimezone(LONDON)
    assert promise_reason("GBP 3,000.00", local, before, after, broken=False) == (
        "promise of GBP 3,000.00 due 11:00: call 10:00 to remind, 12:30 to check")
    assert promise_reason("GBP 3,000.00", local, before, after, broken=True) == (
        "promise of GBP 3,000.00 due 11:00 not kept: call to ask why")


def row(case_id: int, priority: float, call_at: tuple[str, ...] = ()) -> CallRow:
    return CallRow(call_id=case_id, key=f"{case_id}:k", case_id=case_id, debtor_id=f"D{case_id}",
                   debtor_name="x", number="+447700900123", kind="mobile", slot="morning", priority=priority,
                   reasons=(), step=None, template=None, audience="debtor", balance="GBP 1.00", balance_minor=100,
                   currency="GBP", dpd=1, collector=None, promise_id=case_id if call_at else None, call_at=call_at)


def test_promises_due_today_come_first_the_earliest_first_whatever_the_priority():
    rows = [row(1, 90.0), row(2, 10.0, ("15:00", "17:00")), row(3, 50.0), row(4, 5.0, ("09:00", "11:00"))]
    assert [r.case_id for r in order(rows)] == [4, 2, 1, 3]
