"""Hooks behave as pluggy documents them: specname, wrappers, per-plugin isolation, and what plugins record."""

from __future__ import annotations

import datetime as dt
import functools
import json
import textwrap
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import click
import pytest
from structlog.testing import capture_logs

from dunning import Delivery, Verdict, dispatch, hookimpl, record_event
from dunning.models import ActionStatus
from dunning import plugin_manager
from dunning.plugin_manager import LOAD_ENV
from dunning.runtime import Runtime
from tests.conftest import ChannelsPlugin, Project, row, write_csv


UTC = dt.UTC
DAY1 = dt.datetime(2026, 3, 2, 9, tzinfo=UTC)


# --- found as a new user ------------------------------------------------------


@pytest.fixture
def dunning_runtime(dunning_database: str | Path, dunning_runtime: Callable[..., Runtime]) -> Callable[..., Runtime]:
    """Every runtime here opens its store on SQLite, then (the test's second run) on PostgreSQL. The database is
    asked for first, so it outlives the runtimes: they are closed before it is dropped."""
    return functools.partial(dunning_runtime, database=dunning_database)


def test_hook_register_channels_by_specname_is_collected(dunning_runtime, case_factory):
    class Receipts:
        name, medium, needs = "receipts", "other", ()

        def __init__(self) -> None:
            self.keys: list[str] = []

        def send(self, action: Any, case: Any, ctx: Any) -> Delivery:
            self.keys.append(ctx.key)
            return Delivery.sent(f"r:{ctx.key}")

    channel = Receipts()

    class Plugin:
        plugin_name = "receipts"

        @hookimpl(specname="register_channels")
        def add_my_channels(self, register: Any) -> None:
            register(channel)

    rt = dunning_runtime(
        plugins=[Plugin()],
        enabled=["receipts"],
        policy='name = "r"\n[[steps]]\nname = "note"\ndpd = 1\nchannels = ["receipts"]\ntemplate = "n"\n',
    )
    assert rt.plugins.channels["receipts"] is channel
    case = case_factory(rt)
    assert dispatch.run(rt, DAY1).sent == 1
    assert channel.keys == [f"{case.id}:note:receipts:2026-03-02"]


def test_hook_record_event_wrapper_runs_around_every_mirror_call(dunning_runtime, case_factory):
    seen: list[tuple[str, int]] = []

    class Timing:
        plugin_name = "timing"

        @hookimpl(wrapper=True)
        def record_event(self, event: Any) -> Generator[None, Any, Any]:
            seen.append(("before", event.seq))
            try:
                return (yield)
            finally:
                seen.append(("after", event.seq))

    class Mirror:
        plugin_name = "mirror"

        @hookimpl
        def record_event(self, event: Any) -> None:
            seen.append(("mirror", event.seq))

    rt = dunning_runtime(plugins=[ChannelsPlugin("email"), Timing(), Mirror()], enabled=["email"])
    case_factory(rt)
    dispatch.run(rt, DAY1)
    seqs = [e.seq for e in rt.store.events()]
    assert seen == [item for seq in seqs for item in (("before", seq), ("mirror", seq), ("after", seq))]


def test_hook_record_event_wrapper_alone_still_sees_every_event(dunning_runtime, case_factory):
    seen: list[int] = []

    class Counter:
        plugin_name = "counter"

        @hookimpl(wrapper=True)
        def record_event(self, event: Any) -> Generator[None, Any, Any]:
            seen.append(event.seq)
            return (yield)

    rt = dunning_runtime(plugins=[ChannelsPlugin("email"), Counter()], enabled=["email"])
    case_factory(rt)
    dispatch.run(rt, DAY1)
    assert seen == [e.seq for e in rt.store.events()] and seen


