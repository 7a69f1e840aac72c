"""`dunning verify` from the latest signed checkpoint (the default) and over the whole log (`--full`)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from dunning import chain_walk, evidence
from tests.conftest import Project
from tests.core.test_checkpoints import dropped_guards, keyed, populate


def _unguarded(project: Project) -> Any:
    """A connection to the project's database with the events' append-only triggers dropped (what someone
    holding the database can do): ``execute(sql, params)`` in SQLite's words and ``commit()``, on both."""
    if not project.on_postgres:
        return dropped_guards(project.db)
    from dunning.store.database import parse_postgres_url
    from dunning.store.postgres import PostgresConnection

    conn = PostgresConnection(parse_postgres_url(str(project.target)))  # autocommit: commit() has nothing to do
    conn.execute("DROP TRIGGER events_no_update ON events")
    conn.execute("DROP TRIGGER events_no_delete ON events")
    return conn


def _signed(project: Project) -> int:
    """A keyed project with events, a signed head, and two events after it; the checkpoint's seq."""
    keyed(project)
    populate(project)
    [checkpoints] = project.folder.glob("*.checkpoints")  # beside the file, or beside dunning.toml on PostgreSQL
    signed = json.loads(checkpoints.read_text().splitlines()[-1])["seq"]
    project("hold", "1", "--reason", "dispute", now="2026-03-13T08:00:00Z")
    project("hold", "2", "--reason", "dispute", now="2026-03-13T08:05:00Z")
    return int(signed)


def test_the_default_checks_from_the_checkpoint_and_full_checks_everything(project: Project):
    signed = _signed(project)
    [(last,)] = project.sql("SELECT max(seq) FROM events")
    out = project("verify").stdout
    assert out.startswith(f"ok: {last - signed + 1} events from the checkpoint of event {signed} (signed ")
    assert f"the {signed - 1} events before it were not recomputed" in out
    assert project("verify", "--full").stdout.startswith(f"ok: {last} events, chain intact;")


def test_an_edit_after_the_checkpoint_or_of_the_checkpointed_event_is_caught_by_default(project: Project):
    signed = _signed(project)
    conn = _unguarded(project)
    conn.execute("UPDATE events SET data = replace(data, 'dispute', 'agreed') WHERE seq = ?", [signed + 1])
    conn.commit()
    out = project("verify", expect=1).output
    assert f"evidence chain broken at event {signed + 1}: event {signed + 1} was changed after it was written" in out
    conn.execute("UPDATE events SET data = replace(data, 'agreed', 'dispute') WHERE seq = ?", [signed + 1])
    conn.execute("UPDATE events SET at = '2026-01-01T00:00:00Z' WHERE seq = ?", [signed])
    conn.commit()
    assert f"event {signed} was changed after it was written" in project("verify", expect=1).output


def test_an_old_event_edited_in_place_is_caught_by_full_only(project: Project):
    """The documented limit of the default: an event before the checkpoint, edited without touching any hash."""
    signed = _signed(project)
    conn = _unguarded(project)
    payment = conn.execute("SELECT seq FROM events WHERE kind = 'payment'").fetchone()[0]
    assert payment < signed
    conn.execute("UPDATE events SET data = replace(data, '10000', '1') WHERE seq = ?", [payment])
    conn.commit()
    assert project("verify").stdout.startswith("ok: ")
    out = project("verify", "--full", expect=1).output
    assert f"evidence chain broken at event {payment}: event {payment} was changed after it was written" in out


def test_without_the_evidence_key_the_whole_log_is_checked(project: Project):
    signed = _signed(project)
    (project.folder / "dunning-evidence.key").unlink()
    out = project("verify").stdout
    assert out.startswith("ok: ") and "events, chain intact;" in out and "no evidence key at hand" in out
    assert signed > 1


