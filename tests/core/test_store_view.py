"""The store as plugins see it: read-only on every context, writes through transaction() and the operations."""

from __future__ import annotations

import datetime as dt
import functools
import inspect
import json
from collections.abc import Callable
from pathlib import Path

import click
import pytest
import structlog

from dunning import (NotFound, PluginContext, RuleContext, RunContext, StoreView, evidence, hookimpl, plugin_context,
                     record_event)
from dunning.models import ActionKind, ActionStatus
from dunning.store import Store
from dunning.store_view import VIEW_METHODS, ReadOnlyStore
from dunning.runtime import Runtime
from tests.conftest import row, write_csv



@pytest.fixture
def dunning_runtime(dunning_database: str | Path, dunning_runtime: Callable[..., Runtime]) -> Callable[..., Runtime]:
    """Every runtime here opens its store on SQLite, then (the test's second run) on PostgreSQL. The database is
    asked for first, so it outlives the runtimes: they are closed before it is dropped."""
    return functools.partial(dunning_runtime, database=dunning_database)


UTC = dt.UTC
DAY1 = dt.datetime(2026, 3, 2, 9, tzinfo=UTC)


def test_every_method_of_the_view_is_the_stores_own_with_the_same_signature():
    assert {"case", "cases", "debtor", "contacts", "obligations", "payments", "promises", "holds",
                            "events", "actions", "attempts", "opt_outs"} <= VIEW_METHODS
    for name in VIEW_METHODS:
        assert inspect.signature(getattr(StoreView, name)) == inspect.signature(getattr(Store, name)), name


def test_the_view_reads_the_store(dunning_runtime, case_factory):
    rt = dunning_runtime()
    case = case_factory(rt)
    view = ReadOnlyStore(rt.store)
    assert view.case(case.id) == rt.store.case(case.id)
    assert view.obligations(case.id) == rt.store.obligations(case.id)
    assert [c.id for c in view.cases()] == [case.id]
    with pytest.raises(NotFound, match=f"no case with id {case.id + 1}"):
        view.case(case.id + 1)


@pytest.mark.parametrize("name", ["append_events", "update_case", "add_payment", "record_attempt", "transaction",
                                  "db", "conn", "close"])
def test_the_view_has_no_way_to_write(dunning_runtime, name: str):
    view = ReadOnlyStore(dunning_runtime().store)
    with pytest.raises(AttributeError, match="read-only"):
        getattr(view, name)


def test_nothing_can_be_set_on_the_view(dunning_runtime):
    view = ReadOnlyStore(dunning_runtime().store)
    with pytest.raises(AttributeError, match="read-only"):
        view._store = None  # type: ignore[misc]
    with pytest.raises(AttributeError, match="read-only"):
        view.append_events = print  # type: ignore[method-assign]


def test_every_context_hands_plugins_the_view(dunning_runtime):
    rt = dunning_runtime()
    rule = rt.rule_context(DAY1)
    assert isinstance(rule.store, ReadOnlyStore)
    assert rule.db is rt.store.db  # a rule reads its plugin's own tables here
    assert isinstance(RuleContext(now=DAY1, config=rt.config, store=rt.store).store, ReadOnlyStore)
    run = RunContext(now=DAY1, run_id="r", settings={}, config=rt.config, db=rt.store.db, log=structlog.get_logger(),
                     store=rt.store)
    assert isinstance(run.store, ReadOnlyStore)
    assert isinstance(PluginContext(rt).store, ReadOnlyStore)


def test_a_plugins_transaction_takes_its_own_tables_and_the_core_operations_together(dunning_runtime, case_factory):
    rt = dunning_runtime()
    case = case_factory(rt)
    ctx = PluginContext(rt, DAY1)
    rt.store.db.execute("CREATE TABLE my_notes (case_id INTEGER, note TEXT)")
    before = rt.store.last_seq()
    with pytest.raises(RuntimeError, match="refused"), ctx.transaction():
        ctx.db.execute("INSERT INTO my_notes VALUES (?, ?)", [case.id, "called"])
        ctx.append_event("notes:note_taken", case, DAY1, channel="notes", data={"note": "called"})
        raise RuntimeError("refused")
    assert rt.store.db.execute("SELECT count(*) FROM my_notes").fetchone()[0] == 0
    assert rt.store.last_seq() == before
    with ctx.transaction():
        ctx.db.execute("INSERT INTO my_notes VALUES (?, ?)", [case.id, "called"])
        event = ctx.append_event("notes:note_taken", case, DAY1, channel="notes", data={"note": "called"})
    assert (event.kind, event.case_id, event.stage, event.data) == ("notes:note_taken", case.id, case.stage.value,
                                                                     {"note": "called"})
    assert rt.store.events(kind="notes:note_taken")[0].hash == event.hash
    assert evidence.verify_chain(rt.store.event_rows_for_verify()).ok


def test_a_run_context_queues_an_action_once_with_its_event(dunning_runtime, case_factory):
    rt = dunning_runtime()
    case = case_factory(rt)
    run = RunContext(now=DAY1, run_id="r", settings={}, config=rt.config, db=rt.store.db, log=structlog.get_logger(),
                     store=rt.store)
    queue = dict(key=f"{case.id}:recheck:outreach:2026-03-02", kind=ActionKind.OUTREACH, step="recheck",
                 planned_for=DAY1.date(), options={"why": "test"}, event="rechecks:queued", data={"why": "test"})
    assert run.queue_action(case, **queue) is True
    assert run.queue_action(case, **queue) is False
    [action] = [a for a in rt.store.actions(case_id=case.id) if a.step == "recheck"]
    assert action.status is ActionStatus.PENDING
    assert [e.data for e in rt.store.events(kind="rechecks:queued")] == [{"why": "test"}]


def test_a_plugin_command_reads_and_records_through_its_plugin_context(project, register_plugin):
    class Notes:
        plugin_name = "notes"

        @hookimpl
        def register_commands(self, cli: click.Group) -> None:
            @cli.command(name="note")
            @click.argument("case_id", type=int)
            @click.argument("text")
            def note(case_id: int, text: str) -> None:
                """Keep a note on a case as evidence."""
                ctx = plugin_context()
                case = ctx.store.case(case_id)
                event = record_event(ctx, "notes", "kept", {"text": text}, case_id=case.id)
                click.echo(f"{case.debtor_id} {event.kind} {event.seq}")

    register_plugin(Notes())
    project("import", str(write_csv(project.folder / "in.csv", [row()])))
    debtor, kind, seq = project("note", "1", "called back").stdout.split()
    assert (debtor, kind) == ("C001", "notes:kept")
    [kept] = json.loads(project("events", "--json", "--kind", "notes:kept").stdout)
    assert (kept["seq"], kept["case_id"], kept["data"]) == (int(seq), 1, {"text": "called back"})
    assert project("verify").exit_code == 0
