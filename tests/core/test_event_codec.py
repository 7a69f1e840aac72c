"""The events table's compact form reads back to exactly the text the hash chain covers."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from dunning import event_codec, evidence
from dunning.evidence import verify_chain
from dunning.models import Event
from dunning.store import Store

import datetime as dt


AWKWARD = [
    {"action": "outreach", "key": "35:formal-demand:letter:2026-09-02",
     "reference": "35:formal-demand:letter:2026-09-02", "template": "formal-demand"},
    {"note": "tab\there, a line\nbreak, \u0001 and é, ünïcödé ✓", "amount": 1000, "by": "ann"},
    {"detail": "step 'x' requires approval", "reason": "policy", "key": "7:x:None:2026-01-01", "x": "x" * 3},
    {},
]


def test_data_reads_back_byte_for_byte_and_stays_json():
    for data in AWKWARD:
        text = evidence.canonical_text(data)
        for case_id, step, channel in ((35, "formal-demand", "letter"), (7, "x", None), (None, None, None),
                                        (1, "a\u0001b", "email")):
            stored = event_codec.encode_data(text, case_id, step, channel)
            assert event_codec.decode_data(stored, case_id, step, channel) == text
    # Kept as JSON, so SQL's json_extract (the reports, Datasette) reads it.
    sent = evidence.canonical_text(AWKWARD[0])
    stored = event_codec.encode_data(sent, 35, "formal-demand", "letter")
    assert sqlite3.connect(":memory:").execute("SELECT json_extract(?, '$.template')", [stored]).fetchone() == (
        "formal-demand",)


def test_text_written_before_the_change_reads_as_it_is():
    text = evidence.canonical_text(AWKWARD[1])
    assert event_codec.decode_data(text, 1, "s", "email") == text
    assert event_codec.decode_hash("ab" * 32) == "ab" * 32
    assert event_codec.decode_hash(bytes.fromhex("ab" * 32)) == "ab" * 32
    assert event_codec.decode_prev_hash(b"", "cd" * 32) == "cd" * 32
    assert event_codec.decode_prev_hash(b"", None) == evidence.GENESIS == event_codec.GENESIS


def _old_format_rows(db: Path, count: int) -> None:
    """Events as the store wrote them before m023: JSON text, hex hashes, prev_hash spelled out."""
    conn = sqlite3.connect(db)
    prev = evidence.GENESIS
    for seq in range(1, count + 1):
        fields = {"seq": seq, "at": "2026-03-01T09:00:00Z", "recorded_at": "2026-03-01T09:00:01Z", "case_id": seq,
                  "kind": "sent", "stage": "internal", "dpd": 3, "channel": "email", "step": "overdue-notice",
                  "action_id": seq, "data": {"key": f"{seq}:overdue-notice:email:2026-03-01", "n": seq}}
        digest = evidence.chain_hash(prev, fields)
        conn.execute("INSERT INTO events (seq, at, recorded_at, case_id, kind, stage, dpd, channel, step, action_id, "
                     "data, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     [*[fields[k] if k != "data" else evidence.canonical_text(fields[k])
                        for k in evidence.HASHED_FIELDS], prev, digest])
        prev = digest
    conn.commit()
    conn.close()


def test_a_log_written_before_the_change_and_continued_after_it_verifies(tmp_path: Path):
    db = tmp_path / "d.db"
    Store(db).close()
    _old_format_rows(db, 3)
    store = Store(db)
    at = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
    with store.transaction():
        appended = store.append_events([Event(kind="payment", at=at, case_id=1, data={"amount": 10000, "by": "ann"}),
                                        Event(kind="sent", at=at, case_id=2, step="overdue-notice", channel="email",
                                              data={"key": "2:overdue-notice:email:2026-03-02"})])
    rows = list(store.event_rows_for_verify())
    kinds = [t for (t,) in sqlite3.connect(db).execute("SELECT typeof(hash) FROM events ORDER BY seq")]
    assert kinds == ["text"] * 3 + ["blob"] * 2  # both forms in one table
    assert verify_chain(rows).ok and verify_chain(rows).checked == 5
    assert rows[3]["prev_hash"] == rows[2]["hash"] and rows[4]["hash"] == appended[1].hash
    listed = store.events(case_id=2)
    assert [e.prev_hash for e in listed] == [rows[0]["hash"], rows[3]["hash"]]
    assert listed[1].data == {"key": "2:overdue-notice:email:2026-03-02"}
    assert store.event_hash(5) == appended[1].hash and store.chain_head() == (5, appended[1].hash)
    assert json.loads(json.dumps(rows[4]["data"])) == {"key": "2:overdue-notice:email:2026-03-02"}


# Rows in the format from before m023 (JSON text, hex hashes) exist only in SQLite files: PostgreSQL's store
# was born with BYTEA hashes.
@pytest.mark.sqlite_only
def test_dunning_verify_passes_on_a_database_written_before_and_after_the_change(project):
    _old_format_rows(project.db, 3)
    store = project.store()
    with store.transaction():
        store.append_events([Event(kind="payment", at=dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC), case_id=1,
                                   data={"amount": 10000})])
    store.close()
    assert project("verify").stdout.startswith("ok: 4 events, chain intact")
    # An old-format row edited is still caught.
    conn = sqlite3.connect(project.db)
    conn.execute("DROP TRIGGER events_no_update")
    conn.execute("UPDATE events SET data = replace(data, '\"n\":2', '\"n\":3') WHERE seq = 2")
    conn.commit()
    conn.close()
    assert "event 2 was changed after it was written" in project("verify", expect=1).output


def test_the_queries_on_stubs_and_on_where_a_case_went_use_an_index(tmp_path: Path):
    store = Store(tmp_path / "d.db")
    plans = {
        "stubs": "SELECT seq FROM events WHERE kind = 'archived' AND data = '' ORDER BY seq",
        "where a case went": "SELECT archive, archived_at FROM archived_cases WHERE case_id = 1",
        "the event before": "SELECT hash FROM events WHERE seq = 4",
    }
    for what, sql in plans.items():
        plan = " ".join(row[-1] for row in store.conn.execute(f"EXPLAIN QUERY PLAN {sql}"))
        assert "USING" in plan and "SCAN" not in plan, (what, plan)
