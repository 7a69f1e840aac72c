"""One test per hook (test_hook_<name>), each with a small plugin class registered in the test."""

from __future__ import annotations

import datetime as dt
import functools
import inspect
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import pytest
from structlog.testing import capture_logs

from dunning import Verdict, dispatch, hookimpl, hookspecs, operations
from dunning.cli import cli
from dunning.models import ActionStatus, Stage
from dunning.runtime import Runtime
from tests.conftest import ChannelsPlugin, Project, dump, row, write_csv




@pytest.fixture
def dunning_runtime(dunning_database: str | Path, dunning_runtime: Callable[..., Runtime]) -> Callable[..., Runtime]:
    """Every runtime here opens its store on SQLite, then (the test's second run) on PostgreSQL. The database is
    asked for first, so it outlives the runtimes: they are closed before it is dropped."""
    return functools.partial(dunning_runtime, database=dunning_database)


UTC = dt.UTC
DAY1 = dt.datetime(2026, 3, 2, 9, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]
HOOKS = sorted(name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction) if hasattr(fn, "dunning_spec"))

ONSITE_AT_2 = """
name = "fast"
[stages.onsite]
entry_dpd = 2
[[steps]]
name = "notice"
dpd = 1
channels = ["email"]
template = "notice"
"""


def test_every_hook_has_a_test_and_a_reference_section():
    assert len(HOOKS) >= 8
    tests = {name for name in globals() if name.startswith("test_hook_")}
    docs = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
    for hook in HOOKS:
        assert f"test_hook_{hook}" in tests, f"hook {hook} has no test_hook_{hook}"
        assert re.search(rf"^### {hook}\b", docs, re.MULTILINE), (
            f"hook {hook} has no '### {hook}' section in docs/plugins.md"
        )
        assert (getattr(hookspecs, hook).__doc__ or "").strip(), f"hook {hook} has no docstring"


def test_hook_register_channels(dunning_runtime, case_factory):
    plugin = ChannelsPlugin("email")
    rt = dunning_runtime(plugins=[plugin], enabled=["email"])
    assert rt.plugins.channels["email"] is plugin.channels["email"]
    case = case_factory(rt)
    dispatch.run(rt, DAY1)
    assert [k for k, _, _ in plugin.channels["email"].sent] == [f"{case.id}:overdue-notice:email:2026-03-02"]


class Commands:
    plugin_name = "greeter"

    @hookimpl
    def register_commands(self, cli: click.Group) -> None:
        @cli.command(name="hello-collector")
        @click.argument("name")
        def hello(name: str) -> None:
            """Greets a collector."""
            click.echo(f"hello {name}")


def test_hook_register_commands(project: Project, register_plugin):
    register_plugin(Commands())
    assert project("hello-collector", "Lee").stdout == "hello Lee\n"
    assert "Greets a collector." in project("--help").stdout
    assert "hello-collector" not in cli.commands  # added when plugins load, per command line, not on import


def test_hook_register_commands_respects_plugins_disabled(project: Project, register_plugin):
    register_plugin(Commands())
    project.write_config(extra='[plugins]\ndisabled = ["greeter"]\n')
    assert "hello-collector" not in project("--help").stdout
    assert "No such command 'hello-collector'" in project("hello-collector", "Lee", expect=2).output


def test_hook_register_commands_a_failing_plugin_leaves_the_others(project: Project, register_plugin):
    class Broken:
        plugin_name = "broken-commands"

        @hookimpl
        def register_commands(self, cli: click.Group) -> None:
            raise RuntimeError("no commands today")

    register_plugin(Broken())
    register_plugin(Commands())
    result = project("hello-collector", "Lee")
    assert "hello Lee" in result.stdout
    assert "plugin broken-commands could not add its commands: no commands today" in result.stderr


def test_hook_register_commands_cannot_replace_a_built_in(project: Project, register_plugin):
    class Impostor:
        plugin_name = "impostor"

        @hookimpl
        def register_commands(self, cli: click.Group) -> None:
            @cli.command(name="run")
            def run() -> None:
                click.echo("not the real run")

    register_plugin(Impostor())
    assert "not the real run" not in project("run", "--dry-run").stdout
    assert "plugin impostor: a command 'run' exists already" in project("--help").stderr


