"""Planning writes its batches on a writer thread (Store.save_plans_pipelined).

The run must come out exactly as a sequential one: same actions with the
same ids, same events in the same order, same cursors; errors in the writer
fail the run with whole batches only; record_event hooks see every event
once, in order, on the caller's thread; the hash chain holds.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import attrs
import pytest

from dunning import calendar, dispatch, evidence, hookimpl
from dunning import store as store_module
from dunning.store import bulk, plan_writer, stamped_events
from dunning.store import rows as store_rows
from dunning.models import Event, Stage
from dunning.runtime import Runtime
from tests.conftest import ChannelsPlugin
from tests.core.module_databases import Databases, databases

__all__ = ["databases"]  # a fixture this module uses

UTC = dt.UTC
DAY1 = dt.datetime(2026, 3, 2, 9, tzinfo=UTC)  # DPD 1 of trade-receivables: email + phone
ZONES = (None, "Europe/London", "America/New_York", "Asia/Tokyo")
CASES = 23
BATCH = 5  # 23 cases: four full batches and a short one
Runtimes = Callable[..., Runtime]  # the ``runtimes`` fixture
Factory = Callable[..., Any]  # ``case_factory``, ``dunning_config``
NOW = "2026-03-02T09:00:00Z"


class EventLog:
    """A record_event hook that remembers what it saw, and on which thread."""

    plugin_name = "event-log"

    def __init__(self) -> None:
        self.seen: list[Event] = []
        self.threads: set[str] = set()

    @hookimpl
    def record_event(self, event: Event) -> None:
        self.seen.append(event)
        self.threads.add(threading.current_thread().name)


def _portfolio(rt: Runtime, case_factory: Factory) -> None:
    for i in range(CASES):
        case_factory(rt, debtor_id=f"D{i:04d}", reference=f"INV-{i:04d}", timezone=ZONES[i % len(ZONES)],
                     amount=f"{100 + 37 * i}.00")


def _actions(rt: Runtime) -> list[tuple[Any, ...]]:
    return [attrs.astuple(a) for a in rt.store.actions()]


def _events(rt: Runtime) -> list[tuple[Any, ...]]:
    # recorded_at (the wall clock) and so the hashes may differ between two runs.
    return [(e.seq, e.kind, e.case_id, e.stage, e.dpd, e.channel, e.step, e.action_id, e.data)
            for e in rt.store.events()]


def _cursors(rt: Runtime) -> list[tuple[Any, ...]]:
    return [(c.id, c.planned_through, c.next_action_on) for c in rt.store.cases()]


def _writer_thread(rt: Runtime) -> list[int]:
    """What ``small_batches`` holds after planning many batches: the one writer thread SQLite's batches are written
    from (a second connection to the file); on PostgreSQL they stay on the one connection."""
    return [] if rt.store.dialect == "postgresql" else [1]


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """PLAN_BATCH made small; returns a list that grows by one for each writer thread started."""
    monkeypatch.setattr(dispatch.planning, "PLAN_BATCH", BATCH)  # where planning reads it
    started: list[int] = []
    real_init = plan_writer._PlanWriterThread.__init__

    def counting_init(self: Any, *args: Any, **kwargs: Any) -> None:
        started.append(1)
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(plan_writer._PlanWriterThread, "__init__", counting_init)
    return started


@pytest.fixture
def runtimes(dunning_config: Factory, databases: Databases) -> Iterator[Runtimes]:
    """``runtimes(name, *plugins)``: a Runtime on its own database (a file, then a PostgreSQL database), closed
    after the test.

    Email is enabled and phone is not: each case gets a pending action and a
    skipped one with its event.
    """
    opened: list[Runtime] = []

    def make(name: str, *plugins: object) -> Runtime:
        rt = Runtime(dunning_config(enabled=["email"]), db_path=cast(Path, databases(name)),
                     extra_plugins=[ChannelsPlugin("email", "phone"), *plugins])
        opened.append(rt)
        return rt

    yield make
    for rt in opened:
        rt.close()


def test_many_batches_plan_exactly_what_a_sequential_run_plans(runtimes: Runtimes, case_factory: Factory,
                                                               small_batches: list[int]) -> None:
    piped = runtimes("piped")
    sequential = runtimes("sequential")
    for rt in (piped, sequential):
        _portfolio(rt, case_factory)

    summary = dispatch.RunSummary()
    dispatch.plan(piped, DAY1, summary)
    assert small_batches == _writer_thread(piped)

    # Inside an open transaction the batches join it: the plain sequential path.
    reference = dispatch.RunSummary()
    with sequential.store.transaction():
        dispatch.plan(sequential, DAY1, reference)
    assert small_batches == _writer_thread(piped)

    assert summary == reference
    assert (summary.cases_planned, summary.planned, summary.skipped) == (CASES, 2 * CASES, CASES)
    assert _actions(piped) == _actions(sequential)
    assert _events(piped) == _events(sequential)
    assert _cursors(piped) == _cursors(sequential)

    # Ids follow the order planned: case by case, email before phone.
    order = [(a.case_id, a.channel) for a in sorted(piped.store.actions(), key=lambda a: a.id)]
    assert order == sorted(order)

    again = dispatch.RunSummary()
    dispatch.plan(piped, DAY1, again)
    assert (again.cases_planned, again.planned) == (0, 0)  # a rerun for the same moment plans nothing new
    assert evidence.verify_chain(piped.store.event_rows_for_verify()).ok


def test_the_writer_opens_the_same_file_after_a_change_of_directory(dunning_config: Factory, case_factory: Factory,
                                                                    small_batches: list[int], tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    rt = Runtime(dunning_config(enabled=["email"]), db_path=Path("relative.db"),
                 extra_plugins=[ChannelsPlugin("email", "phone")])
    try:
        _portfolio(rt, case_factory)
        (tmp_path / "elsewhere").mkdir()
        monkeypatch.chdir(tmp_path / "elsewhere")
        summary = dispatch.RunSummary()
        dispatch.plan(rt, DAY1, summary)
        assert small_batches == [1]
        assert summary.cases_planned == CASES
        assert len(rt.store.actions()) == 2 * CASES
        assert not (tmp_path / "elsewhere" / "relative.db").exists()
    finally:
        rt.close()


def test_progress_counts_every_case_once(runtimes: Runtimes, case_factory: Factory, small_batches: list[int]) -> None:
    rt = runtimes("progress")
    _portfolio(rt, case_factory)
    counts: list[int] = []
    dispatch.plan(rt, DAY1, dispatch.RunSummary(), lambda phase, n: counts.append(n))
    assert counts == [BATCH] * (CASES // BATCH) + [CASES % BATCH]


def test_a_single_batch_starts_no_thread(runtimes: Runtimes, case_factory: Factory, small_batches: list[int]) -> None:
    rt = runtimes("single")
    for _ in range(BATCH):
        case_factory(rt)
    summary = dispatch.RunSummary()
    dispatch.plan(rt, DAY1, summary)
    assert summary.cases_planned == BATCH
    assert small_batches == []


def test_a_writer_error_fails_the_run_and_leaves_only_whole_batches(runtimes: Runtimes, case_factory: Factory,
                                                                    small_batches: list[int],
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    log = EventLog()
    rt = runtimes("failing", log)
    _portfolio(rt, case_factory)
    before = rt.store.last_seq()
    real = plan_writer._insert_actions
    inserts = {"n": 0}

    def failing(conn: Any, rows: Any) -> int:
        # Fail the third batch half-way: its cursors have moved, its actions are not in.
        inserts["n"] += 1
        if inserts["n"] == 3:
            raise RuntimeError("disk on fire")
        return real(conn, rows)

    monkeypatch.setattr(plan_writer, "_insert_actions", failing)
    with pytest.raises(RuntimeError, match="disk on fire"):
        dispatch.plan(rt, DAY1, dispatch.RunSummary())
    assert not [t for t in threading.enumerate() if t.name == "dunning-plan-writer"]  # the writer has ended

    planned = [c for c in rt.store.cases() if c.planned_through == DAY1.date()]
    assert len(planned) == 2 * BATCH  # the first two batches, whole; nothing of the third
    assert {a.case_id for a in rt.store.actions()} == {c.id for c in planned}
    assert len(rt.store.actions()) == 4 * BATCH
    written = rt.store.events(after_seq=before)
    assert [e.seq for e in log.seen if e.seq > before] == [e.seq for e in written]
    assert len(written) == 2 * 2 * BATCH  # a skipped phone call and the missed courtesy reminder per case
    assert evidence.verify_chain(rt.store.event_rows_for_verify()).ok

    # Once the fault is gone a rerun plans the rest, and nothing twice.
    monkeypatch.setattr(plan_writer, "_insert_actions", real)
    summary = dispatch.RunSummary()
    dispatch.plan(rt, DAY1, summary)
    assert summary.cases_planned == CASES - 2 * BATCH
    assert len(rt.store.actions()) == 2 * CASES
    assert evidence.verify_chain(rt.store.event_rows_for_verify()).ok


def test_record_event_hooks_see_every_planned_event_once_in_order(runtimes: Runtimes, case_factory: Factory,
                                                                  small_batches: list[int]) -> None:
    log = EventLog()
    rt = runtimes("hooks", log)
    _portfolio(rt, case_factory)
    before = rt.store.last_seq()
    log.seen.clear()
    dispatch.plan(rt, DAY1, dispatch.RunSummary())
    assert small_batches == _writer_thread(rt)
    stored = rt.store.events(after_seq=before)
    assert len(stored) == 2 * CASES  # a skipped phone call and the missed courtesy reminder per case
    assert [e.seq for e in log.seen] == [e.seq for e in stored]
    assert [(e.seq, e.hash, e.prev_hash, e.kind, e.data) for e in log.seen] == [
        (e.seq, e.hash, e.prev_hash, e.kind, e.data) for e in stored]
    assert log.threads == {threading.main_thread().name}


def test_the_chain_holds_when_another_connection_appends_meanwhile(runtimes: Runtimes, case_factory: Factory,
                                                                   small_batches: list[int]) -> None:
    """The writer reads the chain's last link inside each of its transactions."""
    rt = runtimes("interleaved")
    _portfolio(rt, case_factory)
    announce = rt.store.on_events
    assert announce is not None

    def append_a_note(events: Any) -> None:
        announce(events)
        if any(e.kind == "skipped" for e in events):
            # The caller's own connection appends between two of the writer's batches.
            with rt.store.transaction():
                rt.store.append_events([Event(kind="note", at=DAY1, data={"after": events[-1].seq})])

    rt.store.on_events = append_a_note
    dispatch.plan(rt, DAY1, dispatch.RunSummary())
    kinds = [e.kind for e in rt.store.events()]
    assert kinds.count("skipped") == CASES and kinds.count("note") == -(-CASES // BATCH)
    report = evidence.verify_chain(rt.store.event_rows_for_verify())
    assert report.ok, report.problem


def test_link_hash_is_chain_hash_of_the_event_fields() -> None:
    awkward = [
        Event(kind="sent", at=DAY1, case_id=7, stage="internal", dpd=-3, channel="email", step="s", action_id=12,
              data={"ü": "naïve \"quoted\" \\ back\nslash", "n": [1, 2.5, None, True], "nested": {"b": 1, "a": {}}}),
        Event(kind="note", at=DAY1),
        Event(kind="note", at=DAY1, case_id=8, dpd=2, data={"same": "shared fields as the one before"}),
        Event(kind="100% done", at=DAY1, stage="50%s", channel="%d", step="%%", data={"pct": "%s"}),
        Event(kind="100% done", at=DAY1, stage="50%s", channel="%d", step="%%", action_id=3, data={}),
        Event(kind=True, at=DAY1, stage=1, channel=1.5, step=None),  # type: ignore[arg-type]
        Event(kind="1", at=DAY1, stage="1", channel="1.5"),
        Event(kind="odd", at=DAY1, stage=Stage.ONSITE, dpd=0, data={"when": dt.date(2026, 3, 1), "big": 10**30,
                                                                       "ctrl": "\x00\t\u2028", "emoji": "💶"}),
    ]
    recorded = DAY1 + dt.timedelta(seconds=5)
    prev = evidence.GENESIS
    for seq, event in enumerate(awkward, start=41):
        stamped = attrs.evolve(event, recorded_at=recorded)
        expected = evidence.chain_hash(prev, evidence.event_fields(stamped, seq))
        data_text = evidence.canonical_text(dict(event.data))
        assert data_text == evidence.canonical(evidence.event_fields(stamped, seq)["data"]).decode()
        got = evidence.link_hash(prev, seq, event, calendar.to_text(event.at), calendar.to_text(recorded), data_text)
        assert got == expected
        prev = got


def test_stamped_keeps_every_field_of_an_event() -> None:
    # stamped_events._stamped spells the fields out: a new field on Event must be added there too.
    assert [f.name for f in attrs.fields(Event)] == [
        "kind", "at", "case_id", "stage", "dpd", "channel", "step", "action_id", "data", "recorded_at", "seq",
        "prev_hash", "hash"]
    event = Event(kind="k", at=DAY1, case_id=1, stage="internal", dpd=4, channel="c", step="s", action_id=9,
                  data={"x": 1})
    recorded = DAY1 + dt.timedelta(minutes=1)
    assert stamped_events._stamped(event, recorded, 5, "p" * 64, "h" * 64) == attrs.evolve(
        event, recorded_at=recorded, seq=5, prev_hash="p" * 64, hash="h" * 64)


def _cases_of(store: Any, rows: list[tuple[Any, ...]]) -> None:
    """The cases the actions name, each of its own debtor: PostgreSQL holds the actions to their references."""
    case_ids = sorted({row[1] for row in rows})
    store.conn.executemany("INSERT INTO debtors (id, name, kind, country, created_at, updated_at) "
                           "VALUES (?, 'D', 'company', 'GB', ?, ?)", [(f"D{c}", NOW, NOW) for c in case_ids])
    store.conn.executemany(
        "INSERT INTO cases (id, debtor_id, currency, stage, status, balance, anchor_due_on, opened_on) "
        "VALUES (?, ?, 'EUR', 'internal', 'open', 100, '2026-03-01', '2026-02-01')", [(c, f"D{c}") for c in case_ids])


@pytest.mark.parametrize("count", [1, 17, 130, 1100, 5000])
@pytest.mark.parametrize("tails", [1, 5, 70])
def test_many_row_statements_write_what_executemany_writes(databases: Databases, count: int, tails: int) -> None:
    """Padded chunks and shared row tails (bulk._insert_actions, _execute_rows) change nothing written."""
    rows = [(f"{i}:step:{i % tails}", i // 2, "outreach", "step", f"channel{i % tails}", None, None, i % 3,
             "2026-03-02", "2026-03-02T00:00:00Z", "pending", 0, 0, "{}", NOW, NOW) for i in range(count)]
    rows += rows[: count // 3]  # keys already there are ignored
    fast = store_module.Store(databases("fast"))
    plain = store_module.Store(databases("plain"))
    with fast.transaction():
        _cases_of(fast, rows)
        inserted = bulk._insert_actions(fast.conn, rows)
    with plain.transaction():
        _cases_of(plain, rows)
        before = plain.conn.total_changes
        plain.conn.executemany(store_rows._INSERT_ACTION, rows)
        expected = plain.conn.total_changes - before
    assert inserted == expected == count
    assert [attrs.astuple(a) for a in fast.actions()] == [attrs.astuple(a) for a in plain.actions()]
    fast.close()
    plain.close()


@pytest.mark.parametrize("preset", ["trade-receivables", "consumer-loans"])
def test_evaluate_shares_plans_only_between_cases_it_would_plan_alike(preset: str) -> None:
    """policy.evaluate reuses a Plan for cases that differ only in what the rules looked at ignore."""
    import random

    from dunning import policy as policy_module
    from dunning.policy import evaluation
    from dunning.models import Case, Status

    policy = policy_module.load_policy(preset)
    rng = random.Random(7)
    anchor_days = [dt.date(2026, 1, 1) + dt.timedelta(days=d) for d in (0, 3, 40, 95, 200)]
    cases = []
    for i in range(1500):
        anchor = rng.choice(anchor_days)
        cases.append(Case(
            id=i + 1, debtor_id=f"D{i}", currency=rng.choice(["EUR", "JPY"]), stage=rng.choice(list(Stage)),
            status=Status.OPEN if rng.random() < 0.95 else Status.PAID,
            balance=rng.choice([100, 49_999, 50_000, 50_001, 499_999, 500_000, 500_001, 9_000_000]),
            anchor_due_on=anchor if rng.random() < 0.97 else None,
            planned_through=rng.choice([None, anchor - dt.timedelta(days=10),
                                        anchor + dt.timedelta(days=rng.randint(0, 200))]),
            broken_promises=rng.randint(0, 3), previous_stage=rng.choice([None, *Stage])))
    days = [dt.date(2026, 1, 1) + dt.timedelta(days=d) for d in (1, 30, 92, 100, 185, 250, 400)]
    asked = [(case, rng.choice(days)) for case in cases for _ in range(3)]
    expected = []
    for case, today in asked:
        evaluation._PLANS.clear()  # worked out from scratch each time
        expected.append(policy_module.evaluate(policy, case, today))
    evaluation._PLANS.clear()
    assert [policy_module.evaluate(policy, case, today) for case, today in asked] == expected
    assert len(evaluation._PLANS) < len(asked) / 2  # and plans were shared
