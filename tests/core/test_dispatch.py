"""One run: planning, delivery, re-checks, failures, crashes and holds."""

from __future__ import annotations

import datetime as dt
import functools
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import dunning
from dunning import dispatch, operations
from dunning.models import ActionStatus
from dunning.runtime import Runtime
from tests.conftest import ChannelsPlugin, RecordingChannel



@pytest.fixture
def dunning_runtime(dunning_database: str | Path, dunning_runtime: Callable[..., Runtime]) -> Callable[..., Runtime]:
    """Every runtime here opens its store on SQLite, then (the test's second run) on PostgreSQL. The database is
    asked for first, so it outlives the runtimes: they are closed before it is dropped."""
    return functools.partial(dunning_runtime, database=dunning_database)

UTC = dt.UTC
DUE = dt.date(2026, 3, 1)
DAY1 = dt.datetime(2026, 3, 2, 9, tzinfo=UTC)  # DPD 1 of trade-receivables: email + phone

ONCE = """
name = "once"
[[steps]]
name = "notice"
dpd = 1
channels = ["email", "phone"]
template = "notice"
"""

SLOTTED = """
name = "slotted"
[[steps]]
name = "call"
dpd = 1
channels = ["phone"]
template = "call"
at = ["10:00", "16:00"]
"""


def test_run_sends_what_is_due_and_a_rerun_sends_nothing(dunning_runtime, case_factory):
    plugin = ChannelsPlugin("email", "phone")
    rt = dunning_runtime(plugins=[plugin], enabled=["email", "phone"])
    case = case_factory(rt)
    first = dispatch.run(rt, DAY1)
    assert (first.planned, first.sent, first.failed) == (2, 2, 0)
    second = dispatch.run(rt, DAY1)
    assert (second.planned, second.sent) == (0, 0)
    later_same_day = dispatch.run(rt, DAY1 + dt.timedelta(hours=5))
    assert (later_same_day.planned, later_same_day.sent) == (0, 0)
    assert plugin.channels["email"].sent == [(f"{case.id}:overdue-notice:email:2026-03-02", case.id, "overdue-notice")]
    sent = rt.store.events(kind="sent")
    assert [(e.channel, e.data["reference"]) for e in sent] == [
        ("email", f"rec:{case.id}:overdue-notice:email:2026-03-02"),
        ("phone", f"rec:{case.id}:overdue-notice:phone:2026-03-02"),
    ]


def test_disabled_channels_are_skipped_with_an_event(dunning_runtime, case_factory):
    rt = dunning_runtime(plugins=[ChannelsPlugin("email", "phone")], enabled=["email"])
    case_factory(rt)
    summary = dispatch.run(rt, DAY1)
    assert (summary.sent, summary.skipped) == (1, 1)
    skipped = rt.store.events(kind="skipped")
    assert skipped[0].channel == "phone" and skipped[0].data["reason"] == "channel_not_enabled"


def test_a_payment_between_planning_and_sending_cancels_the_action(dunning_runtime, case_factory):
    plugin = ChannelsPlugin("phone")
    rt = dunning_runtime(plugins=[plugin], enabled=["phone"], policy=SLOTTED)
    case = case_factory(rt)
    morning = dispatch.run(rt, DAY1)  # 09:00: both slots planned, neither ready
    assert (morning.planned, morning.sent) == (2, 0)
    assert dispatch.run(rt, DAY1.replace(hour=10)).sent == 1
    operations.pay(rt, case.id, "1200.00", at=DAY1.replace(hour=11), now=DAY1.replace(hour=11))
    afternoon = dispatch.run(rt, DAY1.replace(hour=17))
    assert afternoon.sent == 0
    assert len(plugin.channels["phone"].sent) == 1
    statuses = sorted(a.status for a in rt.store.actions(case_id=case.id))
    assert statuses == [ActionStatus.CANCELLED, ActionStatus.SENT]
    resolved = rt.store.events(kind="resolved")[0]
    assert resolved.data["as"] == "paid" and resolved.data["cancelled_actions"] == 1