def test_hook_check_settings(project: Project, register_plugin):
    received: list[dict[str, Any]] = []

    class CrmMirror:
        plugin_name = "crm"

        @hookimpl
        def check_settings(self, settings: Any) -> None:
            unknown = set(settings) - {"url", "batch"}
            if unknown:
                raise ValueError(f"unknown key '{sorted(unknown)[0]}' (allowed: batch, url)")
            if not isinstance(settings.get("url"), str):
                raise ValueError("'url' is required: the CRM's address")
            received.append(dict(settings))

        @hookimpl
        def record_event(self, event: Any) -> None:
            pass

    register_plugin(CrmMirror())
    project.write_config(extra='[plugins.crm]\nurl = "https://crm.example.com/events"\n')
    project("cases", "list")
    assert received == [{"url": "https://crm.example.com/events"}]
    before = dump(project)
    project.write_config(extra='[plugins.crm]\nurl = "https://crm.example.com/events"\nbatchsize = 10\n')
    refused = project("cases", "list", expect=1)
    assert f"{project.config}: plugins.crm: unknown key 'batchsize' (allowed: batch, url)" in refused.output
    assert "Traceback" not in refused.output and dump(project) == before
    project.write_config(extra="[plugins.crm]\nbatch = 10\n")
    assert "plugins.crm: 'url' is required" in project("cases", "list", expect=1).output


def test_hook_check_settings_unknown_plugins_and_plugins_without_settings(project: Project, register_plugin):
    class Quiet:
        plugin_name = "quiet"

        @hookimpl
        def record_event(self, event: Any) -> None:
            pass

    register_plugin(Quiet())
    project.write_config(extra='[plugins.nosuch]\nurl = "x"\n')
    assert (
        "unknown key 'plugins.nosuch': no installed plugin is called 'nosuch'"
        in project("cases", "list", expect=1).output
    )
    project.write_config(extra='[plugins.quiet]\nlevel = 2\n')
    assert (
        "unknown key 'plugins.quiet.level': plugin quiet takes no settings" in project("cases", "list", expect=1).output
    )


def test_hook_register_migrations(dunning_runtime, case_factory):
    class Matters:
        plugin_name = "matters"

        @hookimpl
        def register_migrations(self, register: Any) -> None:
            register("m001_matters", lambda db: db.execute(
                "CREATE TABLE matters_files (case_id INTEGER, court TEXT)"))
            register("m002_matter_index", lambda db: db.execute(
                "CREATE INDEX matters_files_case ON matters_files (case_id)"))

    rt = dunning_runtime(plugins=[Matters()])
    assert "matters_files" in rt.store.db.table_names()
    from dunning import migration_set
    from dunning.store import postgres_schema

    # Where each database records the steps applied (sqlite-utils' table on SQLite).
    on_postgres = getattr(rt.store.db, "dialect", "sqlite") == "postgresql"
    table = postgres_schema.MIGRATIONS_TABLE if on_postgres else migration_set.MIGRATIONS_TABLE
    applied = f"SELECT name FROM {table} WHERE migration_set = ? ORDER BY name"
    assert [r["name"] for r in rt.store.db.query(applied, ["plugin:matters"])] == ["m001_matters", "m002_matter_index"]
    rt.store.migrate(rt.plugins.migrations)  # running again is a no-op
    assert len(list(rt.store.db.query(applied, ["plugin:matters"]))) == 2


def test_hook_register_payment_providers(dunning_runtime, case_factory):
    from dunning.portal import payments
    from dunning.portal.loopback_provider import LoopbackProvider
    from dunning.portal.providers import payment_providers

    provider = LoopbackProvider(webhook_url="http://127.0.0.1:9/unused", name="cards")

    class Cards:
        plugin_name = "cards"

        @hookimpl
        def register_payment_providers(self, register: Any) -> None:
            register(provider)

    rt = dunning_runtime(plugins=[Cards()])
    case = case_factory(rt)
    assert payment_providers(rt) == {"cards": provider}
    with provider:
        url = payments.start_payment(rt, provider, case.id, "100.00", DAY1)
    assert url.startswith("http://127.0.0.1:") and provider.payments[url.rsplit("/", 1)[-1]].amount == 10000


