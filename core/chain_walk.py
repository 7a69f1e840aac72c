"""Walking the evidence chain fast: from its start (``--full``) or from a signed checkpoint.

``evidence.verify_chain`` decodes every event's ``data`` and encodes it
again to hash it. The store keeps ``data`` as exactly that canonical text
(``evidence.canonical_text``), so the walk splices the stored text into the
hashed body as it is, fills the other fields into a template shared by the
events of a batch (moments, kind, stage, channel, step), and hashes. Only
when that digest differs is the slow, exact recomputation done; an event is
reported changed only if that one differs too. So the walk accepts exactly
what ``verify_chain`` accepts, at a fraction of the cost.

The integer columns (``case_id``, ``dpd``, ``action_id``) are written into
the body as they are: a value stored as text ``'5'`` in place of the number
5 would slip through, so the store names the first event whose integer
columns hold anything but a whole number or NULL (``suspect``), and that
event alone is checked the exact way.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import Any

from dunning.event_codec import ARCHIVED
from dunning.evidence import GENESIS, ChainReport, _template, chain_hash

# The order of the columns in each row the walk reads (the store's ``event_links``).
LINK_COLUMNS = ("seq", "at", "recorded_at", "case_id", "kind", "stage", "dpd", "channel", "step", "action_id",
                "data", "prev_hash", "hash")


def exact_hash(prev_hash: str, row: Sequence[Any]) -> str | None:
    """The digest ``verify_chain`` computes for ``row`` (None when its data is not JSON at all)."""
    fields = dict(zip(LINK_COLUMNS, row, strict=True))
    try:
        fields["data"] = json.loads(fields["data"])
    except (TypeError, ValueError, RecursionError):
        return None
    return chain_hash(prev_hash, fields)


def walk(rows: Iterable[Sequence[Any]], *, start_seq: int = 0, start_hash: str = GENESIS,
         suspect: int | None = None) -> ChainReport:
    """Check each link of ``rows`` (in ``seq`` order, columns as ``LINK_COLUMNS``) after ``start_seq``.

    From the start of the log (``start_seq`` 0) the first event may carry
    any number, as ``verify_chain`` allows; after a checkpoint the next
    event must be ``start_seq + 1``. ``suspect`` is an event to check the
    exact way whatever its fast digest says.
    """
    prev = start_hash
    expected: int | None = start_seq + 1 if start_seq else None
    checked = 0
    templates: dict[tuple[Any, ...], str] = {}
    sha256 = hashlib.sha256
    for row in rows:
        seq, at, recorded, case_id, kind, stage, dpd, channel, step, action_id, data, prev_hash, digest = row
        if expected is not None and seq != expected:
            return ChainReport(checked, seq, f"event {expected} is missing (next is {seq})")
        if prev_hash is not None and prev_hash != prev:  # None: derived from the event before (event_codec)
            return ChainReport(checked, seq, f"event {seq} does not link to the event before it")
        if kind == ARCHIVED and data == "":
            # A stub left by `dunning archive`: no data to hash; the next event's hash covers its
            # hash, and `dunning verify --archive` checks the archived event against it.
            prev = digest
            expected = seq + 1
            checked += 1
            continue
        shared = (at, recorded, kind, stage, channel, step)
        template = templates.get(shared)
        if template is None:
            template = _template(shared)
            # Only str or None values are kept: 1 and 1.0 are equal keys yet encode differently.
            if all(value is None or type(value) is str for value in shared):
                if len(templates) >= 4096:
                    templates.clear()  # bounded: a log holds a handful of combinations per moment
                templates[shared] = template
        body = template % ("null" if action_id is None else action_id, "null" if case_id is None else case_id,
                           data, "null" if dpd is None else dpd, seq)
        fast_differs = sha256((prev + body).encode()).hexdigest() != digest
        if (fast_differs or seq == suspect) and exact_hash(prev, row) != digest:
            return ChainReport(checked, seq, f"event {seq} was changed after it was written")
        prev = digest
        expected = seq + 1
        checked += 1
    return ChainReport(checked)
