"""The evidence log's hash chain: each event carries the hash of the one before.

Pure functions; the store calls ``chain_hash`` when it appends and
``verify_chain`` walks what it reads back.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from dunning.calendar import to_text
from dunning.models import Event

GENESIS = "0" * 64
HASHED_FIELDS = ("seq", "at", "recorded_at", "case_id", "kind", "stage", "dpd", "channel", "step", "action_id", "data")


def event_fields(event: Event, seq: int | None = None) -> dict[str, Any]:
    """The fields of an event that its hash covers, as they are stored and shown."""
    return {
        "seq": event.seq if seq is None else seq,
        "at": to_text(event.at),
        "recorded_at": to_text(event.recorded_at) if event.recorded_at else None,
        "case_id": event.case_id,
        "kind": event.kind,
        "stage": event.stage,
        "dpd": event.dpd,
        "channel": event.channel,
        "step": event.step,
        "action_id": event.action_id,
        "data": dict(event.data),
    }


def canonical(fields: Mapping[str, Any]) -> bytes:
    """The bytes that are hashed: sorted keys, no spaces, UTF-8."""
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def chain_hash(prev_hash: str, fields: Mapping[str, Any]) -> str:
    body = {name: fields.get(name) for name in HASHED_FIELDS}
    return hashlib.sha256(prev_hash.encode() + canonical(body)).hexdigest()


@attrs.frozen
class ChainReport:
    checked: int
    broken_at: int | None = None  # seq of the first event whose link does not hold
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify_chain(rows: Iterable[Mapping[str, Any]]) -> ChainReport:
    """Walk events in ``seq`` order; report the first broken link.

    ``rows`` carry the hashed fields with ``data`` already decoded, plus
    ``prev_hash`` and ``hash``.
    """
    prev = GENESIS
    expected_seq: int | None = None
    checked = 0
    for row in rows:
        seq = row["seq"]
        if expected_seq is not None and seq != expected_seq:
            return ChainReport(checked, seq, f"event {expected_seq} is missing (next is {seq})")
        if row["prev_hash"] != prev:
            return ChainReport(checked, seq, f"event {seq} does not link to the event before it")
        if chain_hash(prev, row) != row["hash"]:
            return ChainReport(checked, seq, f"event {seq} was changed after it was written")
        prev = row["hash"]
        expected_seq = seq + 1
        checked += 1
    return ChainReport(checked)
