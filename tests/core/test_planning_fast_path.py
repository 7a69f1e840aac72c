"""Planning's fast path (rows shared between cases alike, no object per case) writes what the plain path writes.

``dispatch.plan`` against ``planning.plan_case_by_case`` (a Case and a
CasePlanWrite per case), on two copies of one varied portfolio: due dates
from before the due day to far past it, cursors never set, behind or ahead,
every stage, balances either side of the policies' thresholds, broken
promises, signals, contact and payment dates, several time zones, closed
cases still marked due. Several runs days apart, so steps with ranges and
times of day, stage entries, recalls, missed steps and superseded
occurrences all come up.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import attrs
import pytest

from dunning import dispatch, evidence
from dunning.dispatch import planning
from dunning.runtime import Runtime
from dunning.store import PlanBatch
from tests.conftest import ChannelsPlugin
from tests.core.module_databases import Databases, databases

__all__ = ["databases"]  # a fixture this module uses

UTC = dt.UTC
TODAY = dt.date(2026, 3, 2)
RUNS = [dt.datetime(2026, 3, 2, 9, tzinfo=UTC), dt.datetime(2026, 3, 5, 23, 30, tzinfo=UTC),
        dt.datetime(2026, 3, 20, 6, tzinfo=UTC), dt.datetime(2026, 4, 30, 9, tzinfo=UTC),
        dt.datetime(2026, 7, 15, 9, tzinfo=UTC)]
ZONES = (None, "Europe/London", "America/New_York", "Asia/Tokyo", "Australia/Sydney")
CHANNELS = ("email", "phone", "sms", "letter", "visit")
Factory = Callable[..., Any]
BALANCES = (100, 49_999, 50_000, 99_999, 100_000, 500_000, 500_001, 9_000_000, 9_000_001)

# Conditions of every kind, ranges with and without ``every``, times of day, a required step, approvals.
VARIED_POLICY = """
name = "varied"

[stages.onsite]
entry_dpd = 20
on_signals = ["relocation"]
on_broken_promises = 2

[stages.agency]
entry_dpd = 45
min_balance = "500.00"
recall_dpd = 120

[stages.litigation]
entry_dpd = 120
min_balance = "5000.00"
requires_approval = true

[[steps]]
name = "reminder"
dpd = [1, 10]
every = 3
channels = ["email", "phone"]
template = "overdue-notice"

[[steps]]
name = "calls"
dpd = [5, 12]
channels = ["phone"]
at = ["09:30", "18:00"]
template = "overdue-notice"

[[steps]]
name = "big-debt"
dpd = [8, 30]
every = 4
channels = ["email"]
min_balance = "1000.00"
max_balance = "90000.00"
template = "overdue-notice"

[[steps]]
name = "promises-broken"
dpd = 15
channels = ["letter"]
min_broken_promises = 1
required = true
template = "overdue-notice"

[[steps]]
name = "risky"
dpd = [25, 60]
every = 5
channels = ["phone"]
risk = ["doubtful", "bad_debt"]
template = "overdue-notice"

[[steps]]
name = "moved"
dpd = 35
channels = ["visit"]
signals = ["relocation"]
template = "overdue-notice"

[[steps]]
name = "lock"
dpd = 40
action = "lock_account"
requires_approval = true

[[steps]]
name = "tell-supervisor"
dpd = 50
notify = "supervisor"

