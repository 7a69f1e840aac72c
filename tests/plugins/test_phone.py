"""The phone channel in real runs: call tasks, numbers and slots, idempotency, scripts at send time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

import dunning.plugins.phone as phone_plugin
from dunning import PluginContext, dispatch, hookimpl, money, operations
from dunning.models import ActionStatus, Case, Contact, Debtor
from dunning.plugins.phone import numbers
from dunning.plugins.phone.channel import PhoneChannel
from dunning.plugins.phone.store import MIGRATIONS, CallStore
from dunning.store import ImportedObligation
from tests import runtime_on_both

# Every runtime this module's tests open: on a SQLite file, then on a PostgreSQL database.
dunning_runtime = runtime_on_both.dunning_runtime

UTC = dt.UTC
DUE = dt.date(2026, 3, 1)
# consumer-loans, days past due 6 (a Wednesday): three timed calls to the borrower and one whereabouts call.
LOAN_DUE = dt.date(2026, 2, 26)
DPD6_EVENING = dt.datetime(2026, 3, 4, 20, tzinfo=UTC)
# trade-receivables, days past due 1: an overdue notice by phone, no `at` times.
DPD1 = dt.datetime(2026, 3, 2, 9, tzinfo=UTC)

MOBILE, WORK, HOME = "07700 900123", "+44 20 7946 0018", "+44 161 496 0000"


def add_case(rt: Any, debtor_id: str, *, amount: str = "1200.00", due_on: dt.date = DUE,
             phones: Sequence[tuple[str, str]] = (("mobile", MOBILE),),
             third_parties: Sequence[tuple[str, str, str, str]] = (), locale: str | None = None,
             kind: str = "person", name: str | None = None, country: str | None = "GB",
             timezone: str | None = None) -> Case:
    """A debtor with these numbers and one obligation; third parties as (kind, number, role, name)."""
    contacts = [Contact(debtor_id=debtor_id, kind=k, value=v) for k, v in phones]
    contacts += [Contact(debtor_id=debtor_id, kind=k, value=v, role=role, name=who)
                 for k, v, role, who in third_parties]
    item = ImportedObligation(
        debtor=Debtor(id=debtor_id, name=name or f"Debtor {debtor_id}", kind=kind, country=country, locale=locale,
                      timezone=timezone),
        contacts=contacts, reference=f"{debtor_id}-1", amount=money.parse(amount, "EUR"), currency="EUR",
        issued_on=None, due_on=due_on)
    moment = dt.datetime.combine(due_on, dt.time(8), tzinfo=UTC) - dt.timedelta(days=30)
    _, touched = rt.store.import_obligations([item], moment, rt.today(moment))
    return rt.store.case(touched[0])


def tasks(rt: Any, case_id: int | None = None) -> list:
    store = CallStore(rt.store.db)
    rows = [store.get(r[0]) for r in rt.store.db.execute("SELECT id FROM phone_calls ORDER BY id").fetchall()]
    return [t for t in rows if case_id is None or t.case_id == case_id]


def test_a_run_turns_each_phone_action_into_a_call_task(dunning_runtime):
    rt = dunning_runtime(plugins=[phone_plugin], policy="consumer-loans", enabled=["phone"],
                         channel_settings={"phone": {"collectors": ["ann", "bob"]}})
    case = add_case(rt, "L1", due_on=LOAN_DUE, third_parties=[("mobile", "+44 7700 900999", "spouse", "Sam Lee")])
    summary = dispatch.run(rt, DPD6_EVENING)
    assert summary.sent == 4 and summary.failed == 0
    made = tasks(rt)
    debtor_calls = [t for t in made if t.audience == "debtor"]
    assert [t.slot for t in debtor_calls] == ["morning", "afternoon", "evening"]
    assert {t.number for t in debtor_calls} == {"+447700900123"}  # stored as 07700 900123, country GB
    assert {t.number_kind for t in debtor_calls} == {"mobile"}
    assert {t.template for t in debtor_calls} == {"reminder-call"}
    assert {t.due_on for t in made} == {dt.date(2026, 3, 4)}
    assert {t.collector for t in made} == {["ann", "bob"][case.id % 2]}
    [contact_call] = [t for t in made if t.audience == "contacts"]
    assert (contact_call.number, contact_call.contact_name, contact_call.contact_role) == (
        "+447700900999",
        "Sam Lee",
        "spouse",
    )
    assert (contact_call.template, contact_call.disclosure) == ("whereabouts", "location")
    sent = {e.data["key"]: e for e in rt.store.events(kind="sent") if e.channel == "phone"}
    for task in made:
        assert sent[task.key].data["reference"] == f"call:{task.id}"
        assert sent[task.key].data["number"] == task.number
        assert sent[task.key].data["slot"] == task.slot
        assert sent[task.key].data["collector"] == task.collector


def test_the_number_follows_the_mix_over_the_numbers_left(dunning_runtime):
    rt = dunning_runtime(plugins=[phone_plugin], enabled=["phone"])
    case = add_case(rt, "B1", kind="company", phones=[("mobile", MOBILE), ("work", WORK), ("home", HOME)])
    with rt.store.transaction():
        rt.store.mark_contact_bad(rt.store.contacts("B1")[0].id, "test")  # the mobile
    dispatch.run(rt, DPD1)
    [task] = tasks(rt, case.id)
    usable = [c for c in rt.store.contacts("B1") if not c.bad]
    expected = numbers.choose_number(usable, task.key)
    assert task.contact_id == expected.id and task.number_kind in ("work", "home")
    assert task.slot in ("morning", "afternoon")  # a company: not in the evening


def test_no_duplicate_tasks_on_a_rerun(dunning_runtime):
    rt = dunning_runtime(plugins=[phone_plugin], policy="consumer-loans", enabled=["phone"])
    add_case(rt, "L1", due_on=LOAN_DUE)
    dispatch.run(rt, DPD6_EVENING)
    again = dispatch.run(rt, DPD6_EVENING)
    later = dispatch.run(rt, DPD6_EVENING + dt.timedelta(hours=2))
    assert (again.sent, later.sent) == (0, 0)
    assert len(tasks(rt)) == 3


class Crash(BaseException):
    """Stands for the process dying: not an Exception, so the run does not catch it."""


class CrashingPhone(PhoneChannel):
    def __init__(self) -> None:
        self.crash = True

    def send(self, action, case, ctx):
        delivery = super().send(action, case, ctx)
        if self.crash:
            self.crash = False
            raise Crash()
        return delivery


class CrashingPlugin:
    plugin_name = "phone"

    def __init__(self) -> None:
        self.channel = CrashingPhone()

    @hookimpl
    def register_channels(self, register):
        register(self.channel)

    @hookimpl
    def register_migrations(self, register):
        for name, step in MIGRATIONS:
            register(name, step)


def test_a_crash_after_the_task_is_written_resends_into_the_same_task(dunning_runtime):
    rt = dunning_runtime(plugins=[CrashingPlugin()], enabled=["phone"], claim_timeout=dt.timedelta(0))
    case = add_case(rt, "B1", kind="company")
    with pytest.raises(Crash):
        dispatch.run(rt, DPD1)
    [written] = tasks(rt)
    assert [a.status for a in rt.store.actions(case_id=case.id) if a.channel == "phone"] == [ActionStatus.SENDING]
    rerun = dispatch.run(rt, DPD1 + dt.timedelta(minutes=5))
    assert rerun.sent == 1
    assert tasks(rt) == [written]
    [sent] = [e for e in rt.store.events(kind="sent") if e.channel == "phone"]
    assert sent.data["reference"] == f"call:{written.id}"


def test_a_task_is_kept_once_even_if_the_channel_is_asked_twice(dunning_runtime):
    rt = dunning_runtime(plugins=[phone_plugin], enabled=["phone"])
    add_case(rt, "B1", kind="company")
    dispatch.run(rt, DPD1)
    [task] = tasks(rt)
    again = CallStore(rt.store.db).add_task(task, DPD1 + dt.timedelta(hours=1))
    assert again == task and len(tasks(rt)) == 1


def test_a_wrong_number_makes_the_next_task_use_another(dunning_runtime):
    rt = dunning_runtime(plugins=[phone_plugin], enabled=["phone"])
    case = add_case(rt, "B1", kind="company", phones=[("mobile", MOBILE), ("work", WORK)])
    dispatch.run(rt, DPD1)
    [first] = tasks(rt)
    operations.mark_contact_bad(rt, case.id, first.contact_id, "wrong number", now=DPD1)
    dispatch.run(rt, DPD1 + dt.timedelta(days=2))  # the next overdue notice
    second = tasks(rt)[-1]
    assert second.key != first.key and second.contact_id != first.contact_id
    assert second.number != first.number


def test_a_third_party_script_that_names_the_debt_fails_at_send_time(dunning_runtime, tmp_path: Path):
    folder = tmp_path / "templates" / "phone"
    folder.mkdir(parents=True)
    (folder / "whereabouts.txt").write_text("Tell {{ contact.name }} that {{ debtor.name }} owes {{ balance }}.\n")
    rt = dunning_runtime(plugins=[phone_plugin], policy="consumer-loans", enabled=["phone"],
                         templates=tmp_path / "templates")
    add_case(rt, "L1", due_on=LOAN_DUE, third_parties=[("mobile", "+44 7700 900999", "relative", "Pat")])
    summary = dispatch.run(rt, DPD6_EVENING)
    assert summary.failed == 1
    [failed] = rt.store.events(kind="delivery_failed")
    assert "balance" in failed.data["error"] and failed.step == "locate-via-contacts"
    assert all(t.audience == "debtor" for t in tasks(rt))


def test_no_task_without_a_number_the_core_lets_through(dunning_runtime):
    rt = dunning_runtime(plugins=[phone_plugin], enabled=["phone"])
    add_case(rt, "B1", kind="company", phones=())
    summary = dispatch.run(rt, DPD1)
    assert summary.sent == 0 and tasks(rt) == []
    assert [e.data["reason"] for e in rt.store.events(kind="skipped") if e.channel == "phone"] == ["no_contact"]


def test_a_phone_opt_out_blocks_the_task(dunning_runtime):
    rt = dunning_runtime(plugins=[phone_plugin], enabled=["phone"])
    add_case(rt, "B1", kind="company")
    operations.opt_out(rt, "B1", "phone", now=DPD1 - dt.timedelta(days=1))
    summary = dispatch.run(rt, DPD1)
    assert summary.blocked_by_rule == {"opt_out:phone": 1} and tasks(rt) == []


def test_bad_settings_stop_the_start(dunning_config):
    from dunning.config import ConfigError
    from dunning.runtime import Runtime

    with pytest.raises(ConfigError, match=r"channels.phone: unknown key 'colectors'"):
        Runtime(dunning_config(enabled=["phone"], channel_settings={"phone": {"colectors": ["ann"]}}),
                extra_plugins=[phone_plugin])


def test_an_opt_out_of_calls_as_a_medium_blocks_the_task_and_empties_the_call_list(dunning_runtime):
    from dunning.plugins.phone.calls import PhoneSettings
    from dunning.plugins.phone.worklist import call_list

    rt = dunning_runtime(plugins=[phone_plugin], enabled=["phone"])
    add_case(rt, "B1", kind="company")
    add_case(rt, "B2", kind="company")
    dispatch.run(rt, DPD1)
    assert {row.debtor_id for row in call_list(PluginContext(rt), DPD1.date(), DPD1, PhoneSettings())} == {"B1", "B2"}
    # B1 asks not to be called after the task was queued: "call", not "phone".
    operations.opt_out(rt, "B1", "call", now=DPD1)
    assert {row.debtor_id for row in call_list(PluginContext(rt), DPD1.date(), DPD1, PhoneSettings())} == {"B2"}
    summary = dispatch.run(rt, DPD1 + dt.timedelta(days=2))  # the next call step
    assert summary.blocked_by_rule.get("opt_out:call") == 1
