"""How an event is kept in the events table, and read back to the exact form its hash covers.

The hash chain covers a canonical form (``dunning.evidence``): the hashed
fields as JSON text, hashes as 64 hex digits. What the table keeps may be
smaller, as long as reading it back gives that form byte for byte, so
``dunning verify`` recomputes the very same hashes. Since migration
m023_archive a new row keeps:

- ``data`` as the canonical JSON text itself, so that SQL reads it as JSON
  (``json_extract`` in the reports, Datasette's canned queries, an auditor
  with the sqlite3 shell): a denser code for it would save about 60 bytes an
  event and lose that. Since m035 one member is left out where it only
  repeats another: a sent event's ``reference`` when the provider gave back
  the action's own ``key`` (about 50 bytes a sent event). The text then
  starts with a space, which JSON allows and canonical text never has, so
  the stored text is still JSON to every reader (``$.key``, ``$.template``
  and the rest read as before; ``$.reference`` is absent) and reads back to
  the canonical text byte for byte;
- ``hash`` as a 32-byte BLOB instead of 64 hex digits;
- ``prev_hash`` as an empty BLOB (no bytes; the column is NOT NULL): it is
  the hash of the event before (seq - 1), which the table holds already;
  readers fill it in (``decode_prev_hash``, ``PREV_HASH_SQL``).

Rows written before keep their TEXT columns (SQLite keeps each value's own
type); each decoder here takes either. Pure functions, no database.
"""

from __future__ import annotations

import json
from typing import Any

from dunning.evidence import canonical_text

GENESIS = "0" * 64


# The marks a stored ``data`` text may start with, one per member left out because it repeats another.
_REFERENCE_IS_KEY = " "
_MARKS = STORED_MARKS = _REFERENCE_IS_KEY


def encode_data(text: str, case_id: Any, step: Any, channel: Any) -> str:
    """What the ``data`` column keeps for the canonical JSON ``text`` of an event (see the module's note).

    The text itself, but for an event whose ``reference`` is its ``key``: that
    member is left out and marked. Kept only when it reads back to ``text``
    exactly.
    """
    if '"reference":' not in text:
        return text
    data = json.loads(text)
    if not isinstance(data, dict):
        return text
    marks = ""
    reference = data.get("reference")
    if isinstance(reference, str) and reference == data.get("key"):
        del data["reference"]
        marks += _REFERENCE_IS_KEY
    if not marks:
        return text
    stored = marks + canonical_text(data)
    return stored if decode_data(stored, case_id, step, channel) == text else text


def decode_data(stored: str, case_id: Any, step: Any, channel: Any) -> str:
    """The canonical JSON text of a ``data`` column."""
    if not stored or stored[0] not in _MARKS:
        return stored
    body = stored.lstrip(_MARKS)
    marks = stored[:len(stored) - len(body)]
    data = json.loads(body)
    if _REFERENCE_IS_KEY in marks:
        data["reference"] = data.get("key")
    return canonical_text(data)


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
# The same on PostgreSQL, where both columns are BYTEA (no TEXT rows from before m023 there).
HASH_SQL_POSTGRES = "encode({t}.hash, 'hex')"
PREV_HASH_SQL_POSTGRES = (
    "coalesce(nullif(encode({t}.prev_hash, 'hex'), ''), "
    "(SELECT encode(p.hash, 'hex') FROM events p WHERE p.seq = {t}.seq - 1), '" + GENESIS + "')"
)


def hash_sql(t: str, dialect: str) -> str:
    """``HASH_SQL`` for the events table or alias ``t``, in the database's own words."""
    return (HASH_SQL_POSTGRES if dialect == "postgresql" else HASH_SQL).format(t=t)


def prev_hash_sql(t: str, dialect: str) -> str:
    """``PREV_HASH_SQL`` for the events table or alias ``t``, in the database's own words."""
    return (PREV_HASH_SQL_POSTGRES if dialect == "postgresql" else PREV_HASH_SQL).format(t=t)


def stored_row(seq: int, at: str, recorded_at: str, case_id: Any, kind: str, stage: Any, dpd: Any, channel: Any,
               step: Any, action_id: Any, data_text: str, digest: str) -> tuple[Any, ...]:
    """The events table's row (columns in table order) for an event in its canonical text form."""
    return (seq, at, recorded_at, case_id, kind, stage, dpd, channel, step, action_id,
            encode_data(data_text, case_id, step, channel), _DERIVED, encode_hash(digest))


_DERIVED = b""  # a stored prev_hash that is the hash of the event before
