"""A channel's logger is bound to its action's case and channel when the channel first logs."""

from __future__ import annotations

import structlog
from structlog.testing import capture_logs

from dunning.dispatch.bound_log import BoundLater


def test_bound_later_binds_on_first_use_and_keeps_what_it_bound():
    calls = []

    class Counting:
        def bind(self, **values):
            calls.append(values)
            return structlog.get_logger("test").bind(**values)

    log = BoundLater(Counting(), case_id=7, channel="sms")  # type: ignore[arg-type]
    assert calls == []  # nothing bound until the channel logs
    with capture_logs() as logs:
        log.info("queued", n=1)
        log.warning("slow")
    assert calls == [{"case_id": 7, "channel": "sms"}]  # bound once
    assert [(e["event"], e["case_id"], e["channel"]) for e in logs] == [("queued", 7, "sms"), ("slow", 7, "sms")]
    assert logs[0]["n"] == 1