def test_hook_check_action(dunning_runtime, case_factory):
    seen: list[tuple[str, int]] = []

    class NoPhonesOnDpd1:
        @hookimpl
        def check_action(self, action: Any, case: Any, now: dt.datetime) -> Verdict | None:
            seen.append((action.channel, case.id))
            if action.channel == "phone":
                return Verdict.block("test:no-phones", "phones are off today")
            if action.channel == "email":
                return Verdict.defer("test:later", now + dt.timedelta(hours=3), "after lunch")
            return None

    channels = ChannelsPlugin("email", "phone")
    rt = dunning_runtime(plugins=[channels, NoPhonesOnDpd1()], enabled=["email", "phone"])
    case = case_factory(rt)
    summary = dispatch.run(rt, DAY1)
    assert (summary.sent, summary.blocked, summary.deferred) == (0, 1, 1)
    assert summary.blocked_by_rule == {"test:no-phones": 1} and summary.deferred_by_rule == {"test:later": 1}
    assert rt.store.events(kind="blocked")[0].data["rule"] == "test:no-phones"
    later = dispatch.run(rt, DAY1 + dt.timedelta(hours=3))
    assert later.sent == 0 and later.deferred == 1  # the rule still says later; it is asked again each time
    assert set(seen) == {("email", case.id), ("phone", case.id)}


def test_hook_check_action_needs_approval_goes_to_the_queue(dunning_runtime, case_factory):
    class FourEyes:
        @hookimpl
        def check_action(self, action: Any, case: Any, now: dt.datetime) -> Verdict | None:
            return Verdict.needs_approval("test:four-eyes", "large balance") if action.channel == "email" else None

    channels = ChannelsPlugin("email")
    rt = dunning_runtime(plugins=[channels, FourEyes()], enabled=["email"])
    case_factory(rt)
    assert dispatch.run(rt, DAY1).awaiting_approval == 1
    waiting = rt.store.approvals()
    operations.decide(rt, waiting[0].id, approve=True, by="Dana", now=DAY1)
    assert dispatch.run(rt, DAY1 + dt.timedelta(minutes=5)).sent == 1
    assert len(channels.channels["email"].sent) == 1


def test_hook_escalation_check(dunning_runtime, case_factory):
    class Veto:
        @hookimpl
        def escalation_check(self, case: Any, from_stage: Stage, to_stage: Stage) -> Verdict | None:
            if to_stage is Stage.ONSITE:
                return Verdict.block("test:no-visits", "field team is on strike")
            return None

    rt = dunning_runtime(plugins=[ChannelsPlugin("email"), Veto()], enabled=["email"], policy=ONSITE_AT_2)
    case = case_factory(rt)
    summary = dispatch.run(rt, DAY1 + dt.timedelta(days=1))
    assert summary.escalated == 0 and summary.blocked_by_rule == {"test:no-visits": 1}
    assert rt.store.case(case.id).stage is Stage.INTERNAL
    with pytest.raises(operations.OperationError, match="refused by rule test:no-visits"):
        operations.escalate(rt, case.id, "onsite", now=DAY1, reason="try by hand", by="op")


