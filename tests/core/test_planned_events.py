"""Planning's events from templates (dunning.store.planned_events) and a PlanBatch's shared rows.

The texts a template is cut into must give, filled in, exactly the data
column and the hash ``evidence`` gives for the same event written the plain
way, whatever the values hold (quotes, %, non-ASCII, markers); the writer
must insert a batch's actions case after case in each plan's order however
many plans a batch has; and the events appended from templates read back,
verify, and reach ``on_events`` as the same events.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from dunning import evidence
from dunning.calendar import to_text
from dunning.models import Event
from dunning.store import PlanBatch, PlanRows, Store, planned_events
from dunning.store.planned_events import EventTemplate
from dunning.store.stamped_events import _StampedEvents

AT = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
RECORDED = dt.datetime(2026, 12, 7, 13, 5, 7, tzinfo=dt.UTC)

AWKWARD = [
    EventTemplate("skipped", "internal", 1, "email", "overdue-notice",
                  {"reason": "channel_not_enabled", "detail": "channel 'email' is not enabled", "action": "outreach"},
                  key_tail="overdue-notice:email:2026-03-01"),
    EventTemplate("approval_requested", "onsite", 181, None, "enter-litigation",
                  {"reason": "policy", "detail": 'step "enter-litigation" needs 100% approval', "action": "escalate",
                   "target": "litigation"}, key_tail="enter-litigation:escalate:2026-03-02"),
    EventTemplate("steps_missed", None, 40, None, None,
                  {"steps": [{"step": "Mahnung für Zahlung", "dpd": 30}], "reason": "late \\ \"quoted\" %s %%"}),
    EventTemplate("skipped", "agency", None, "sms", "ステップ%d", {"nested": {"b": [1, 2.5, None, True]}},
                  key_tail="ステップ%d:sms:2026-03-01"),
]


def _plain(template: EventTemplate, case_id: int, seq: int, prev: str) -> tuple[str, str]:
    """The data text and the hash of the event written the plain way (EventLog._append_events)."""
    event = template.event(case_id, AT)
    data_text = evidence.canonical_text(dict(event.data))
    return data_text, evidence.link_hash(prev, seq, event, to_text(AT), to_text(RECORDED), data_text)


def test_the_texts_cut_from_a_template_hash_as_the_plain_event_does() -> None:
    compiled = planned_events.Compiled(AWKWARD, to_text(AT), to_text(RECORDED))
    assert not compiled.plain
    planned = [(7, AWKWARD[:2]), (1234567, AWKWARD), (8, AWKWARD[2:])]
    seq, prev, params, links = planned_events.chain_rows(41, evidence.GENESIS, planned, compiled)

    expected_seq, expected_prev = 41, evidence.GENESIS
    rows = [params[i:i + planned_events.ROW_WIDTH] for i in range(0, len(params), planned_events.ROW_WIDTH)]
    assert len(rows) == len(links) == 2 + 4 + 2
    flat = [(case_id, template) for case_id, templates in planned for template in templates]
    for (case_id, template), row, link in zip(flat, rows, links, strict=True):
        expected_seq += 1
        data_text, digest = _plain(template, case_id, expected_seq, expected_prev)
        assert row[:3] == [expected_seq, case_id, data_text]
        assert row[3] == bytes.fromhex(digest)
        assert row[4] == compiled.by_template[template].number
        assert link == (expected_seq, template, case_id, expected_prev, digest)
        # Against the reference encoding too (chain_hash of the whole fields), not only the fast one.
        body = {"seq": expected_seq, "at": to_text(AT), "recorded_at": to_text(RECORDED), "case_id": case_id,
                "kind": template.kind, "stage": template.stage, "dpd": template.dpd, "channel": template.channel,
                "step": template.step, "action_id": None, "data": template.event(case_id, AT).data}
        assert evidence.chain_hash(expected_prev, body) == digest
        expected_prev = digest
    assert (seq, prev) == (expected_seq, expected_prev)


def test_a_template_whose_values_hold_a_marker_is_left_to_the_plain_way() -> None:
    tricky = EventTemplate("skipped", "internal", 1, "email", "@@dunning:case@@", {"reason": "x"}, key_tail="a:b")
    also = EventTemplate("skipped", "internal", 1, "email", "s", {"detail": "@@dunning:seq@@"}, key_tail="a:b")
    compiled = planned_events.Compiled([tricky, also, AWKWARD[0]], to_text(AT), to_text(RECORDED))
    assert compiled.plain == {tricky, also}
    assert list(compiled.by_template) == [AWKWARD[0]]


def _store_with_cases(path: Path | str, count: int) -> Store:
    store = Store(path)
    with store.transaction():
        for i in range(1, count + 1):
            store.conn.execute("INSERT INTO debtors (id, name, kind, country, created_at, updated_at) "
                               "VALUES (?, ?, 'company', 'GB', ?, ?)", [f"D{i}", f"D{i}", to_text(AT), to_text(AT)])
            store.conn.execute(
                "INSERT INTO cases (id, debtor_id, currency, stage, status, balance, anchor_due_on, opened_on, "
                "planned_through, next_action_on) VALUES (?, ?, 'EUR', 'internal', 'open', 100, '2026-03-01', "
                "'2026-02-01', '2026-03-01', '2026-03-02')", [i, f"D{i}"])
    return store


def _tail(step: str, channel: str) -> tuple[Any, ...]:
    return ("outreach", step, channel, step, None, 1, "2026-03-02", "2026-03-02T00:00:00Z", "skipped", 0, 0, "{}",
            to_text(AT), to_text(AT))


@pytest.mark.parametrize("plan_count", [3, 40])  # a table of actions SQLite scans, and one it indexes
def test_a_batch_inserts_each_case_s_actions_in_its_plan_s_order(dunning_database: Path | str,
                                                                  plan_count: int) -> None:
    # Steps named so that their alphabetical order is not the plan's.
    steps = ["zulu", "alpha", "mike", "bravo"]
    plans = {
        n: PlanRows(expected_planned_through="2026-03-01", planned_through="2026-03-02", next_action_on=None,
                    actions=tuple((f":{step}:p{n}", _tail(step, f"c{n}")) for step in steps[: 1 + n % 4]),
                    events=(EventTemplate("skipped", "internal", 1, f"c{n}", steps[0], {"n": n},
                                          key_tail=f"{steps[0]}:p{n}"),))
        for n in range(100, 100 + plan_count)
    }
    cases = 120
    numbers = [100 + (i * 7) % plan_count for i in range(cases)]
    ids = [cases - i for i in range(cases)]  # not in id order: the batch's order is what counts
    store = _store_with_cases(dunning_database, cases)
    seen: list[Event] = []
    store.on_events = seen.extend
    written, inserted, superseded = store.save_plans(PlanBatch(ids, numbers, plans, planned_at=AT))

    expected = [f"{case_id}{suffix}" for case_id, n in zip(ids, numbers, strict=True) for suffix, _ in plans[n].actions]
    keys = [key for (key,) in store.conn.execute("SELECT key FROM actions ORDER BY id")]
    assert (written, inserted, superseded) == (cases, len(expected), 0)
    assert keys == expected
    events = store.events()
    assert [(e.case_id, e.channel, e.data) for e in events] == [
        (case_id, f"c{n}", {"key": f"{case_id}:zulu:p{n}", "n": n}) for case_id, n in zip(ids, numbers, strict=True)]
    assert [(e.seq, e.case_id, e.data, e.hash) for e in seen] == [(e.seq, e.case_id, e.data, e.hash) for e in events]
    assert evidence.verify_chain(store.event_rows_for_verify()).ok
    assert {c.planned_through for c in store.cases()} == {dt.date(2026, 3, 2)}
    store.close()


def test_events_built_later_are_forgotten_with_a_rolled_back_savepoint() -> None:
    stamped = _StampedEvents()
    plain = Event(kind="note", at=AT, case_id=1)
    stamped.add([plain], [(1, "p0", "h1")], RECORDED)
    template = AWKWARD[0]
    stamped.add_built_later([(2, template, 5, "h1", "h2"), (3, template, 6, "h2", "h3")], RECORDED,
                            lambda row: row[1].event(row[2], AT))
    stamped.add([plain], [(4, "h3", "h4")], RECORDED)
    assert [(e.seq, e.case_id, e.prev_hash, e.hash) for e in stamped] == [
        (1, 1, "p0", "h1"), (2, 5, "h1", "h2"), (3, 6, "h2", "h3"), (4, 1, "h3", "h4")]
    assert stamped[2].data == {"key": "6:overdue-notice:email:2026-03-01", **template.data}

    stamped.truncate(2)
    stamped.add([plain], [(3, "h2", "x3")], RECORDED)
    assert [(e.seq, e.case_id, e.hash) for e in stamped] == [(1, 1, "h1"), (2, 5, "h2"), (3, 1, "x3")]