def test_hook_stage_entered_wrapper_sees_each_plugins_call(dunning_runtime, case_factory):
    from dunning.models import Stage

    outcomes: list[str] = []

    class Watch:
        plugin_name = "watch"

        @hookimpl(wrapper=True)
        def stage_entered(self, case: Any, from_stage: Any, to_stage: Any, ctx: Any) -> Generator[None, Any, Any]:
            try:
                result = yield
            except Exception as exc:
                outcomes.append(f"failed: {exc}")
                raise
            outcomes.append("ok")
            return result

    class Works:
        @hookimpl
        def stage_entered(self, case: Any, from_stage: Any, to_stage: Any, ctx: Any) -> None:
            pass

    class Fails:
        @hookimpl
        def stage_entered(self, case: Any, from_stage: Any, to_stage: Any, ctx: Any) -> None:
            raise RuntimeError("court portal down")

    policy = 'name = "fast"\n[stages.onsite]\nentry_dpd = 2\n'
    rt = dunning_runtime(plugins=[Watch(), Works(), Fails()], policy=policy)
    case = case_factory(rt)
    dispatch.run(rt, DAY1 + dt.timedelta(days=1))
    assert rt.store.case(case.id).stage is Stage.ONSITE
    assert sorted(outcomes) == ["failed: court portal down", "ok"]
    assert rt.store.events(kind="plugin_error")[0].data["plugin"] == "Fails-2"


# --- a broken plugin is named and left out ----------------------------------------