def test_a_promise_made_after_planning_skips_the_reminder(dunning_runtime, case_factory):
    rt = dunning_runtime(plugins=[ChannelsPlugin("phone")], enabled=["phone"], policy=SLOTTED)
    case = case_factory(rt)
    dispatch.run(rt, DAY1)
    operations.promise(rt, case.id, "600.00", DAY1 + dt.timedelta(days=1), now=DAY1.replace(hour=9, minute=30))
    summary = dispatch.run(rt, DAY1.replace(hour=17))
    assert (summary.sent, summary.skipped) == (0, 2)
    assert {e.data["reason"] for e in rt.store.events(kind="skipped")} == {"promise_pending"}


def test_a_plugin_that_raises_fails_the_action_retries_it_and_the_run_goes_on(dunning_runtime, case_factory):
    broken = RecordingChannel("email", fail_with=RuntimeError("smtp exploded"))
    plugin = ChannelsPlugin("phone", email=broken)
    rt = dunning_runtime(plugins=[plugin], enabled=["email", "phone"], policy=ONCE)
    case_factory(rt)
    summary = dispatch.run(rt, DAY1)
    assert (summary.sent, summary.failed) == (1, 1)  # phone went out despite email raising
    failed = rt.store.events(kind="delivery_failed")[0]
    assert failed.data["error"] == "RuntimeError: smtp exploded" and failed.data["attempt"] == 1
    retry_at = dt.datetime.fromisoformat(failed.data["retry_at"].replace("Z", "+00:00"))
    assert retry_at == DAY1 + rt.config.retry_after
    # Too early: not retried. Then retried with doubling backoff until the limit.
    assert dispatch.run(rt, DAY1 + dt.timedelta(minutes=10)).failed == 0
    moment = DAY1
    for _attempt in range(2, rt.config.max_attempts + 1):
        moment = moment + dt.timedelta(days=1)
        assert dispatch.run(rt, moment).failed == 1
    attempts = [e.data["attempt"] for e in rt.store.events(kind="delivery_failed")]
    assert attempts == list(range(1, rt.config.max_attempts + 1))
    assert rt.store.events(kind="delivery_failed")[-1].data["final"] is True
    assert dispatch.run(rt, moment + dt.timedelta(days=3)).failed == 0
    email_action = next(a for a in rt.store.actions() if a.channel == "email")
    assert email_action.status is ActionStatus.FAILED and email_action.attempts == rt.config.max_attempts


def test_run_exit_code_is_3_when_a_delivery_failed(project, register_plugin):
    register_plugin(ChannelsPlugin("phone", email=RecordingChannel("email", fail_with=OSError("down"))))
    project.write_config(enabled=["email", "phone"])
    from tests.conftest import row, write_csv

    project("import", str(write_csv(project.folder / "in.csv", [row()])), now="2026-02-20T08:00:00+00:00")
    result = project("run", "--now", "2026-03-02T09:00:00+00:00", "--json", expect=3)
    assert json.loads(result.stdout)["failed"] == 1


def test_holds_block_outreach_and_keep_the_evidence(dunning_runtime, case_factory):
    plugin = ChannelsPlugin("email", "phone")
    rt = dunning_runtime(plugins=[plugin], enabled=["email", "phone"])
    case = case_factory(rt)
    operations.hold(rt, case.id, "dispute", now=DAY1 - dt.timedelta(hours=1), note="says goods were damaged")
    summary = dispatch.run(rt, DAY1)
    assert (summary.sent, summary.blocked) == (0, 2)
    assert summary.blocked_by_rule == {"hold:dispute": 2}
    assert plugin.channels["email"].sent == []
    assert {e.data["rule"] for e in rt.store.events(kind="blocked")} == {"hold:dispute"}
    # Without an end date the hold stays until released.
    assert dispatch.run(rt, DAY1 + dt.timedelta(days=2)).blocked == 2
    # A dispute is lifted only once verification of the debt went out.
    with pytest.raises(operations.OperationError, match="--verification-sent"):
        operations.release(rt, case.id, now=DAY1 + dt.timedelta(days=3), by="supervisor")
    operations.release(rt, case.id, now=DAY1 + dt.timedelta(days=3), by="supervisor", verification_sent=True)
    after = dispatch.run(rt, DAY1 + dt.timedelta(days=4))  # DPD 5: overdue notice again
    assert (after.sent, after.blocked) == (2, 0)


