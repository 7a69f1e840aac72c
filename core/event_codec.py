"""How an event is kept in the events table, and read back to the exact form its hash covers.

The hash chain covers a canonical form (``dunning.evidence``): the hashed
fields as JSON text, hashes as 64 hex digits. What the table keeps may be
smaller, as long as reading it back gives that form byte for byte, so
``dunning verify`` recomputes the very same hashes. Since migration
m023_archive a new row keeps:

- ``data`` with what other columns already say, and the keys events use
  most, each replaced by one control character. Canonical JSON never holds
  a raw control character (the encoder escapes them in strings), so each
  one stands for its text alone and putting the text back is exact. The
  row's case, step and channel spell the start of an action's key
  ("35:notify-manager:notice:"), which most events quote once or twice;
- ``hash`` as a 32-byte BLOB instead of 64 hex digits;
- ``prev_hash`` as an empty BLOB (no bytes; the column is NOT NULL): it is
  the hash of the event before (seq - 1), which the table holds already;
  readers fill it in (``decode_prev_hash``, ``PREV_HASH_SQL``).

Rows written before keep their TEXT columns (SQLite keeps each value's own
type); each decoder here takes either, and decoding an old ``data`` text
changes nothing, as it holds none of the control characters. Pure
functions, no database.
"""

from __future__ import annotations

import json
from typing import Any

GENESIS = "0" * 64

# The texts each control character stands for, in the order they are put in.
# NEVER change or reorder these: rows written with them are read with them
# forever. A later format is a BLOB, or new characters (\x10 onwards are free).
_ROW_KEY = "\x01"  # f"{case_id}:{step}:{channel}:" - the start of the action's key
_STEP = "\x02"  # the step's name on its own (a template named after its step)
_FIXED = (
    ('{"action":"outreach",', "\x03"),
    ('"key":"', "\x04"),
    ('","reference":"', "\x05"),
    ('","template":"', "\x06"),
    ('"reason":"policy', "\x07"),
    ('"detail":"step \'', "\x08"),
    ('\' requires approval"', "\x0b"),
    ('"currency":"', "\x0c"),
    ('"balance":', "\x0e"),
    ('"overdue":', "\x0f"),
)


def _row_texts(case_id: Any, step: Any, channel: Any) -> tuple[str, str]:
    """The row's own texts that ``data`` may repeat; empty where there is none to replace safely."""
    row_key = f"{case_id}:{step}:{channel}:"
    step_text = step if isinstance(step, str) and step.isprintable() else ""
    return (row_key if row_key.isprintable() else ""), step_text


def encode_data(text: str, case_id: Any, step: Any, channel: Any) -> str:
    """What the ``data`` column keeps for the canonical JSON ``text`` of an event of this case, step and channel."""
    row_key, step_text = _row_texts(case_id, step, channel)
    if row_key:
        text = text.replace(row_key, _ROW_KEY)
    if step_text:
        text = text.replace(step_text, _STEP)
    for long, short in _FIXED:
        text = text.replace(long, short)
    return text


def decode_data(stored: str, case_id: Any, step: Any, channel: Any) -> str:
    """The canonical JSON text of a ``data`` column, written before m023 or since."""
    if stored.isprintable():
        return stored  # nothing was replaced (and rows written before m023 are the text itself)
    for long, short in reversed(_FIXED):
        stored = stored.replace(short, long)
    row_key, step_text = _row_texts(case_id, step, channel)
    if step_text:
        stored = stored.replace(_STEP, step_text)
    return stored.replace(_ROW_KEY, row_key) if row_key else stored


# The kind of an event's stub once ``dunning archive`` moved the event to an archive file: seq, hash
# and prev_hash kept, data emptied (dunning.store.archive).
ARCHIVED = "archived"


def is_stub(kind: Any, stored_data: Any) -> bool:
    return kind == ARCHIVED and stored_data == ""


def data_of(kind: Any, stored: str, case_id: Any, step: Any, channel: Any) -> dict[str, Any]:
    """An event's data as a dict (empty for a stub)."""
    if is_stub(kind, stored):
        return {}
    data: dict[str, Any] = json.loads(decode_data(stored, case_id, step, channel))
    return data


def encode_hash(digest: str) -> bytes:
    return bytes.fromhex(digest)


def decode_hash(stored: str | bytes | None) -> str | None:
    """64 hex digits, from a TEXT (before m023) or 32-byte BLOB column."""
    if stored is None or isinstance(stored, str):
        return stored
    return stored.hex()


def decode_prev_hash(stored: str | bytes | None, hash_before: str | None) -> str:
    """An event's ``prev_hash``: as stored, else (empty) the hash of the event before it, else the genesis."""
    if stored:
        return decode_hash(stored) or GENESIS
    return hash_before or GENESIS


# SQL for a reader that wants the text forms straight from a query: the
# stored hash as hex, and prev_hash filled in from the event before.
# ``{t}`` is the events table's name or alias in the query.
HASH_SQL = "CASE WHEN typeof({t}.hash) = 'blob' THEN lower(hex({t}.hash)) ELSE {t}.hash END"
PREV_HASH_SQL = (
    "coalesce(nullif({t}.prev_hash, x''), "
    "(SELECT CASE WHEN typeof(p.hash) = 'blob' THEN lower(hex(p.hash)) ELSE p.hash END "
    "FROM events p WHERE p.seq = {t}.seq - 1), '" + GENESIS + "')"
)


def stored_row(seq: int, at: str, recorded_at: str, case_id: Any, kind: str, stage: Any, dpd: Any, channel: Any,
               step: Any, action_id: Any, data_text: str, digest: str) -> tuple[Any, ...]:
    """The events table's row (columns in table order) for an event in its canonical text form."""
    return (seq, at, recorded_at, case_id, kind, stage, dpd, channel, step, action_id,
            encode_data(data_text, case_id, step, channel), _DERIVED, encode_hash(digest))


_DERIVED = b""  # a stored prev_hash that is the hash of the event before