def _install(site: Path, monkeypatch: pytest.MonkeyPatch, name: str, module: str, source: str) -> None:
    """A real installed distribution with a ``dunning`` entry point, on sys.path."""
    site.mkdir(exist_ok=True)
    (site / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    dist = site / f"{module}-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 0.1\n", encoding="utf-8")
    (dist / "entry_points.txt").write_text(f"[dunning]\n{name} = {module}\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(site))


def test_a_plugin_that_fails_to_import_is_named_once_and_every_other_command_works(
        project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    # Named once a process: forget the names an earlier test (this one on the other database) had warned of.
    monkeypatch.setattr(plugin_manager, "_failed_imports", {})
    site = tmp_path / "site"
    _install(site, monkeypatch, "shaky", "dunning_shaky_plugin", "raise ImportError('needs libwhatsapp 2.0')\n")
    _install(site, monkeypatch, "greeter", "dunning_greeter_plugin", """
        import click
        from dunning import hookimpl

        @hookimpl
        def register_commands(cli):
            @cli.command(name="greet")
            def greet():
                \"\"\"Says hello.\"\"\"
                click.echo("hello")
    """)
    monkeypatch.setenv(LOAD_ENV, "shaky,greeter")
    path = write_csv(project.folder / "in.csv", [row()])
    result = project("import", str(path))
    assert result.output.count("plugin shaky failed to import: ImportError: needs libwhatsapp 2.0") == 1
    assert json.loads(project("cases", "list", "--json").stdout)[0]["debtor_id"] == "C001"
    assert project("greet").stdout == "hello\n"
    listed = {p["name"]: p for p in json.loads(project("plugins", "--json").stdout)}
    assert listed["shaky"]["enabled"] is False and "needs libwhatsapp 2.0" in listed["shaky"]["problem"]
    assert listed["greeter"]["hooks"] == ["register_commands"]


def test_dunning_load_plugins_limits_commands_too(project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    _install(tmp_path / "site", monkeypatch, "waver", "dunning_waver_plugin", """
        import click
        from dunning import hookimpl

        @hookimpl
        def register_commands(cli):
            @cli.command(name="wave")
            def wave():
                "Waves."
                click.echo("bye")
    """)
    monkeypatch.setenv(LOAD_ENV, "")
    assert "wave" not in project("--help").stdout
    project("wave", expect=2)
    monkeypatch.setenv(LOAD_ENV, "waver")
    assert "Waves." in project("--help").stdout and project("wave").stdout == "bye\n"


def test_hook_register_migrations_a_failing_step_stops_only_that_plugin(project: Project, register_plugin):
    class Ledger:
        plugin_name = "ledger"

        @hookimpl
        def register_migrations(self, register: Any) -> None:
            register("m001_entries", lambda db: db.execute("CREATE TABLE ledger_entries (id INTEGER)"))
            register("m002_bad_index", lambda db: db.execute("CREATE INDEX ledger_x ON ledger_entries (nosuch)"))

        @hookimpl
        def register_channels(self, register: Any) -> None:
            register(LedgerChannel())

        @hookimpl
        def register_commands(self, cli: click.Group) -> None:
            @cli.command(name="ledger-count")
            @click.pass_obj
            def count(state: Any) -> None:
                """Count the ledger's entries."""
                [(count,)] = state.runtime().store.db.execute("SELECT count(*) FROM ledger_entries").fetchall()
                click.echo(str(count))

    class LedgerChannel:
        name, medium, needs = "ledger", "other", ()

        def send(self, action: Any, case: Any, ctx: Any) -> Delivery:
            ctx.db.execute("INSERT INTO ledger_entries (id) VALUES (?)", [action.id])
            return Delivery.sent("l")

    register_plugin(Ledger())
    register_plugin(ChannelsPlugin("email"))
    (project.folder / "policy.toml").write_text(
        'name = "p"\n[[steps]]\nname = "note"\ndpd = 1\nchannels = ["email", "ledger"]\ntemplate = "n"\n',
        encoding="utf-8",
    )
    project.write_config(policy="policy.toml", enabled=["email", "ledger"])
    path = write_csv(project.folder / "in.csv", [row()])
    imported = project("import", str(path))
    # The database's own words for the missing column, after the class of its error.
    reason = ('UndefinedColumn: column "nosuch" does not exist' if project.on_postgres
              else "OperationalError: no such column: nosuch")
    assert f"plugin ledger: migration m002_bad_index failed: {reason.split(':')[0]}" in imported.output
    summary = json.loads(project("run", "--json", now="2026-03-02T09:00:00Z").stdout)
    assert summary["sent"] == 1 and summary["deferred"] == 1 and summary["deferred_by_rule"] == {"plugin_error": 1}
    deferred = [e for e in json.loads(project("events", "--json", "--kind", "deferred").stdout)]
    assert "plugin ledger: migration m002_bad_index failed" in deferred[0]["data"]["reason"]
    refused = project("ledger-count", expect=1)
    assert f"Error: plugin ledger is left out (migration m002_bad_index failed: {reason}); its commands work " \
           "again once it is fixed" in refused.output
    assert "Traceback" not in refused.output
    assert project("cases", "list").exit_code == 0


def test_hook_check_action_returning_something_else_than_a_verdict_names_the_plugin(
        dunning_runtime, case_factory):
    class Sloppy:
        plugin_name = "sloppy-rules"

        @hookimpl
        def check_action(self, action: Any, case: Any, now: dt.datetime) -> Any:
            return True

    class Careful:
        plugin_name = "careful"

        @hookimpl
        def check_action(self, action: Any, case: Any, now: dt.datetime) -> Verdict | None:
            return None

    rt = dunning_runtime(plugins=[ChannelsPlugin("email"), Sloppy(), Careful()], enabled=["email"])
    case_factory(rt)
    case_factory(rt)
    with capture_logs() as logs:
        summary = dispatch.run(rt, DAY1)
    assert summary.deferred == 2 and summary.deferred_by_rule == {"plugin_error": 2}
    reason = rt.store.events(kind="deferred")[0].data["reason"]
    assert reason == "plugin sloppy-rules: check_action returned True (bool), not a Verdict or None"
    assert any(e.get("plugin") == "sloppy-rules" for e in logs)
    assert {a.status for a in rt.store.actions() if a.channel == "email"} == {ActionStatus.PENDING}


def test_hook_escalation_check_that_raises_names_the_plugin(dunning_runtime, case_factory):
    class Broken:
        plugin_name = "limitation"

        @hookimpl
        def escalation_check(self, case: Any, from_stage: Any, to_stage: Any) -> Verdict | None:
            raise KeyError("statute")

    rt = dunning_runtime(plugins=[Broken()], policy='name = "fast"\n[stages.onsite]\nentry_dpd = 2\n')
    case = case_factory(rt)
    summary = dispatch.run(rt, DAY1 + dt.timedelta(days=1))
    assert summary.escalated == 0 and summary.deferred_by_rule == {"plugin_error": 1}
    assert rt.store.events(kind="deferred")[0].data["reason"] == \
        "plugin limitation: escalation_check raised KeyError: 'statute'"
    from dunning import operations
    with pytest.raises(operations.OperationError, match="refused: plugin limitation: escalation_check raised"):
        operations.escalate(rt, case.id, "onsite", now=DAY1, reason="by hand", by="op")


# --- Verdict.skip ---------------------------------------------------------------


def test_verdict_skip_drops_the_occurrence_and_the_cadence_goes_on(dunning_runtime, case_factory):
    class QuietOnMonday:
        plugin_name = "quiet-monday"

        @hookimpl
        def check_action(self, action: Any, case: Any, now: dt.datetime) -> Verdict | None:
            if now.weekday() == 0:
                return Verdict.skip("quiet-monday", "no reminders on Mondays")
            return None

    policy = 'name = "daily"\n[[steps]]\nname = "nudge"\ndpd = [1, 5]\nchannels = ["email"]\ntemplate = "n"\n'
    channels = ChannelsPlugin("email")
    rt = dunning_runtime(plugins=[channels, QuietOnMonday()], enabled=["email"], policy=policy)
    case = case_factory(rt)
    monday = dispatch.run(rt, DAY1)
    assert (monday.sent, monday.skipped, monday.deferred) == (0, 1, 0)
    skipped = rt.store.events(kind="skipped")[0]
    assert (skipped.data["reason"], skipped.data["rule"], skipped.data["detail"]) == \
        ("rule", "quiet-monday", "no reminders on Mondays")
    assert rt.store.actions()[0].status is ActionStatus.SKIPPED
    assert dispatch.run(rt, DAY1 + dt.timedelta(hours=2)).sent == 0  # not retried
    tuesday = dispatch.run(rt, DAY1 + dt.timedelta(days=1))
    assert tuesday.sent == 1
    assert [k for k, _, _ in channels.channels["email"].sent] == [f"{case.id}:nudge:email:2026-03-03"]


def test_verdict_skip_ranks_below_block_and_above_approval():
    from dunning.verdicts import strongest

    skip = Verdict.skip("a", "not today")
    assert strongest([Verdict.needs_approval("b", "big"), skip, Verdict.allow("c")]) is skip
    block = Verdict.block("d", "never")
    assert strongest([skip, block]) is block


# --- plugins record evidence --------------------------------------------------------


class WhatsApp:
    name, medium, needs = "whatsapp", "text", ()

    def send(self, action: Any, case: Any, ctx: Any) -> Delivery:
        ctx.record_event("delivered", {"message_id": f"wa-{ctx.key}"})
        return Delivery.sent(f"wa-{ctx.key}")

    def finish_run(self, ctx: Any) -> None:
        ctx.record_event("batch_closed", run=ctx.run_id)


class WhatsAppPlugin:
    plugin_name = "whatsapp"

    @hookimpl
    def register_channels(self, register: Any) -> None:
        register(WhatsApp())

    @hookimpl
    def register_commands(self, cli: click.Group) -> None:
        @cli.command(name="whatsapp-callback")
        @click.argument("case_id", type=int)
        @click.argument("status")
        @click.pass_obj
        def callback(state: Any, case_id: int, status: str) -> None:
            """Record a delivery receipt the provider called back with."""
            event = record_event(state.runtime(), "whatsapp", "receipt", {"status": status}, case_id=case_id)
            click.echo(f"recorded {event.kind} as event {event.seq}")


def test_plugins_record_evidence_in_the_chain_from_send_finish_run_and_commands(project: Project, register_plugin):
    register_plugin(WhatsAppPlugin())
    (project.folder / "policy.toml").write_text(
        'name = "wa"\n[[steps]]\nname = "hello"\ndpd = 1\nchannels = ["whatsapp"]\ntemplate = "n"\n', encoding="utf-8")
    project.write_config(policy="policy.toml", enabled=["whatsapp"])
    project("import", str(write_csv(project.folder / "in.csv", [row()])))
    project("run", now="2026-03-02T09:00:00Z")
    assert project("whatsapp-callback", "1", "read").stdout.startswith("recorded whatsapp:receipt as event ")
    events = json.loads(project("events", "--json").stdout)
    kinds = [e["kind"] for e in events]
    assert kinds.index("whatsapp:delivered") + 1 == kinds.index("sent")  # recorded with the outcome, just before it
    delivered = next(e for e in events if e["kind"] == "whatsapp:delivered")
    assert delivered["data"]["message_id"] == "wa-1:hello:whatsapp:2026-03-02" and delivered["case_id"] == 1
    assert "whatsapp:batch_closed" in kinds
    receipt = events[-1]
    assert (receipt["kind"], receipt["case_id"], receipt["data"]) == ("whatsapp:receipt", 1, {"status": "read"})
    assert "ok" in project("verify").stdout


def test_a_plugin_event_kind_is_namespaced_and_checked():
    from dunning.plugin_events import namespaced

    assert namespaced("whatsapp", "delivered") == "whatsapp:delivered"
    assert namespaced("whatsapp", "whatsapp:delivered") == "whatsapp:delivered"
    with pytest.raises(ValueError, match="'email:sent'"):
        namespaced("whatsapp", "email:sent")


# --- mirrors catch up -------------------------------------------------------------------


class FlakyCrm:
    """A mirror whose CRM is down until told otherwise."""

    plugin_name = "crm"

    def __init__(self) -> None:
        self.down = True
        self.taken: list[int] = []

    @hookimpl
    def record_event(self, event: Any) -> None:
        if event.kind == "checkpoint":
            return
        if self.down and len(self.taken) >= 2:
            raise ConnectionError("CRM unreachable")
        self.taken.append(event.seq)


def test_hook_record_event_mirror_that_raised_catches_up_on_the_next_run_in_order(dunning_config, case_factory,
                                                                                 dunning_database):
    crm = FlakyCrm()
    config = dunning_config(enabled=["email"])
    rt = Runtime(config, db_path=dunning_database, extra_plugins=[ChannelsPlugin("email"), crm])
    case_factory(rt)
    case_factory(rt)
    dispatch.run(rt, DAY1)
    head = rt.store.last_seq()
    assert crm.taken == [1, 2] and head > 2
    assert rt.mirrors.lag() == {"crm": head - 2}
    rt.close()

    crm.down = False
    rt = Runtime(config, db_path=dunning_database, extra_plugins=[ChannelsPlugin("email"), crm])
    try:
        dispatch.run(rt, DAY1 + dt.timedelta(hours=1))
        assert crm.taken == [e.seq for e in rt.store.events()]  # every event once, in order
        assert rt.mirrors.lag() == {"crm": 0}
    finally:
        rt.close()


def test_dunning_plugins_shows_each_mirrors_lag(project: Project, register_plugin):
    crm = register_plugin(FlakyCrm())
    project("import", str(write_csv(project.folder / "in.csv", [row("C1", "INV-1"), row("C2", "INV-2")])),
            now="2026-02-20T08:00:00Z")
    listed = project("plugins")
    assert "mirror crm: " in listed.stdout
    behind = json.loads(project("plugins", "--json").stdout)
    lag = next(p for p in behind if p["name"] == "crm")["mirror_lag"]
    store = project.store()
    assert lag == store.last_seq() - 2 and lag > 0
    store.close()
    assert crm.taken == [1, 2]


# --- calling one plugin at a time ---------------------------------------------------------


def test_hook_calls_keep_pluggys_order_and_isolate_each_plugin():
    from dunning.hook_calls import HookCalls
    from dunning.plugin_manager import new_plugin_manager

    class First:
        @hookimpl(tryfirst=True)
        def check_action(self, action: Any) -> Verdict:
            return Verdict.allow("first")

    class Raises:
        @hookimpl
        def check_action(self, action: Any) -> Verdict:
            raise RuntimeError("boom")

    class Last:
        @hookimpl(trylast=True)
        def check_action(self, action: Any) -> None:
            return None

    pm = new_plugin_manager()
    for name, plugin in (("last", Last()), ("raises", Raises()), ("first", First())):
        pm.register(plugin, name=name)
    answers = list(HookCalls(pm).call_each("check_action", action=None, case=None, now=DAY1, ctx=None))
    assert [a.plugin for a in answers] == ["first", "raises", "last"]
    assert answers[0].results == (Verdict.allow("first"),) and answers[2].results == ()
    assert isinstance(answers[1].error, RuntimeError) and answers[1].results == ()
