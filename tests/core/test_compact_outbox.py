"""The outbox kept compact (m035): an action's attempt refers to it by id, a provider's echo of the key is not kept
twice, a finished claim keeps no time; what the callers read is what they read before."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import sqlite_utils

from dunning.migrations import migrations
from dunning.models import ActionKind, ActionStatus
from dunning.store import Store

NOW = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
STAMP = "2026-03-01T00:00:00Z"


def _case(conn: sqlite3.Connection, n: int) -> None:
    conn.execute("INSERT INTO debtors (id, name, kind, created_at, updated_at) VALUES (?, ?, 'person', ?, ?)",
                 [f"D{n}", f"Debtor {n}", STAMP, STAMP])
    conn.execute("INSERT INTO cases (id, debtor_id, currency, stage, status, balance, opened_on) "
                 "VALUES (?, ?, 'EUR', 'internal', 'open', 1000, '2026-01-01')", [n, f"D{n}"])


def _queue(store: Store, key: str, case_id: int = 1, template: str | None = None) -> int:
    with store.transaction():
        assert store.add_action(key=key, case_id=case_id, kind=ActionKind.OUTREACH, step="call",
                                planned_for=NOW.date(), not_before=NOW, now=NOW, channel="phone", template=template)
    (action_id,) = store.conn.execute("SELECT id FROM actions WHERE key = ?", [key]).fetchone()
    return int(action_id)


def test_an_action_s_attempt_is_kept_by_its_id_and_read_by_its_key(dunning_database: str | Path) -> None:
    store = Store(dunning_database)
    with store.transaction():
        _case(store.conn, 1)
    action_id = _queue(store, "1:call:phone:2026-03-02")
    with store.transaction():
        assert store.record_attempt(debtor_id="D1", case_id=1, channel="phone", at=NOW, source="phone",
                                    key="1:call:phone:2026-03-02")
        # A re-send after a crash is the same attempt, whichever way it is recorded.
        assert not store.record_attempt(debtor_id="D1", case_id=1, channel="phone", at=NOW, source="phone",
                                        key="1:call:phone:2026-03-02")
        store.record_attempts([("1:call:phone:2026-03-02", "D1", 1, "phone", "debtor", NOW, "phone")])
        # An attempt no action made keeps its own key, once.
        assert store.record_attempt(debtor_id="D1", case_id=1, channel="phone", at=NOW, source="portal",
                                    key="portal:callback:7")
        assert not store.record_attempt(debtor_id="D1", case_id=1, channel="phone", at=NOW, source="portal",
                                        key="portal:callback:7")
        store.record_attempt(debtor_id="D1", case_id=1, channel="visit", at=NOW, source="visit")
    assert store.conn.execute("SELECT key, action_id, source FROM contact_attempts ORDER BY id").fetchall() == [
        (None, action_id, "phone"), ("portal:callback:7", None, "portal"), (None, None, "visit")]
    since = NOW - dt.timedelta(days=1)
    assert [a[-1] for a in store.attempts_of(["D1"], since)["D1"]] == [
        "1:call:phone:2026-03-02", "portal:callback:7", None]
    # The attempt of the action being judged is left out; None leaves out the attempts without a key.
    assert [a[1] for a in store.attempts("D1", since, excluding_key="1:call:phone:2026-03-02")] == ["phone", "visit"]
    assert [a[1] for a in store.attempts("D1", since, excluding_key="portal:callback:7")] == ["phone", "visit"]
    assert len(store.attempts("D1", since)) == 2
    with store.transaction():
        assert store.update_attempt("1:call:phone:2026-03-02", contact="+4930123456", connected=True)
        store.forget_attempt("portal:callback:7")
    assert store.conn.execute("SELECT action_id, contact, connected FROM contact_attempts ORDER BY id").fetchall() == [
        (action_id, "+4930123456", 1), (None, None, None)]
    assert store.conn.execute("SELECT last_contact_on FROM cases WHERE id = 1").fetchone() == ("2026-03-02",)
    with store.transaction():
        store.forget_attempt("1:call:phone:2026-03-02")
    assert store.conn.execute("SELECT count(*) FROM contact_attempts").fetchone() == (1,)


def test_a_reference_that_is_the_key_is_kept_once_and_a_finished_claim_keeps_no_time(
        dunning_database: str | Path) -> None:
    store = Store(dunning_database)
    with store.transaction():
        _case(store.conn, 1)
    echoed, own, none = (_queue(store, f"1:call:phone:2026-03-0{d}", template=t)
                         for d, t in ((2, "call"), (3, "reminder-call"), (4, None)))
    claimed = store.claim(NOW + dt.timedelta(days=3), NOW, "runner", 10)
    assert sorted(a.id for a in claimed) == [echoed, own, none]
    by_id = {a.id: a for a in claimed}
    assert store.finish(by_id[echoed], "runner", ActionStatus.SENT, NOW, reference="1:call:phone:2026-03-02")
    assert store.finish(by_id[own], "runner", ActionStatus.SENT, NOW, reference="provider-42")
    assert store.finish(by_id[none], "runner", ActionStatus.SENT, NOW)
    assert store.conn.execute("SELECT reference, claimed_by, claimed_at FROM actions ORDER BY id").fetchall() == [
        ("", None, None), ("provider-42", None, None), (None, None, None)]
    assert [store.action(i).reference for i in (echoed, own, none)] == [
        "1:call:phone:2026-03-02", "provider-42", None]
    assert [a.reference for a in store.actions()] == ["1:call:phone:2026-03-02", "provider-42", None]
    # A template named as the step is kept as '', and read back as the step.
    assert [t for (t,) in store.conn.execute("SELECT template FROM actions ORDER BY id")] == ["", "reminder-call", None]
    assert [a.template for a in store.actions()] == ["call", "reminder-call", None]


def _before_m035(path: Path) -> None:
    """A database with every core step but m035 applied, as it was before it."""
    db = sqlite_utils.Database(path)
    real = sqlite_utils.Migrations(migrations.name)
    for name, fn, transactional in migrations.steps:
        if name != "m035_compact_outbox":
            real(name=name, transactional=transactional)(fn)
    real.apply(db)
    db.conn.close()


def test_the_migration_rewrites_attempts_and_references_and_keeps_the_triggers(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _before_m035(path)
    conn = sqlite3.connect(path)
    _case(conn, 1)
    key = "1:call:phone:2026-03-02"
    conn.execute("INSERT INTO actions (key, case_id, kind, step, channel, template, planned_for, not_before, status, "
                 "reference, claimed_at, created_at, updated_at) VALUES (?, 1, 'outreach', 'call', 'phone', 'call', "
                 "'2026-03-02', ?, 'sent', ?, ?, ?, ?)", [key, STAMP, key, STAMP, STAMP, STAMP])
    conn.execute("INSERT INTO actions (key, case_id, kind, step, channel, planned_for, not_before, status, reference, "
                 "claimed_by, claimed_at, created_at, updated_at) VALUES ('1:call:phone:2026-03-03', 1, 'outreach', "
                 "'call', 'phone', '2026-03-03', ?, 'sending', 'provider-9', 'runner', ?, ?, ?)",
                 [STAMP, STAMP, STAMP, STAMP])
    conn.executemany("INSERT INTO contact_attempts (key, debtor_id, case_id, channel, at, connected, source) "
                     "VALUES (?, 'D1', 1, 'phone', ?, ?, ?)",
                     [(key, STAMP, 1, "phone"), ("agency:return:3", STAMP, None, "agency"), (None, STAMP, 0, "visit")])
    conn.commit()
    conn.close()
    store = Store(path)
    assert store.conn.execute("SELECT id, key, action_id, connected, source FROM contact_attempts ORDER BY id"
                              ).fetchall() == [(1, None, 1, 1, "phone"), (2, "agency:return:3", None, None, "agency"),
                                               (3, None, None, 0, "visit")]
    assert store.conn.execute("SELECT reference, claimed_at FROM actions ORDER BY id").fetchall() == [
        ("", None), ("provider-9", STAMP)]
    assert store.action(1).reference == key
    assert store.conn.execute("SELECT template FROM actions WHERE id = 1").fetchone() == ("",)
    assert store.action(1).template == "call" and store.action(2).template is None
    objects = {name for (name,) in store.conn.execute(
        "SELECT name FROM sqlite_master WHERE tbl_name = 'contact_attempts' AND sql IS NOT NULL")}
    assert objects == {"contact_attempts", "contact_attempts_debtor", "contact_attempts_action", "contact_attempts_key",
                       "report_attempt_rollup_insert", "report_attempt_rollup_update", "report_attempt_rollup_delete"}
    assert [a[-1] for a in store.attempts_of(["D1"], dt.datetime(2026, 1, 1, tzinfo=dt.UTC))["D1"]] == [
        key, "agency:return:3", None]
    with store.transaction():  # the same attempt as the one the migration rewrote
        assert not store.record_attempt(debtor_id="D1", case_id=1, channel="phone", at=NOW, source="phone", key=key)


def test_a_sent_event_s_reference_that_is_its_key_is_kept_once_and_the_chain_verifies(
        dunning_database: str | Path) -> None:
    from dunning.chain_walk import walk
    from dunning.evidence import verify_chain
    from dunning.models import Event

    store = Store(dunning_database)
    key = "1:formal-demand:letter:2026-03-02"
    sent = [{"action": "outreach", "key": key, "reference": key, "template": "formal-demand"},
            {"action": "outreach", "key": key, "reference": "provider-7", "template": "formal-demand"},
            {"key": key, "reference": key, "items": [{"reference": key}], "note": "\"reference\": text"}]
    with store.transaction():
        store.append_events([Event(kind="sent", at=NOW, case_id=1, step="formal-demand", channel="letter", data=d)
                             for d in sent])
    stored = [r[0] for r in store.conn.execute("SELECT data FROM events ORDER BY seq")]
    assert stored[0] == ' {"action":"outreach","key":"1:formal-demand:letter:2026-03-02","template":"formal-demand"}'
    assert not stored[1].startswith(" ") and stored[2].startswith(" ") and stored[2].count(key) == 2
    # Still JSON to SQL: every member but the repeated one reads as before.
    assert store.conn.execute("SELECT json_extract(data, '$.key'), json_extract(data, '$.template'), "
                              "json_extract(data, '$.reference') FROM events ORDER BY seq").fetchall() == [
        (key, "formal-demand", None), (key, "formal-demand", "provider-7"), (key, None, None)]
    assert [e.data for e in store.events()] == sent
    assert verify_chain(store.event_rows_for_verify()).ok
    report = walk(store.event_links())
    assert report.checked == 3 and report.ok
