"""How an event is kept in the events table, and read back to the exact form its hash covers.

The hash chain covers a canonical form (``dunning.evidence``): the hashed
fields as JSON text, hashes as 64 hex digits. What the table keeps may be
smaller, as long as reading it back gives that form byte for byte, so
``dunning verify`` recomputes the very same hashes. Since migration
m023_archive a new row keeps:

- ``data`` as the canonical JSON text itself, so that SQL reads it as JSON
  (``json_extract`` in the reports, Datasette's canned queries, an auditor
  with the sqlite3 shell): a denser code for it would save about 60 bytes an
  event and lose that;
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

GENESIS = "0" * 64


def encode_data(text: str, case_id: Any, step: Any, channel: Any) -> str:
    """What the ``data`` column keeps for the canonical JSON ``text`` of an event: the text itself.

    The row's case, step and channel are taken so that a denser form could be
    read back with them; today none is used, and ``data`` stays plain JSON.
    """
    return text


def decode_data(stored: str, case_id: Any, step: Any, channel: Any) -> str:
    """The canonical JSON text of a ``data`` column."""
    return stored


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
# The same on PostgreSQL, whose hash columns are BYTEA from the start (dunning.store.postgres_schema).
HASH_SQL_POSTGRES = "encode({t}.hash, 'hex')"
PREV_HASH_SQL_POSTGRES = (
    "coalesce(encode(nullif({t}.prev_hash, ''::bytea), 'hex'), "
    "(SELECT encode(p.hash, 'hex') FROM events p WHERE p.seq = {t}.seq - 1), '" + GENESIS + "')"
)


def hash_columns_sql(dialect: str, table: str) -> str:
    """``prev_hash, hash`` as text (``PREV_HASH_SQL``, ``HASH_SQL``) for the database ``dialect`` names."""
    if dialect == "postgresql":
        return f"{PREV_HASH_SQL_POSTGRES.format(t=table)}, {HASH_SQL_POSTGRES.format(t=table)}"
    return f"{PREV_HASH_SQL.format(t=table)}, {HASH_SQL.format(t=table)}"


def stored_row(seq: int, at: str, recorded_at: str, case_id: Any, kind: str, stage: Any, dpd: Any, channel: Any,
               step: Any, action_id: Any, data_text: str, digest: str) -> tuple[Any, ...]:
    """The events table's row (columns in table order) for an event in its canonical text form."""
    return (seq, at, recorded_at, case_id, kind, stage, dpd, channel, step, action_id,
            encode_data(data_text, case_id, step, channel), _DERIVED, encode_hash(digest))


_DERIVED = b""  # a stored prev_hash that is the hash of the event before