def test_hook_stage_entered(dunning_runtime, case_factory):
    calls: list[tuple[str, str, str]] = []

    class Placement:
        plugin_name = "placement"

        @hookimpl
        def register_migrations(self, register: Any) -> None:
            register("m001", lambda db: db.execute("CREATE TABLE placement_log (case_id INTEGER, stage TEXT)"))

        @hookimpl
        def stage_entered(self, case: Any, from_stage: Stage, to_stage: Stage, ctx: Any) -> None:
            calls.append((from_stage.value, to_stage.value, ctx.reason))
            ctx.db.execute("INSERT INTO placement_log (case_id, stage) VALUES (?, ?)", [case.id, to_stage.value])
            ctx.record_event("placement:opened", stage=to_stage.value, debtor=ctx.debtor.name)

    class Broken:
        @hookimpl
        def stage_entered(self, case: Any, from_stage: Stage, to_stage: Stage, ctx: Any) -> None:
            ctx.db.execute("INSERT INTO placement_log (case_id, stage) VALUES (?, ?)", [case.id, "half-written"])
            raise RuntimeError("placement service down")

    rt = dunning_runtime(
        plugins=[ChannelsPlugin("email"), Placement(), Broken()], enabled=["email"], policy=ONSITE_AT_2
    )
    case = case_factory(rt)
    assert dispatch.run(rt, DAY1 + dt.timedelta(days=1)).escalated == 1
    assert calls == [("internal", "onsite", "policy step enter-onsite")]
    # The broken plugin's write was rolled back; the good one's kept; the stage change happened.
    assert list(rt.store.db.query("SELECT case_id, stage FROM placement_log")) == [
        {"case_id": case.id, "stage": "onsite"}
    ]
    assert rt.store.case(case.id).stage is Stage.ONSITE
    kinds = [e.kind for e in rt.store.events(case_id=case.id)]
    assert "placement:opened" in kinds and "plugin_error" in kinds
    error = rt.store.events(kind="plugin_error")[0]
    assert error.data["hook"] == "stage_entered" and "placement service down" in error.data["error"]


def test_hook_record_event(dunning_runtime, case_factory):
    mirrored: list[tuple[int, str, str]] = []

    class Mirror:
        @hookimpl
        def record_event(self, event: Any) -> None:
            mirrored.append((event.seq, event.kind, event.hash))

    class BrokenMirror:
        @hookimpl
        def record_event(self, event: Any) -> None:
            raise ConnectionError("CRM unreachable")

    rt = dunning_runtime(plugins=[ChannelsPlugin("email"), Mirror(), BrokenMirror()], enabled=["email"])
    with capture_logs() as logs:
        case_factory(rt)
        dispatch.run(rt, DAY1)
    stored = [(e.seq, e.kind, e.hash) for e in rt.store.events()]
    assert mirrored == stored and all(h for _, _, h in mirrored)
    assert any(entry["event"] == "record_event hook failed" for entry in logs)


def test_hook_case_priority(project: Project, register_plugin):
    class FirstInstalmentFirst:
        @hookimpl
        def case_priority(self, case: Any) -> float:
            return 1000.0 if case.debtor_id == "SMALL" else 1.0

    path = write_csv(project.folder / "in.csv", [row("BIG", "INV-1", "90000.00"), row("SMALL", "INV-2", "10.00")])
    project("import", str(path), now="2026-02-20T08:00:00Z")
    default = {c["debtor_id"]: c["priority"] for c in json.loads(project("cases", "list", "--json").stdout)}
    assert default["BIG"] > default["SMALL"]  # the built-in fallback: larger balances first
    register_plugin(FirstInstalmentFirst())
    overridden = {c["debtor_id"]: c["priority"] for c in json.loads(project("cases", "list", "--json").stdout)}
    assert overridden == {"BIG": 1.0, "SMALL": 1000.0}


def test_an_action_awaiting_approval_can_be_rejected(dunning_runtime, case_factory):
    rt = dunning_runtime(plugins=[ChannelsPlugin("email", "phone", "letter", "visit")],
                         enabled=["email", "phone", "letter", "visit"])
    case = case_factory(rt, amount="9000.00")
    dispatch.run(rt, dt.datetime(2026, 5, 31, 9, tzinfo=UTC))  # DPD 91
    lock = next(a for a in rt.store.approvals() if a.step == "lock-account")
    operations.decide(rt, lock.id, approve=False, by="Boss", now=dt.datetime(2026, 5, 31, 12, tzinfo=UTC))
    assert rt.store.action(lock.id).status is ActionStatus.REJECTED
    dispatch.run(rt, dt.datetime(2026, 6, 1, 9, tzinfo=UTC))
    assert rt.store.case(case.id).account_locked is False
    with pytest.raises(operations.OperationError, match="not awaiting approval"):
        operations.decide(rt, lock.id, approve=True, by="Boss", now=dt.datetime(2026, 6, 1, 12, tzinfo=UTC))