def test_a_hold_with_an_end_date_lifts_itself(dunning_runtime, case_factory):
    plugin = ChannelsPlugin("email", "phone")
    rt = dunning_runtime(plugins=[plugin], enabled=["email", "phone"])
    case = case_factory(rt)
    operations.hold(rt, case.id, "other", now=DAY1 - dt.timedelta(hours=1), until=dt.date(2026, 3, 4))
    assert dispatch.run(rt, DAY1).blocked == 2
    lifted = dispatch.run(rt, dt.datetime(2026, 3, 4, 9, tzinfo=UTC))  # DPD 3
    assert lifted.holds_lifted == 1 and lifted.sent == 2
    released = rt.store.events(kind="hold_released")[0]
    assert released.data["by"] == "expiry"


def test_stage_changes_wait_out_a_hold_instead_of_being_dropped(dunning_runtime, case_factory):
    rt = dunning_runtime(plugins=[ChannelsPlugin("email", "phone", "letter", "visit")],
                         enabled=["email", "phone", "letter", "visit"])
    case = case_factory(rt)
    day30 = dt.datetime(2026, 3, 31, 9, tzinfo=UTC)
    dispatch.run(rt, day30)
    operations.hold(rt, case.id, "bankruptcy", now=day30, until=dt.date(2026, 4, 5))
    dispatch.run(rt, day30 + dt.timedelta(days=1))  # DPD 31: enter-onsite waits
    assert rt.store.case(case.id).stage == "internal"
    assert any(e.data.get("rule") == "hold:bankruptcy" for e in rt.store.events(kind="deferred"))
    dispatch.run(rt, dt.datetime(2026, 4, 5, 9, tzinfo=UTC))
    assert rt.store.case(case.id).stage == "onsite"


PROVIDER_RUN = Path(__file__).with_name("provider_run.py")


def test_a_crash_between_send_and_record_resends_once_and_records_once(dunning_runtime, case_factory, tmp_path: Path,
                                                                       dunning_database: Path | str):
    rt = dunning_runtime(plugins=[ChannelsPlugin("email")], enabled=["email"])
    case = case_factory(rt)
    rt.close()
    script = PROVIDER_RUN
    env = {"DUNNING_LOAD_PLUGINS": "", "PATH": ""}
    crashed = subprocess.run([sys.executable, str(script), str(tmp_path), "crash", str(dunning_database)],
                             capture_output=True, text=True, env=env)
    assert crashed.returncode == 9, crashed.stderr
    rerun = subprocess.run([sys.executable, str(script), str(tmp_path), "ok", str(dunning_database)],
                           capture_output=True, text=True, env=env)
    assert rerun.returncode == 0, rerun.stderr
    assert "re-queued actions left in flight by a stopped run" in rerun.stdout
    assert rerun.stdout.strip().splitlines()[-1] == "0 1"  # planned by the crashed run; only the re-send
    again = subprocess.run([sys.executable, str(script), str(tmp_path), "ok", str(dunning_database)],
                           capture_output=True, text=True, env=env)
    assert again.stdout.strip().splitlines()[-1] == "0 0"
    key = f"{case.id}:overdue-notice:email:2026-03-02"
    # The provider saw the same key twice (and can de-duplicate on it); the log recorded one delivery.
    assert (tmp_path / "provider.log").read_text().splitlines() == [key, key]
    rt = dunning_runtime(plugins=[ChannelsPlugin("email")], enabled=["email"])
    sent = rt.store.events(kind="sent")
    assert len(sent) == 1 and sent[0].data["key"] == key
    assert [a.status for a in rt.store.actions(case_id=case.id) if a.channel == "email"] == [ActionStatus.SENT]


