"""Walking the evidence chain fast: from its start (``--full``) or from a signed checkpoint.

``evidence.verify_chain`` decodes every event's ``data`` and encodes it
again to hash it. The store keeps ``data`` as exactly that canonical text
(``evidence.canonical_text``; the few kept shorter, marked by leading
whitespace, are read back to it first: ``event_codec.decode_data``), so the
walk splices the stored text into the hashed body as it is, fills the other fields into a template shared by the
events of a batch (moments, kind, stage, channel, step), and hashes. Only
when that digest differs is the slow, exact recomputation done; an event is
reported changed only if that one differs too. So the walk accepts exactly
what ``verify_chain`` accepts, at a fraction of the cost.

The rows come straight from the database cursor (``Store.event_links``),
with no object per event: the six text columns most events of a batch
share arrive as one JSON array (``json_array`` in SQLite: cheaper than six
strings, and the template is rebuilt only when that text changes), and
the stored hash is compared as the 32 bytes it is kept as (or as hex text
in rows written before migration m023). SQLite's ``json_array`` refuses a
BLOB: a text column holding one (the engine never writes one) makes the
query fail, and ``dunning verify`` then walks the whole log the exact way.

The integer columns (``case_id``, ``dpd``, ``action_id``) go into the body
through ``repr``: for a whole number that is its JSON, while anything else
the column might hold (text that is no number, such as ``'null'``, a real,
a blob) reads differently from any JSON number, so its fast digest differs
and the exact recomputation decides. No separate scan for loosely typed
values is needed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import Any

from dunning.event_codec import ARCHIVED, STORED_MARKS, decode_data, decode_hash
from dunning.evidence import _BODY, GENESIS, ChainReport, _json_scalar, chain_hash

# The order of the columns in each row the walk reads (the store's ``event_links``): ``shared`` is the JSON
# array of the fields most events of a batch share (``SHARED_FIELDS``), one string for the six columns.
LINK_COLUMNS = ("seq", "shared", "case_id", "dpd", "action_id", "data", "prev_hash", "hash")
SHARED_FIELDS = ("at", "recorded_at", "kind", "stage", "channel", "step")


def exact_hash(prev_hash: str, row: Sequence[Any]) -> str | None:
    """The digest ``verify_chain`` computes for ``row`` (None when its data is not JSON at all)."""
    fields = dict(zip(LINK_COLUMNS, row, strict=True))
    fields.update(zip(SHARED_FIELDS, json.loads(fields.pop("shared")), strict=True))
    try:
        fields["data"] = json.loads(fields["data"])
    except (TypeError, ValueError, RecursionError):
        return None
    return chain_hash(prev_hash, fields)


class _Null:
    """NULL in an integer slot: ``repr`` gives its JSON."""

    def __repr__(self) -> str:
        return "null"


NULL = _Null()


def walk_template(shared: tuple[Any, ...]) -> str:
    """The hashed body with the shared fields (``SHARED_FIELDS``) filled in.

    Slots, in order: action_id, case_id (``%r``), data (``%s``), dpd (``%r``), seq (``%s``).
    """
    at_text, recorded_text, kind, stage, channel, step = shared

    def literal(json_text: str) -> str:
        return json_text.replace("%", "%%")

    return _BODY % (
        "%r",  # action_id
        literal(_json_scalar(at_text)),
        "%r",  # case_id
        literal(_json_scalar(channel)),
        "%s",  # data: the stored canonical text
        "%r",  # dpd
        literal(_json_scalar(kind)),
        literal(_json_scalar(recorded_text)),
        "%s",  # seq: the INTEGER PRIMARY KEY, always a whole number
        literal(_json_scalar(stage)),
        literal(_json_scalar(step)),
    )


def walk(rows: Iterable[Sequence[Any]], *, start_seq: int = 0, start_hash: str = GENESIS) -> ChainReport:
    """Check each link of ``rows`` (in ``seq`` order, columns as ``LINK_COLUMNS``) after ``start_seq``.

    ``hash`` may be stored as 32 bytes or 64 hex digits, ``prev_hash`` as
    either or empty (derived from the event before, ``dunning.event_codec``).
    From the start of the log (``start_seq`` 0) the first event may carry
    any number, as ``verify_chain`` allows; after a checkpoint the next
    event must be ``start_seq + 1``.
    """
    prev = start_hash
    expected: int | None = start_seq + 1 if start_seq else None
    checked = 0
    sha256 = hashlib.sha256
    null = NULL
    # Events come in runs sharing these fields: the template changes when the (JSON) key does.
    last_shared: str | None = None
    template = ""
    for row in rows:
        seq, shared, case_id, dpd, action_id, data, prev_hash, digest = row
        if seq != expected and expected is not None:
            return ChainReport(checked, seq, f"event {expected} is missing (next is {seq})")
        if prev_hash and decode_hash(prev_hash) != prev:  # empty: derived from the event before (event_codec)
            return ChainReport(checked, seq, f"event {seq} does not link to the event before it")
        if shared != last_shared:
            values = tuple(json.loads(shared))
            if values[2] == ARCHIVED and data == "":
                # A stub left by `dunning archive`: no data to hash; the next event's hash covers its
                # hash, and `dunning verify --archive` checks the archived event against it.
                prev = decode_hash(digest) or GENESIS
                expected = seq + 1
                checked += 1
                last_shared = None  # never reused: the next `archived` event may be no stub
                continue
            template = "%s" + walk_template(values)
            last_shared = shared if values[2] != ARCHIVED else None
        if data and data[0] in STORED_MARKS:  # kept shorter than the text the hash covers (m035)
            data = decode_data(data, case_id, values[5], values[4])
            row = (seq, shared, case_id, dpd, action_id, data, prev_hash, digest)
        fast = sha256((template % (prev, null if action_id is None else action_id,
                                   null if case_id is None else case_id, data,
                                   null if dpd is None else dpd, seq)).encode()).digest()
        if fast != digest:
            # A row written before m023 (hex text), or a body the fast form does not reproduce.
            stored = decode_hash(digest)
            if stored is None or (fast.hex() != stored and exact_hash(prev, row) != stored):
                return ChainReport(checked, seq, f"event {seq} was changed after it was written")
            prev = stored
        else:
            prev = digest.hex()
        expected = seq + 1
        checked += 1
    return ChainReport(checked)