@pytest.mark.sqlite_only  # SQLite's INTEGER column keeps text that is no number; PostgreSQL's refuses it
def test_a_number_stored_as_text_is_caught(project: Project):
    signed = _signed(project)
    conn = _unguarded(project)
    # An INTEGER column turns the text '1' back into the number 1; text that is no number stays text.
    conn.execute("UPDATE events SET case_id = 'case ' || case_id WHERE seq = ?", [signed + 1])
    conn.commit()
    assert f"event {signed + 1} was changed after it was written" in project("verify", expect=1).output


def test_the_fast_walk_agrees_with_verify_chain(project: Project):
    """Same verdicts: an untouched log, data rewritten with the same meaning (accepted by both), a real edit."""
    _signed(project)
    store = project.store()
    assert chain_walk.walk(store.event_links()) == evidence.verify_chain(store.event_rows_for_verify())
    store.close()
    conn = _unguarded(project)
    conn.execute("UPDATE events SET data = replace(data, ':', ' : ') WHERE seq = 2")  # same JSON, other text
    conn.commit()
    store = project.store()
    assert chain_walk.walk(store.event_links()).ok and evidence.verify_chain(store.event_rows_for_verify()).ok
    store.close()
    conn.execute("UPDATE events SET kind = 'x' WHERE seq = 3")
    conn.commit()
    store = project.store()
    fast, slow = chain_walk.walk(store.event_links()), evidence.verify_chain(store.event_rows_for_verify())
    assert fast == slow and fast.broken_at == 3
    store.close()


@pytest.mark.sqlite_only  # SQLite's INTEGER column keeps the text 'null'; PostgreSQL's refuses it
def test_a_null_turned_into_the_text_null_is_caught_even_after_another_loosely_typed_event(project: Project):
    """Each row is checked on its own: the walk does not trust the integer columns after a first odd one."""
    signed = _signed(project)
    conn = _unguarded(project)
    nulls = [seq for (seq,) in conn.execute("SELECT seq FROM events WHERE action_id IS NULL AND seq > ? ORDER BY seq",
                                             [signed])]
    assert nulls, "the events after the checkpoint include some without an action"
    conn.execute("UPDATE events SET action_id = 'null' WHERE seq = ?", [nulls[-1]])
    conn.commit()
    for args in (["verify"], ["verify", "--full"]):
        assert f"event {nulls[-1]} was changed after it was written" in project(*args, expect=1).output


@pytest.mark.sqlite_only  # SQLite's INTEGER column keeps a REAL; PostgreSQL's BIGINT rounds it
def test_a_whole_number_turned_into_a_real_is_caught(project: Project):
    signed = _signed(project)
    conn = _unguarded(project)
    dpd = conn.execute("SELECT dpd FROM events WHERE seq = ?", [signed + 1]).fetchone()[0]
    assert isinstance(dpd, int)
    conn.execute("UPDATE events SET dpd = ? WHERE seq = ?", [dpd + 0.5, signed + 1])
    conn.commit()
    assert f"event {signed + 1} was changed after it was written" in project("verify", expect=1).output


@pytest.mark.sqlite_only  # SQLite's TEXT column keeps a BLOB; PostgreSQL's refuses it
def test_a_blob_in_a_text_column_is_caught_by_the_exact_walk(project: Project):
    """SQLite's json_array refuses a BLOB: verify falls back to the exact walk and names the event, no traceback."""
    signed = _signed(project)
    conn = _unguarded(project)
    conn.execute("UPDATE events SET stage = CAST(stage AS BLOB) WHERE seq = ?", [signed + 1])
    conn.commit()
    result = project("verify", expect=1)
    assert f"evidence chain broken at event {signed + 1}: event {signed + 1} was changed" in result.output
    assert "Traceback" not in result.output


def test_the_walk_reads_the_cursor_rows_as_stored(project: Project):
    """One JSON text for the shared columns, the hash as 32 bytes, prev_hash empty where derived."""
    _signed(project)
    store = project.store()
    seq, shared, *_, prev_hash, digest = next(iter(store.event_links(1)))
    assert seq == 2 and json.loads(shared)[2] == store.events()[1].kind
    assert prev_hash == b"" and isinstance(digest, bytes) and len(digest) == 32
    store.close()