def test_a_rule_deferring_to_the_past_does_not_loop_the_run(dunning_runtime, case_factory):
    class Confused:
        @hookimpl
        def check_action(self, action: Any, case: Any, now: dt.datetime) -> Verdict:
            return Verdict.defer("test:yesterday", now - dt.timedelta(days=1), "wrong clock")

    rt = dunning_runtime(plugins=[ChannelsPlugin("email", "phone"), Confused()], enabled=["email", "phone"])
    case_factory(rt)
    summary = dispatch.run(rt, DAY1)
    assert summary.deferred == 2 and summary.sent == 0
    until = rt.store.events(kind="deferred")[0].data["until"]
    assert until == "2026-03-02T09:01:00Z"


def test_an_imports_events_reach_record_event_after_the_commit_in_batches(dunning_runtime, monkeypatch, tmp_path):
    """A big import does not hold its events for the hooks while it writes: they are read back from the log."""
    import datetime as dt

    from dunning.chain_walk import walk
    from dunning.importer import import_file
    from dunning.store import obligation_import

    mirrored: list[tuple[int, str, str]] = []

    class Mirror:
        @hookimpl
        def record_event(self, event: Any) -> None:
            mirrored.append((event.seq, event.kind, event.hash))

    monkeypatch.setattr(obligation_import, "_EVENT_BATCH", 3)
    monkeypatch.setattr(obligation_import, "_CHUNK", 2)
    rt = dunning_runtime(plugins=[Mirror()])
    path = tmp_path / "in.csv"
    path.write_text("debtor_id,name,reference,amount,currency,due_on\n" + "".join(
        f"D{n // 2},Debtor {n // 2},INV-{n},10.00,EUR,2026-03-01\n" for n in range(7)), encoding="utf-8")
    now = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
    result, checked = import_file(rt.store, path, now=now, today=now.date())
    assert (result.obligations_added, result.cases_opened, checked) == (7, 4, 7)
    stored = [(e.seq, e.kind, e.hash) for e in rt.store.events()]
    assert mirrored == stored and len(stored) == 11
    assert walk(rt.store.event_links()).ok


def test_hook_register_work_lists(dunning_runtime, case_factory):
    from collections.abc import Mapping
    from typing import ClassVar

    from dunning import PluginContext
    from dunning.work_lists import WorkItem, WorkList, work_lists

    class Doorstep(WorkList):
        channel = "doorstep"
        title: ClassVar[Mapping[str, str]] = {"en": "Doorstep calls"}

        def items(self, ctx: Any, today: dt.date, collector: str | None) -> list[WorkItem]:
            return [WorkItem(case_id=c.id, debtor_name=c.debtor_id, figure=str(c.balance), detail="", why="due")
                    for c in ctx.store.cases(status="open")]

    class Texts(WorkList):
        channel = "sms"  # not enabled here: never asked

    class InHouse:
        plugin_name = "in-house"

        @hookimpl
        def register_work_lists(self, register: Any) -> None:
            register(Doorstep())
            register(Texts())

    class Careless:
        plugin_name = "careless"

        @hookimpl
        def register_work_lists(self, register: Any) -> None:
            register(object())

    rt = dunning_runtime(plugins=[ChannelsPlugin("doorstep", "sms"), InHouse(), Careless()], enabled=["doorstep"])
    case = case_factory(rt)
    [found] = work_lists(rt)
    assert isinstance(found, Doorstep)
    ctx = PluginContext(rt, DAY1)
    assert [item.case_id for item in found.items(ctx, DAY1.date(), None)] == [case.id]
    assert not found.works_case(ctx, case.id, "ann") and found.script(ctx, case, DAY1.date()) is None
