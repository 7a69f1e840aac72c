"""The archive's checks as pure functions: stubs the runs account for, archived events against their stubs."""

from __future__ import annotations

from pathlib import Path

import pytest

from dunning import archive, evidence


def _event(seq: int, prev: str, **fields: object) -> dict[str, object]:
    row: dict[str, object] = {"seq": seq, "at": "2026-03-01T09:00:00Z", "recorded_at": "2026-03-01T09:00:00Z",
                              "case_id": 7, "kind": "payment", "stage": "internal", "dpd": 3, "channel": None,
                              "step": None, "action_id": None, "data": {"amount": 100}, **fields}
    row["prev_hash"], row["hash"] = prev, evidence.chain_hash(prev, row)
    return row


def test_a_stub_of_a_case_never_archived_is_named():
    stubs = {4: (7, "a" * 64, "b" * 64), 9: (8, "c" * 64, "d" * 64)}
    assert archive.stub_problems(stubs, {7}) == ["event 9 was emptied into a stub, but case 8 was never archived"]
    assert archive.stub_problems(stubs, {7, 8}) == []


def test_archived_events_are_checked_against_their_hash_and_their_stub():
    first = _event(4, "a" * 64)
    second = _event(6, "e" * 64, dpd=5)
    stubs = {4: (7, first["prev_hash"], first["hash"]), 6: (7, second["prev_hash"], second["hash"])}
    assert archive.archive_problems([first, second], stubs) == (2, [])
    changed = dict(first, dpd=9)
    assert archive.archive_problems([changed], stubs)[1] == ["event 4 was changed after it was archived"]
    rehashed = _event(4, "a" * 64, dpd=9)
    assert archive.archive_problems([rehashed], stubs)[1] == [
        "event 4 is not the event the main chain holds (another hash)"]
    assert archive.archive_problems([_event(5, "a" * 64)], stubs)[1] == ["event 5 has no stub in the main chain"]


def test_the_default_archive_sits_beside_the_database_and_the_date_is_checked():
    assert archive.default_archive(Path("/srv/d/dunning.db")) == Path("/srv/d/dunning.archive.db")
    assert archive.parse_day("2026-03-20").isoformat() == "2026-03-20"
    with pytest.raises(ValueError, match="not a date"):
        archive.parse_day("yesterday")
