"""The evidence log's hash chain: each event carries the hash of the one before.

Pure functions; the store calls ``link_hash`` (the same digest as
``chain_hash``, built without the intermediate dict) when it appends and
``verify_chain`` walks what it reads back.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from dunning.calendar import to_text
from dunning.models import Event


def _first_sha256(data: bytes) -> Any:
    """``hashlib.sha256`` on the first hash, which from then on is called directly: hashlib loads OpenSSL, some
    milliseconds that a command opening the store without writing or checking an event (``cases show``) need not
    pay."""
    global _sha256
    import hashlib

    _sha256 = hashlib.sha256
    return hashlib.sha256(data)


_sha256: Callable[[bytes], Any] = _first_sha256

GENESIS = "0" * 64
HASHED_FIELDS = ("seq", "at", "recorded_at", "case_id", "kind", "stage", "dpd", "channel", "step", "action_id", "data")

# One encoder for every canonical encoding: ``json.dumps`` with these
# options builds a fresh JSONEncoder on each call, which costs more than
# encoding a small event. ``encode`` keeps no state, so sharing it is safe.
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
# What that encoder does to a str (with ensure_ascii=False): quote and escape.
_encode_str = json.encoder.encode_basestring
# ``JSONEncoder.encode`` still sets up a C encoder on every call; appending
# a million events keeps one per thread instead (its cycle check uses a
# dict, so threads do not share one). Same options, same output.
_c_make_encoder = getattr(json.encoder, "c_make_encoder", None)
_per_thread = threading.local()


def _encode(value: Any) -> str:
    """``_ENCODER.encode(value)``."""
    if _c_make_encoder is None:
        return _ENCODER.encode(value)
    encoder = getattr(_per_thread, "encoder", None)
    if encoder is None:
        encoder = _per_thread.encoder = _c_make_encoder(
            {}, _ENCODER.default, _encode_str, None, ":", ",", True, False, True)
    return "".join(encoder(value, 0))


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


def canonical_text(value: Any) -> str:
    """``canonical(value)`` as text: what the store keeps in an event's ``data`` column."""
    return _encode(value)


def canonical(fields: Mapping[str, Any]) -> bytes:
    """The bytes that are hashed: sorted keys, no spaces, UTF-8."""
    return _encode(fields).encode()


def chain_hash(prev_hash: str, fields: Mapping[str, Any]) -> str:
    body = {name: fields.get(name) for name in HASHED_FIELDS}
    return _sha256(prev_hash.encode() + canonical(body)).hexdigest()


# ``canonical`` of the hashed fields spelled out: the keys in sorted order,
# each followed by its value's JSON. ``link_hash`` fills it in directly, so
# appending an event neither builds the fields' dict nor encodes ``data``
# twice (once for the hash, once for the column): the column's text is
# spliced in, and it is exactly what the encoder writes for a nested dict.
_SORTED_FIELDS = ("action_id", "at", "case_id", "channel", "data", "dpd", "kind", "recorded_at", "seq", "stage", "step")
assert tuple(sorted(HASHED_FIELDS)) == _SORTED_FIELDS, "link_hash must list the hashed fields in sorted order"
_BODY = "{" + ",".join(f'"{name}":%s' for name in _SORTED_FIELDS) + "}"


def _json_scalar(value: Any) -> str:
    """The encoder's output for one field value, fast for the types events hold."""
    if value is None:
        return "null"
    kind = type(value)
    if kind is str:
        return _encode_str(value)
    if kind is int:
        return int.__repr__(value)
    return _ENCODER.encode(value)  # bool, float, an enum...: exactly as the encoder writes it


json_scalar = _json_scalar  # for bodies spelled out elsewhere (an import's events, dunning.store.import_events)


def body_template(at_text: str, recorded_text: str | None, kind: str, stage: str | None, channel: str | None,
                  step: str | None) -> str:
    """The body ``link_hash`` hashes, with %s slots for action_id, case_id, data, dpd and seq (in that order),
    each to be filled with its value's JSON."""
    shared = (at_text, recorded_text, kind, stage, channel, step)
    template = _TEMPLATES.get(shared)
    return _template(shared) if template is None else template


def link_hash(prev_hash: str, seq: int, event: Event, at_text: str, recorded_text: str | None, data_text: str) -> str:
    """``chain_hash(prev_hash, event_fields(event, seq))``, with the text forms already at hand.

    ``at_text`` is ``to_text(event.at)``, ``recorded_text`` that of the
    moment the event is recorded (None if it has none), and ``data_text``
    is ``canonical_text(dict(event.data))``. The digest is the same; the
    tests compare the two on awkward values.
    """
    shared = (at_text, recorded_text, event.kind, event.stage, event.channel, event.step)
    template = _TEMPLATES.get(shared)
    if template is None:
        template = _template(shared)
    body = template % (_json_scalar(event.action_id), _json_scalar(event.case_id), data_text,
                       _json_scalar(event.dpd), _json_scalar(seq))
    return _sha256((prev_hash + body).encode()).hexdigest()


# The body with the fields most events of a batch share (moments, kind,
# stage, channel, step) filled in, and slots for action_id, case_id, data,
# dpd and seq. Only str or None values are cached: no other value is equal
# to one of those yet encoded differently (as 1, True and 1.0 are).
_TEMPLATES: dict[tuple[Any, ...], str] = {}


def _template(shared: tuple[Any, ...]) -> str:
    at_text, recorded_text, kind, stage, channel, step = shared
    def literal(text: str) -> str:
        return text.replace("%", "%%")

    slot = "%s"
    template = _BODY % (
        slot,  # action_id
        literal(_encode_str(at_text)),
        slot,  # case_id
        literal(_json_scalar(channel)),
        slot,  # data
        slot,  # dpd
        literal(_json_scalar(kind)),
        "null" if recorded_text is None else literal(_encode_str(recorded_text)),
        slot,  # seq
        literal(_json_scalar(stage)),
        literal(_json_scalar(step)),
    )
    if all(value is None or isinstance(value, str) for value in shared):
        if len(_TEMPLATES) >= 1024:
            _TEMPLATES.clear()  # bounded: a run meets a handful of combinations
        _TEMPLATES[shared] = template
    return template


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
        # A stub left by `dunning archive` has no data to hash: the next event's hash covers its
        # hash, and `dunning verify --archive` checks the archived event against it.
        if not row.get("archived") and chain_hash(prev, row) != row["hash"]:
            return ChainReport(checked, seq, f"event {seq} was changed after it was written")
        prev = row["hash"]
        expected_seq = seq + 1
        checked += 1
    return ChainReport(checked)
