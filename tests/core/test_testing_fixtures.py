"""The fixtures dunning gives plugin authors (``dunning.testing``) work as documented."""

from __future__ import annotations

import datetime as dt

from dunning import dispatch
from tests.conftest import ChannelsPlugin


def test_fake_clock_drives_day_by_day_runs(dunning_runtime, case_factory, fake_clock):
    plugin = ChannelsPlugin("email", "phone")
    rt = dunning_runtime(plugins=[plugin], enabled=["email", "phone"])
    case = case_factory(rt, amount="80.00", due_on=dt.date(2026, 3, 1), currency="GBP")
    assert case.balance == 8000 and case.currency == "GBP"
    sent_per_day = []
    for _ in range(5):  # 2 ... 6 March: DPD 1 to 5
        sent_per_day.append(dispatch.run(rt, fake_clock()).sent)
        fake_clock.advance(days=1)
    assert sent_per_day == [2, 0, 2, 0, 2]
    assert fake_clock.today == dt.date(2026, 3, 7)
    fake_clock.set("2026-04-01T10:00:00+00:00")
    assert fake_clock() == dt.datetime(2026, 4, 1, 10, tzinfo=dt.timezone.utc)