def test_a_claim_left_by_a_live_process_is_not_stolen(dunning_runtime, case_factory):
    rt = dunning_runtime(plugins=[ChannelsPlugin("email", "phone")], enabled=["email", "phone"])
    case_factory(rt)
    dispatch.plan(rt, DAY1, dispatch.RunSummary())
    claimed = rt.store.claim(DAY1, dt.datetime.now(UTC), "elsewhere:1:abc", 10)
    assert len(claimed) == 2
    assert dispatch.reclaim_abandoned(rt) == 0  # another host, not timed out: still theirs
    summary = dispatch.run(rt, DAY1)
    assert summary.sent == 0


def test_a_permanent_failure_is_not_retried_and_channel_facts_cannot_overwrite_the_core(dunning_runtime, case_factory):
    from dunning import Delivery, hookimpl

    class Picky:
        name = "email"
        needs = ()

        def send(self, action, case, ctx):
            return Delivery.failed("550 mailbox unknown", retry=False, attempt=99, final=False, smtp_code=550)

    class Chatty:
        name = "phone"
        needs = ()

        def send(self, action, case, ctx):
            return Delivery.sent("call-7", template="mine", key="mine", action="mine", queue="morning")

    class Plugin:
        @hookimpl
        def register_channels(self, register):
            register(Picky())
            register(Chatty())

    rt = dunning_runtime(plugins=[Plugin()], enabled=["email", "phone"], policy=ONCE)
    case = case_factory(rt)
    summary = dispatch.run(rt, DAY1)
    assert (summary.sent, summary.failed) == (1, 1)
    failed = rt.store.events(kind="delivery_failed")[0].data
    assert (failed["error"], failed["attempt"], failed["final"], failed["smtp_code"]) == (
        "550 mailbox unknown",
        1,
        True,
        550,
    )
    assert "retry_at" not in failed
    sent = rt.store.events(kind="sent")[0].data
    assert (sent["reference"], sent["template"], sent["queue"]) == ("call-7", "notice", "morning")
    assert sent["key"] == f"{case.id}:notice:phone:2026-03-02"
    assert [a.status for a in rt.store.actions() if a.channel == "email"] == [ActionStatus.FAILED]


def test_a_stage_change_says_which_required_steps_never_went_out(dunning_runtime, case_factory):
    # The letter channel is off: the required letters are skipped, and the move to the agency records that.
    rt = dunning_runtime(plugins=[ChannelsPlugin("email", "phone", "visit")], enabled=["email", "phone", "visit"])
    case = case_factory(rt, amount="9000.00")
    dispatch.run(rt, dt.datetime(2026, 5, 30, 9, tzinfo=UTC))  # DPD 90
    dispatch.run(rt, dt.datetime(2026, 5, 31, 9, tzinfo=UTC))  # DPD 91
    change = next(e for e in rt.store.events(kind="stage_changed") if e.data["to"] == "agency")
    assert change.data["required_not_sent"] == ["formal-demand", "reconciliation-statement"]
    assert rt.store.case(case.id).stage == "agency"


class AlwaysLater:
    """A channel whose provider answers "try later" every time (an SMTP server stuck on 4xx)."""

    name = "email"
    needs = ()

    def send(self, action, case, ctx):
        from dunning import Delivery
        return Delivery.deferred(ctx.now + dt.timedelta(minutes=10), "451 4.3.0 mailbox busy")


def test_a_provider_that_always_says_later_ends_in_a_failure(dunning_runtime, case_factory):
    class Plugin:
        plugin_name = "always-later"

        @dunning.hookimpl
        def register_channels(self, register):
            register(AlwaysLater())

    rt = dunning_runtime(plugins=[Plugin()], enabled=["email"], max_attempts=2)
    case_factory(rt)
    moment = DAY1
    outcomes = []
    for _ in range(9):
        summary = dispatch.run(rt, moment)
        outcomes.append((summary.deferred, summary.failed))
        moment += dt.timedelta(minutes=15)
    assert outcomes[:7] == [(1, 0)] * 7 and outcomes[7] == (0, 1) and outcomes[8] == (0, 0)
    [failed] = [a for a in rt.store.actions() if a.channel == "email"]
    assert failed.status is ActionStatus.FAILED and "still deferred after 8 tries" in failed.last_error
