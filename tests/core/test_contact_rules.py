"""The contact rules at work in real runs: windows, days off, caps, holds, third parties, promises."""

from __future__ import annotations

import datetime as dt
import functools
import json
import threading
import time
import zoneinfo
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dunning import Delivery, dispatch, hookimpl, operations
from dunning.compliance.profiles import parse_compliance
from dunning.models import ActionKind, ActionStatus, Contact, ContactKind, Debtor, DebtorKind, HoldReason
from dunning.runtime import Runtime
from dunning.store import ImportedObligation
from tests.conftest import ChannelsPlugin




@pytest.fixture
def dunning_runtime(dunning_database: str | Path, dunning_runtime: Callable[..., Runtime]) -> Callable[..., Runtime]:
    """Every runtime here opens its store on SQLite, then (the test's second run) on PostgreSQL. The database is
    asked for first, so it outlives the runtimes: they are closed before it is dropped."""
    return functools.partial(dunning_runtime, database=dunning_database)


UTC = dt.UTC
LONDON = zoneinfo.ZoneInfo("Europe/London")
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
DUE = dt.date(2026, 3, 1)

CALLS = """
name = "calls"
[[steps]]
name = "call"
dpd = [1, 20]
channels = ["phone"]
template = "reminder-call"
at = ["07:00"]
"""

TWICE_A_DAY = """
name = "twice"
[[steps]]
name = "call"
dpd = [1, 4]
channels = ["phone"]
template = "reminder-call"
at = ["09:00", "15:00"]

[[steps]]
name = "week-later"
dpd = 8
channels = ["phone"]
template = "reminder-call"
at = ["09:30"]
"""


def runtime(dunning_runtime: Callable[..., Runtime], policy: str, compliance: dict[str, Any] | None = None,
            channels: tuple[str, ...] = ("phone",)) -> tuple[Runtime, ChannelsPlugin]:
    plugin = ChannelsPlugin(*channels)
    rt = dunning_runtime(plugins=[plugin], policy=policy, enabled=list(channels),
                         compliance=parse_compliance(compliance or {}, "test"))
    return rt, plugin


def events(rt: Runtime, kind: str) -> list[Any]:
    return rt.store.events(kind=kind)


def test_a_call_before_eight_in_the_debtors_zone_waits_until_eight(dunning_runtime, case_factory) -> None:
    # 29 March 2026: the UK moves to summer time; 08:00 BST is 07:00 UTC.
    rt, plugin = runtime(dunning_runtime, CALLS.replace("[1, 20]", "[28, 28]"), {"working_days_only": []})
    case_factory(rt, timezone="Europe/London", now=dt.datetime(2026, 2, 20, tzinfo=UTC))
    early = dt.datetime(2026, 3, 29, 7, 59, 59, tzinfo=LONDON)
    summary = dispatch.run(rt, early)
    assert (summary.sent, summary.deferred) == (0, 1)
    assert summary.deferred_by_rule == {"window:phone": 1}
    [deferred] = events(rt, "deferred")
    assert deferred.data["until"] == "2026-03-29T07:00:00Z" and deferred.data["rule"] == "window:phone"
    assert dispatch.run(rt, dt.datetime(2026, 3, 29, 7, 0, 0, tzinfo=UTC)).sent == 1
    assert len(plugin.channels["phone"].sent) == 1


def test_a_saturday_call_waits_for_monday_when_weekends_are_off(dunning_runtime, case_factory) -> None:
    rt, plugin = runtime(dunning_runtime, CALLS.replace("[1, 20]", "[6, 6]").replace("07:00", "10:00"))
    case_factory(rt, timezone="Europe/London")  # due 1 March: DPD 6 is Saturday 7 March
    saturday = dt.datetime(2026, 3, 7, 10, tzinfo=LONDON)
    summary = dispatch.run(rt, saturday)
    assert summary.deferred_by_rule == {"working_days:phone": 1}
    [action] = rt.store.actions(statuses=[ActionStatus.PENDING])
    assert action.not_before == dt.datetime(2026, 3, 9, 8, tzinfo=LONDON).astimezone(UTC)
    assert dispatch.run(rt, dt.datetime(2026, 3, 8, 12, tzinfo=LONDON)).sent == 0  # Sunday: still waiting
    assert dispatch.run(rt, dt.datetime(2026, 3, 9, 8, 5, tzinfo=LONDON)).sent == 1
    assert plugin.channels["phone"].sent