[[steps]]
name = "onsite-visits"
dpd = [21, 44]
every = 7
channels = ["visit"]
stage = "onsite"
template = "overdue-notice"
"""


def _portfolio(conn: Any, count: int, seed: int) -> None:
    """``count`` debtors and cases, varied in every field planning may read.

    Half are drawn at random; each of the others copies one of those and
    changes a single field, so cases that share a plan's key but for that
    field are planned side by side.
    """
    rng = random.Random(seed)

    def day(offset: int | None) -> str | None:
        return None if offset is None else (TODAY + dt.timedelta(days=offset)).isoformat()

    drawn: list[dict[str, Any]] = []
    for _ in range(count // 2):
        dpd = rng.choice([-8, -1, 0, 1, 2, 4, 7, 9, 14, 19, 20, 26, 35, 40, 44, 45, 50, 60, 90, 119, 120, 150, 260])
        cursor = rng.choice([None, None, -dpd - 3, -1, -1, -4, -12, -30, 2])
        drawn.append({
            "timezone": rng.choice(ZONES), "currency": rng.choice(["EUR", "EUR", "JPY"]),
            "stage": rng.choice(["internal", "internal", "onsite", "agency"]),
            "status": "open" if rng.random() < 0.93 else rng.choice(["paid", "written_off"]),
            "balance": rng.choice(BALANCES), "anchor_due_on": day(-dpd) if rng.random() < 0.97 else None,
            "opened_on": day(-dpd - 30),
            "planned_through": day(None if cursor is None else max(cursor, -dpd - 10)),
            "next_action_on": day(rng.choice([0, 0, 0, -1, -5, 3])),  # 3: not due yet
            "broken_promises": rng.choice([0, 0, 1, 2, 3]),
            "previous_stage": rng.choice([None, None, "internal", "onsite"]),
            "stage_entered_on": day(-dpd), "last_contact_on": day(rng.choice([None, None, -3, -70, -200])),
            "last_payment_on": day(rng.choice([None, -10, -100])),
            "signals": rng.choice(["", "", "relocation", "business_closed", "relocation,bankruptcy"]),
        })
    varied = {
        "timezone": ZONES, "currency": ["EUR", "JPY"], "stage": ["internal", "onsite", "agency"],
        "balance": BALANCES, "broken_promises": [0, 1, 2, 3], "previous_stage": [None, "internal", "onsite"],
        "last_contact_on": [None, day(-3), day(-70), day(-200)], "last_payment_on": [None, day(-10), day(-100)],
        "signals": ["", "relocation", "business_closed", "fraud"],
    }
    cases = [*drawn]
    while len(cases) < count:
        field = rng.choice(sorted(varied))
        cases.append({**rng.choice(drawn), field: rng.choice(varied[field])})

    conn.execute("BEGIN IMMEDIATE")
    for i, case in enumerate(cases, start=1):
        debtor = f"D{i:05d}"
        conn.execute("INSERT INTO debtors (id, name, kind, country, timezone, locale, created_at, updated_at) "
                     "VALUES (?, ?, 'company', 'GB', ?, NULL, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
                     [debtor, f"Customer {i}", case.pop("timezone")])
        columns = ["id", "debtor_id", *case]
        conn.execute(f"INSERT INTO cases ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                     [i, debtor, *case.values()])
    conn.execute("COMMIT")


def _actions(rt: Runtime) -> list[tuple[Any, ...]]:
    return [attrs.astuple(a) for a in rt.store.actions()]


def _events(rt: Runtime) -> list[tuple[Any, ...]]:
    # recorded_at (the wall clock) and so the hashes may differ between the two runs.
    return [(e.seq, e.at, e.kind, e.case_id, e.stage, e.dpd, e.channel, e.step, e.action_id, e.data)
            for e in rt.store.events()]


def _cursors(rt: Runtime) -> list[tuple[Any, ...]]:
    return [(c.id, c.status, c.planned_through, c.next_action_on) for c in rt.store.cases()]


@pytest.mark.parametrize("policy", ["trade-receivables", "consumer-loans", VARIED_POLICY],
                         ids=["trade-receivables", "consumer-loans", "varied"])
def test_the_fast_path_writes_what_planning_case_by_case_writes(policy: str, dunning_config: Factory,
                                                               databases: Databases,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(planning, "PLAN_BATCH", 97)  # many batches, so the writer thread takes part (on SQLite)
    config = dunning_config(policy=policy, enabled=["email", "sms"], timezone="Europe/Berlin")
    fast_db, plain_db = cast(Path, databases("fast")), cast(Path, databases("plain"))
    for db in (fast_db, plain_db):  # the same portfolio in each (the same seed)
        with Runtime(config, db_path=db, extra_plugins=[ChannelsPlugin(*CHANNELS)]) as rt:
            _portfolio(rt.store.conn, 600, seed=len(policy))

    plugins = [ChannelsPlugin(*CHANNELS)]
    with Runtime(config, db_path=fast_db, extra_plugins=plugins) as fast, \
            Runtime(config, db_path=plain_db, extra_plugins=plugins) as plain:
        kinds: set[str] = set()
        for now in RUNS:
            fast_summary, plain_summary = dispatch.RunSummary(), dispatch.RunSummary()
            dispatch.plan(fast, now, fast_summary)
            planning.plan_case_by_case(plain, now, plain_summary)
            assert fast_summary == plain_summary, now
            assert _actions(fast) == _actions(plain), now
            assert _events(fast) == _events(plain), now
            assert _cursors(fast) == _cursors(plain), now
            kinds |= {e.kind for e in fast.store.events()}
        assert evidence.verify_chain(fast.store.event_rows_for_verify()).ok
        actions = fast.store.actions()
        # The portfolio did exercise what it is meant to: every kind of planning event, times of day.
        assert {"skipped", "steps_missed", "approval_requested"} <= kinds
        assert len(actions) > 600
        assert len({a.status for a in actions}) >= 3
        if policy == "consumer-loans":
            assert "superseded" in kinds
            assert any(a.not_before.time() != dt.time(0) for a in actions if a.step == "daily-calls")


def test_a_batch_leaves_alone_the_cases_another_dispatcher_planned_meanwhile(dunning_config: Factory,
                                                                            dunning_database: Path | str) -> None:
    """The compare-and-set of a PlanBatch: a case whose cursor moved since it was read keeps its rows out."""
    config = dunning_config(enabled=["email"])
    with Runtime(config, db_path=cast(Path, dunning_database), extra_plugins=[ChannelsPlugin(*CHANNELS)]) as rt:
        _portfolio(rt.store.conn, 40, seed=3)
        rt.store.conn.execute("UPDATE cases SET status = 'open', anchor_due_on = '2026-03-01', "
                              "planned_through = NULL, next_action_on = '2026-03-02'")
        now = RUNS[0]
        planner = planning._CasePlanner(rt, now, TODAY, dispatch.RunSummary())
        batch = planner.plan_rows(rt.store.due_case_rows(TODAY, None, 100))
        assert isinstance(batch, PlanBatch) and len(batch) == 40
        planned_ids = {case_id for _, _, case_id, _ in batch.cursors}
        assert planned_ids == set(range(1, 41))
        # Another dispatcher planned case 7 and case 30 after this batch read them.
        rt.store.conn.execute("UPDATE cases SET planned_through = '2026-03-02' WHERE id IN (7, 30)")

        cases, inserted, superseded = rt.store.save_plans(batch)

        assert (cases, superseded) == (38, 0)
        written = {a.case_id for a in rt.store.actions()}
        assert written == planned_ids - {7, 30}
        assert inserted == len(rt.store.actions()) == 2 * 38  # an email and a phone call each
        assert {e.case_id for e in rt.store.events() if e.kind == "skipped"} == written