def test_regf_blocks_the_eighth_call_in_seven_days_and_allows_it_on_day_eight(dunning_runtime, case_factory) -> None:
    rt, plugin = runtime(dunning_runtime, TWICE_A_DAY, {"profile": "us-regf"})
    case = case_factory(rt, timezone="America/New_York", mobile="+1 212 555 0100", kind="person")
    outcomes = []
    for dpd in range(1, 5):
        for hour in (9, 15):
            moment = dt.datetime(2026, 3, 1 + dpd, hour, 5, tzinfo=NEW_YORK)
            summary = dispatch.run(rt, moment)
            outcomes.append((summary.sent, dict(summary.blocked_by_rule)))
    assert outcomes[:7] == [(1, {})] * 7
    assert outcomes[7] == (0, {"regf_7_in_7": 1})
    [blocked] = events(rt, "blocked")
    assert blocked.data["rule"] == "regf_7_in_7" and blocked.case_id == case.id
    # DPD 8, a week after the first call: it has left the rolling window.
    assert dispatch.run(rt, dt.datetime(2026, 3, 9, 9, 35, tzinfo=NEW_YORK)).sent == 1
    assert len(plugin.channels["phone"].sent) == 8


def test_regf_leaves_seven_quiet_days_after_a_conversation(dunning_runtime, case_factory) -> None:
    rt, _ = runtime(dunning_runtime, CALLS.replace("07:00", "10:00"), {"profile": "us-regf"})
    case = case_factory(rt, timezone="America/New_York", mobile="+1 212 555 0100", kind="person")
    with rt.store.transaction():
        rt.store.record_attempt(debtor_id=case.debtor_id, case_id=case.id, channel="phone",
                                at=dt.datetime(2026, 3, 1, 15, tzinfo=UTC), source="phone", connected=True)
    summary = dispatch.run(rt, dt.datetime(2026, 3, 2, 10, 5, tzinfo=NEW_YORK))
    assert summary.blocked_by_rule == {"quiet_after_conversation": 1}
    assert rt.store.case(case.id).last_contact_on == dt.date(2026, 3, 1)


def test_cn_blocks_the_fourth_connected_call_of_the_day(dunning_runtime, case_factory) -> None:
    rt, plugin = runtime(dunning_runtime, CALLS.replace("07:00", "10:00"), {"profile": "cn"})
    case = case_factory(rt, timezone="Asia/Shanghai", mobile="+86 138 0013 8000")
    shanghai = zoneinfo.ZoneInfo("Asia/Shanghai")
    with rt.store.transaction():
        for hour in (8, 9):  # two conversations this morning, logged by collectors
            rt.store.record_attempt(debtor_id=case.debtor_id, case_id=case.id, channel="phone", source="phone",
                                    at=dt.datetime(2026, 3, 2, hour, tzinfo=shanghai), connected=True)
    assert dispatch.run(rt, dt.datetime(2026, 3, 2, 10, 5, tzinfo=shanghai)).sent == 1  # the third
    [(key, _, _)] = plugin.channels["phone"].sent
    with rt.store.transaction():
        rt.store.update_attempt(key, connected=True, outcome="right_party")
    # A fourth call today (an extra action on the same day) is refused; tomorrow's is not.
    with rt.store.transaction():
        rt.store.add_action(
            key=f"{case.id}:extra:phone:1",
            case_id=case.id,
            kind=ActionKind.OUTREACH,
            step="call",
            channel="phone",
            template="reminder-call",
            planned_for=dt.date(2026, 3, 2),
            not_before=dt.datetime(2026, 3, 2, 3, tzinfo=UTC),
            now=dt.datetime(2026, 3, 2, 3, tzinfo=UTC),
        )
    assert dispatch.run(rt, dt.datetime(2026, 3, 2, 11, tzinfo=shanghai)).blocked_by_rule == {"cn_connected_calls": 1}
    assert dispatch.run(rt, dt.datetime(2026, 3, 3, 10, 5, tzinfo=shanghai)).sent == 1


def test_cn_stops_ringing_a_number_after_six_unanswered_attempts(dunning_runtime, case_factory) -> None:
    rt, _ = runtime(dunning_runtime, CALLS.replace("07:00", "10:00"), {"profile": "cn"})
    case = case_factory(rt, timezone="Asia/Shanghai", mobile="+86 138 0013 8000")
    shanghai = zoneinfo.ZoneInfo("Asia/Shanghai")
    with rt.store.transaction():
        for minute in range(6):
            rt.store.record_attempt(debtor_id=case.debtor_id, case_id=case.id, channel="phone", source="phone",
                                    contact="+8613800138000", connected=False,
                                    at=dt.datetime(2026, 3, 2, 9, minute, tzinfo=shanghai))
    summary = dispatch.run(rt, dt.datetime(2026, 3, 2, 10, 5, tzinfo=shanghai))
    assert summary.blocked_by_rule == {"cn_unanswered_per_number": 1}


class SlowRule:
    """Holds the rule check open long enough for a second dispatcher to arrive."""

    plugin_name = "slow-rule"

    @hookimpl
    def check_action(self, action: Any) -> None:
        time.sleep(0.3)


def test_two_dispatchers_racing_cannot_both_pass_the_last_allowed_call(dunning_runtime, case_factory,
                                                                      dunning_database) -> None:
    rt, plugin = runtime(dunning_runtime, CALLS.replace("07:00", "10:00"),
                         {"caps": [{"name": "one_call_a_day", "channel": "phone", "max": 1}], "working_days_only": []})
    case = case_factory(rt, timezone="Europe/London")
    moment = dt.datetime(2026, 3, 2, 10, 5, tzinfo=LONDON)
    dispatch.plan(rt, moment, dispatch.RunSummary())
    with rt.store.transaction():
        rt.store.add_action(key=f"{case.id}:extra:phone:1", case_id=case.id, kind=ActionKind.OUTREACH,
                            step="call", channel="phone", template="reminder-call", planned_for=moment.date(),
                            not_before=moment, now=moment)
    # Two dispatchers on the same database, each with its own connection and one claimed call,
    # judging their calls at the same moment.
    summaries = [dispatch.RunSummary(), dispatch.RunSummary()]
    both_claimed = threading.Barrier(2)

    def dispatcher(who: str, summary: dispatch.RunSummary) -> None:
        own = Runtime(rt.config, db_path=dunning_database, extra_plugins=[plugin, SlowRule()])
        try:
            [action] = own.store.claim(moment, moment, who, 1)
            both_claimed.wait(timeout=10)
            dispatch._Delivery(own, action, who, moment, summary).go()
        finally:
            own.close()

    threads = [threading.Thread(target=dispatcher, args=(who, s)) for who, s in zip("ab", summaries, strict=False)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted((s.sent, s.blocked) for s in summaries) == [(0, 1), (1, 0)]
    assert len(plugin.channels["phone"].sent) == 1


def _with_contacts(rt: Runtime, *contacts: tuple[str, str, str]) -> int:
    debtor = Debtor(id="P1", name="Pat Lee", kind=DebtorKind.PERSON, timezone="Europe/London")
    item = ImportedObligation(
        debtor=debtor, contacts=[Contact(debtor_id="P1", kind=ContactKind(k), value=v, role=r) for k, v, r in contacts],
        reference="LOAN-1", amount=80000, currency="GBP", issued_on=None, due_on=DUE)
    moment = dt.datetime(2026, 2, 1, tzinfo=UTC)
    _, touched = rt.store.import_obligations([item], moment, rt.today(moment))
    return touched[0]


class ContextRecorder:
    """A phone channel that keeps the template context each call was given."""

    name = "phone"
    needs = ("mobile", "home")

    def __init__(self) -> None:
        self.contexts: list[dict[str, Any]] = []

    def send(self, action: Any, case: Any, ctx: Any) -> Delivery:
        self.contexts.append(dict(ctx.template_context))
        chosen = ctx.contacts_of("mobile", "home")[0]
        return Delivery.sent(f"call:{ctx.key}", number=chosen.value)


class RecorderPlugin:
    plugin_name = "context-recorder"

    def __init__(self) -> None:
        self.channel = ContextRecorder()

    @hookimpl
    def register_channels(self, register: Callable[[Any], None]) -> None:
        register(self.channel)


THIRD_PARTIES = """
name = "third-parties"
[[steps]]
name = "whereabouts"
dpd = [6, 17]
channels = ["phone"]
template = "whereabouts"
audience = "contacts"
disclosure = "location"
at = ["10:00"]

[[steps]]
name = "tell-contacts"
dpd = [18, 30]
channels = ["phone"]
template = "contact-disclosure"
audience = "contacts"
disclosure = "debt"
at = ["11:00"]
"""


def test_third_parties_never_see_the_debt_at_location_level_and_are_asked_once(dunning_runtime) -> None:
    recorder = RecorderPlugin()
    rt = dunning_runtime(plugins=[recorder], policy=THIRD_PARTIES, enabled=["phone"],
                         compliance=parse_compliance({"working_days_only": []}, "test"))
    _with_contacts(rt, ("mobile", "+44 20 7946 0018", "debtor"), ("mobile", "+44 20 7946 0019", "spouse"),
                   ("home", "+44 20 7946 0020", "relative"))
    first = dispatch.run(rt, dt.datetime(2026, 3, 11, 10, 5, tzinfo=LONDON))  # DPD 10
    assert first.sent == 1
    [context] = recorder.channel.contexts
    leaked = {"balance", "balance_minor", "obligations", "case", "dpd", "currency"} & set(context)
    assert not leaked and context["debtor"].name == "Pat Lee" and context["disclosure"] == "location"
    assert "800" not in repr({k: v for k, v in context.items() if k != "debtor"})
    # Each third party is asked once: the relative next, then nobody is left.
    assert dispatch.run(rt, dt.datetime(2026, 3, 12, 10, 5, tzinfo=LONDON)).sent == 1
    third = dispatch.run(rt, dt.datetime(2026, 3, 13, 10, 5, tzinfo=LONDON))
    assert (third.sent, third.skipped) == (0, 1)
    assert [e.data["reason"] for e in rt.store.events(kind="skipped")] == ["no_contact"]


def test_third_parties_hear_of_the_debt_only_when_the_debtor_cannot_be_reached(dunning_runtime) -> None:
    recorder = RecorderPlugin()
    rt = dunning_runtime(plugins=[recorder], policy=THIRD_PARTIES.replace("[6, 17]", "[6, 6]"), enabled=["phone"],
                         compliance=parse_compliance({"working_days_only": []}, "test"))
    case_id = _with_contacts(rt, ("mobile", "+44 20 7946 0018", "debtor"), ("mobile", "+44 20 7946 0019", "spouse"))
    with rt.store.transaction():  # the debtor picked up yesterday
        rt.store.record_attempt(debtor_id="P1", case_id=case_id, channel="phone", source="phone", connected=True,
                                contact="+44 20 7946 0018", at=dt.datetime(2026, 3, 18, 17, tzinfo=UTC))
    summary = dispatch.run(rt, dt.datetime(2026, 3, 19, 11, 5, tzinfo=LONDON))  # DPD 18
    assert summary.blocked_by_rule == {"third_party_disclosure": 1}
    with rt.store.transaction():  # then five days of unanswered calls
        for day in range(20, 25):
            rt.store.record_attempt(debtor_id="P1", case_id=case_id, channel="phone", source="phone", connected=False,
                                    contact="+44 20 7946 0018", at=dt.datetime(2026, 3, day, 9, tzinfo=UTC))
    assert dispatch.run(rt, dt.datetime(2026, 3, 25, 11, 5, tzinfo=LONDON)).sent == 1
    assert "800.00" in recorder.channel.contexts[-1]["balance"]


def test_a_held_case_receives_nothing_and_its_evidence_says_why(dunning_runtime, case_factory) -> None:
    rt, plugin = runtime(dunning_runtime, "trade-receivables", {"working_days_only": []}, channels=("email", "phone"))
    case = case_factory(rt, timezone="Europe/London")
    operations.hold(rt, case.id, "breathing_space", now=dt.datetime(2026, 3, 1, 12, tzinfo=UTC))
    [hold] = rt.store.holds(case.id)
    assert hold.until == dt.date(2026, 3, 1) + dt.timedelta(days=60)  # the statutory 60 days
    summary = dispatch.run(rt, dt.datetime(2026, 3, 2, 10, tzinfo=UTC))
    assert summary.sent == 0 and summary.blocked_by_rule == {"hold:breathing_space": 2}
    assert plugin.channels["email"].sent == plugin.channels["phone"].sent == []
    assert {e.data["rule"] for e in events(rt, "blocked")} == {"hold:breathing_space"}


def test_cease_lets_only_the_permitted_notices_through(dunning_runtime, case_factory) -> None:
    policy = CALLS.replace('"reminder-call"', '"remedy-notice"').replace("07:00", "10:00").replace(
        'channels = ["phone"]', 'channels = ["email"]') + """
[[steps]]
name = "reminder"
dpd = 1
channels = ["email"]
template = "overdue-notice"
at = ["10:00"]
"""
    rt, plugin = runtime(dunning_runtime, policy, {"working_days_only": []}, channels=("email",))
    case = case_factory(rt, timezone="Europe/London")
    operations.hold(rt, case.id, "cease", now=dt.datetime(2026, 3, 1, 12, tzinfo=UTC))
    summary = dispatch.run(rt, dt.datetime(2026, 3, 2, 10, 5, tzinfo=UTC))
    assert (summary.sent, summary.blocked_by_rule) == (1, {"hold:cease": 1})
    assert [template for _, _, template in plugin.channels["email"].sent] == ["remedy-notice"]


def test_a_represented_debtor_is_contacted_through_the_attorney_only(dunning_runtime) -> None:
    recorder = RecorderPlugin()
    rt = dunning_runtime(plugins=[recorder], policy=CALLS.replace("07:00", "10:00"), enabled=["phone"],
                         compliance=parse_compliance({"working_days_only": []}, "test"))
    case_id = _with_contacts(rt, ("mobile", "+44 20 7946 0018", "debtor"), ("mobile", "+44 20 7946 0030", "attorney"))
    operations.hold(rt, case_id, HoldReason.ATTORNEY.value, now=dt.datetime(2026, 3, 1, 12, tzinfo=UTC))
    assert dispatch.run(rt, dt.datetime(2026, 3, 2, 10, 5, tzinfo=LONDON)).sent == 1
    [sent] = rt.store.events(kind="sent")
    assert sent.data["number"] == "+44 20 7946 0030"


def test_a_promise_more_than_two_days_out_is_refused_unless_approved(dunning_runtime, case_factory) -> None:
    rt, _ = runtime(dunning_runtime, "trade-receivables", channels=("email",))
    case = case_factory(rt)
    now = dt.datetime(2026, 3, 5, 10, tzinfo=UTC)
    with pytest.raises(operations.OperationError, match="at most 2 days out"):
        operations.promise(rt, case.id, "100.00", now + dt.timedelta(days=3), now=now)
    assert rt.store.promises(case.id) == []
    operations.promise(rt, case.id, "100.00", now + dt.timedelta(days=3), now=now, approved_by="Sam")
    with pytest.raises(operations.OperationError, match="supervisor"):
        operations.promise(rt, case.id, "100.00", now + dt.timedelta(days=1), now=now,
                           then=[("100.00", now + dt.timedelta(days=8))])


def test_a_promise_gets_a_reminder_before_and_a_check_after_and_a_plan_is_kept_in_order(
    dunning_runtime, case_factory
) -> None:
    rt, plugin = runtime(dunning_runtime, "trade-receivables", {"working_days_only": []}, channels=("email", "sms"))
    case = case_factory(rt, timezone="Europe/London", amount="300.00")
    now = dt.datetime(2026, 3, 5, 9, tzinfo=UTC)
    due = dt.datetime(2026, 3, 6, 15, tzinfo=UTC)
    operations.promise(rt, case.id, "100.00", due, now=now, approved_by="Sam",
                       then=[("100.00", due + dt.timedelta(days=7))])
    dispatch.run(rt, dt.datetime(2026, 3, 6, 13, 59, tzinfo=UTC))
    assert plugin.channels["sms"].sent == []
    dispatch.run(rt, dt.datetime(2026, 3, 6, 14, 0, tzinfo=UTC))  # an hour before
    assert [template for _, _, template in plugin.channels["sms"].sent] == ["promise-reminder"]
    operations.pay(rt, case.id, "100.00", at=dt.datetime(2026, 3, 6, 15, 30, tzinfo=UTC),
                   now=dt.datetime(2026, 3, 6, 15, 30, tzinfo=UTC))
    summary = dispatch.run(rt, dt.datetime(2026, 3, 6, 16, 0, tzinfo=UTC))  # the check an hour after
    assert (summary.promises_kept, summary.promises_broken) == (1, 0)
    statuses = [p.status.value for p in rt.store.promises(case.id)]
    assert statuses == ["kept", "pending"]  # the payment covered the first instalment only


FIRM = """
name = "firm"
[stages.onsite]
entry_dpd = 60
on_broken_promises = 1

[[steps]]
name = "reminder"
dpd = [1, 10]
channels = ["email"]
template = "gentle-reminder"
firm_template = "firm-reminder"
at = ["10:00"]
"""


def test_a_broken_promise_switches_to_firm_templates_and_escalates(dunning_runtime, case_factory) -> None:
    rt, plugin = runtime(dunning_runtime, FIRM, {"working_days_only": []}, channels=("email",))
    case = case_factory(rt, timezone="Europe/London")
    dispatch.run(rt, dt.datetime(2026, 3, 2, 10, 5, tzinfo=UTC))
    now = dt.datetime(2026, 3, 2, 11, tzinfo=UTC)
    operations.promise(rt, case.id, "100.00", now + dt.timedelta(days=1), now=now)
    # The day's reminder pauses for the promise; the promise's own reminder goes an hour before it.
    paused = dispatch.run(rt, dt.datetime(2026, 3, 3, 10, 5, tzinfo=UTC))
    assert paused.sent == 1 and paused.skipped == 1
    summary = dispatch.run(rt, dt.datetime(2026, 3, 4, 10, 5, tzinfo=UTC))  # missed by over an hour
    assert summary.promises_broken == 1 and summary.escalated == 1
    assert rt.store.case(case.id).stage.value == "onsite"
    templates = [template for _, _, template in plugin.channels["email"].sent]
    assert templates == ["gentle-reminder", "promise-reminder", "firm-reminder"]
    [triggered] = events(rt, "escalation_triggered")
    assert triggered.data["to"] == "onsite" and "broken promise" in triggered.data["trigger"]


SIGNALS = """
name = "signals"
[stages.onsite]
entry_dpd = 60
on_signals = ["relocation"]

[stages.litigation]
entry_dpd = 300
on_signals = ["business_closed"]
requires_approval = true

[[steps]]
name = "reminder"
dpd = [1, 10]
channels = ["email"]
template = "overdue-notice"
"""


def test_a_signal_escalates_at_once_as_the_policy_says(project, register_plugin) -> None:
    register_plugin(ChannelsPlugin("email"))
    (project.folder / "signals.toml").write_text(SIGNALS, encoding="utf-8")
    project.write_config(policy="signals.toml", enabled=["email"])
    from tests.conftest import row, write_csv

    project("import", str(write_csv(project.folder / "in.csv", [row()])), now="2026-02-20T08:00:00+00:00")
    project("signal", "1", "--kind", "relocation", "--note", "shop empty, sign says moved", now="2026-03-03T10:00:00Z")
    project("run", now="2026-03-03T10:05:00Z")
    shown = json.loads(project("cases", "show", "1", "--json", now="2026-03-03T10:06:00Z").stdout)
    assert shown["stage"] == "onsite" and shown["signals"] == ["relocation"]
    project("signal", "1", "--kind", "business_closed", now="2026-03-04T10:00:00Z")
    project("run", now="2026-03-04T10:05:00Z")
    approvals = json.loads(project("approvals", "--json", now="2026-03-04T10:06:00Z").stdout)
    assert [a["step"] for a in approvals] == ["trigger-litigation"]
    shown = json.loads(project("cases", "show", "1", "--json", now="2026-03-04T10:06:00Z").stdout)
    assert shown["risk"] == "bad_debt"
    kinds = [e["kind"] for e in json.loads(project("events", "--case", "1", "--json").stdout)]
    assert kinds.count("signal") == 2 and kinds.count("escalation_triggered") == 2
    project("signal", "1", "--kind", "moonlighting", expect=2)


def test_an_opt_out_blocks_the_channel_after_one_confirmation(dunning_runtime, case_factory) -> None:
    rt, plugin = runtime(dunning_runtime, "trade-receivables", {"working_days_only": []}, channels=("email", "phone"))
    case = case_factory(rt, timezone="Europe/London")
    operations.opt_out(rt, case.debtor_id, "email", now=dt.datetime(2026, 3, 1, 12, tzinfo=UTC), note="asked by phone")
    summary = dispatch.run(rt, dt.datetime(2026, 3, 2, 10, tzinfo=UTC))
    assert summary.blocked_by_rule == {"opt_out:email": 1}
    assert [t for _, _, t in plugin.channels["email"].sent] == ["opt-out-confirmation"]
    assert len(plugin.channels["phone"].sent) == 1
    assert dispatch.run(rt, dt.datetime(2026, 3, 4, 10, tzinfo=UTC)).blocked_by_rule == {"opt_out:email": 1}
    assert [t for _, _, t in plugin.channels["email"].sent] == ["opt-out-confirmation"]
    with pytest.raises(operations.OperationError, match="no contact"):
        operations.opt_out(rt, case.debtor_id, "phone", contact="+1 999", now=dt.datetime(2026, 3, 4, tzinfo=UTC))


def test_an_opt_out_of_one_number_accepts_it_in_any_notation(dunning_runtime, case_factory) -> None:
    rt, _ = runtime(dunning_runtime, "trade-receivables", channels=("phone",))
    case = case_factory(rt, mobile="+44 20 7946 0018", country="GB")
    operations.opt_out(rt, case.debtor_id, "phone", contact="020 7946 0018", now=dt.datetime(2026, 3, 1, tzinfo=UTC))
    assert rt.store.opt_outs(case.debtor_id) == [("phone", "+442079460018")]


THREAT = """
name = "threat"
[[steps]]
name = "lawyers-letter"
dpd = 1200
channels = ["email"]
template = "lawyers-letter"
"""


@pytest.mark.parametrize("with_legal, outcome", [(False, (0, {"time_barred": 1})), (True, (1, {}))])
def test_a_time_barred_debt_gets_no_threat_unless_the_legal_channel_decides(dunning_runtime, case_factory,
                                                                            with_legal, outcome) -> None:
    channels = ("email", "legal") if with_legal else ("email",)
    rt, _ = runtime(dunning_runtime, THREAT, {"working_days_only": []}, channels=channels)
    case_factory(rt, due_on=dt.date(2022, 3, 1), now=dt.datetime(2022, 2, 1, tzinfo=UTC))
    day = dt.date(2022, 3, 1) + dt.timedelta(days=1200)  # over three years after the due date
    summary = dispatch.run(rt, dt.datetime.combine(day, dt.time(10), UTC))
    assert (summary.sent, summary.blocked_by_rule) == outcome


@pytest.mark.parametrize("restart, outcome", [
    ("payment", (0, {"time_barred": 1})),  # 2025-04-01: after the debt became time-barred (2025-03-01)
    ("acknowledgement", (0, {"time_barred": 1})),
    ("payment in time", (1, {})),  # 2024-06-01: the period runs again, to 2027-06-01
])
def test_a_payment_or_acknowledgement_after_the_debt_became_time_barred_does_not_revive_it(
        dunning_runtime, case_factory, restart, outcome) -> None:
    rt, _ = runtime(dunning_runtime, THREAT, {"working_days_only": []}, channels=("email",))
    case = case_factory(rt, due_on=dt.date(2022, 3, 1), now=dt.datetime(2022, 2, 1, tzinfo=UTC))
    if restart == "acknowledgement":
        operations.acknowledge(rt, case.id, dt.date(2025, 4, 1), now=dt.datetime(2025, 4, 2, tzinfo=UTC))
    else:
        on = (
            dt.datetime(2024, 6, 1, 12, tzinfo=UTC)
            if restart == "payment in time"
            else dt.datetime(2025, 4, 1, 12, tzinfo=UTC)
        )
        operations.pay(rt, case.id, "100.00", at=on, now=on)
    day = dt.date(2022, 3, 1) + dt.timedelta(days=1200)
    summary = dispatch.run(rt, dt.datetime.combine(day, dt.time(10), UTC))
    assert (summary.sent, summary.blocked_by_rule) == outcome


def test_run_json_and_events_show_the_rule_behind_each_block(project, register_plugin) -> None:
    register_plugin(ChannelsPlugin("email", "phone"))
    project.write_config(enabled=["email", "phone"])
    from tests.conftest import row, write_csv

    project("import", str(write_csv(project.folder / "in.csv", [row()])), now="2026-02-20T08:00:00+00:00")
    project("hold", "1", "--reason", "dispute", "--note", "says the goods never arrived with the documents",
            now="2026-03-01T12:00:00Z")
    summary = json.loads(project("run", "--now", "2026-03-02T10:00:00Z", "--json").stdout)
    assert summary["blocked_by_rule"] == {"hold:dispute": 2}
    lines = project("events", "--kind", "blocked").stdout.splitlines()[1:]
    assert len(lines) == 2 and all("  rule=hold:dispute, " in line for line in lines)


def test_a_third_party_who_asks_to_be_called_again_may_be(dunning_runtime) -> None:
    recorder = RecorderPlugin()
    rt = dunning_runtime(plugins=[recorder], policy=THIRD_PARTIES, enabled=["phone"],
                         compliance=parse_compliance({"working_days_only": []}, "test"))
    _with_contacts(rt, ("mobile", "+44 20 7946 0018", "debtor"), ("mobile", "+44 20 7946 0019", "spouse"))
    assert dispatch.run(rt, dt.datetime(2026, 3, 11, 10, 5, tzinfo=LONDON)).sent == 1
    assert dispatch.run(rt, dt.datetime(2026, 3, 12, 10, 5, tzinfo=LONDON)).skipped == 1  # asked once
    [first] = [a for a in rt.store.actions() if a.status is ActionStatus.SENT]
    with rt.store.transaction():  # the spouse said: call me back tomorrow
        rt.store.update_attempt(first.key, connected=True, outcome="call_back")
    assert dispatch.run(rt, dt.datetime(2026, 3, 13, 10, 5, tzinfo=LONDON)).sent == 1
