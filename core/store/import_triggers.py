"""The triggers a large import may set aside for its own rows, and put back before its transaction ends.

SQLite runs every row trigger of a table as a small program of its own for
each row inserted, even when its ``WHEN`` clause is false: measured here,
the two ``AFTER INSERT`` triggers on ``events`` (the report rollups of
migrations m026 and m027) cost an import about 4 µs per event, and the
zone trigger on ``contacts`` (m021) about 2 µs per contact, each doing
nothing for an import's rows. So an import drops them inside its write
transaction and creates them again, from their own stored text, before the
transaction ends: DDL is transactional in SQLite, so a rollback restores
them with everything else, and no other connection ever sees the schema
without them (the write lock is held throughout).

A trigger is set aside only where that changes nothing, by construction:

- on ``events``, a trigger whose ``WHEN`` clause is ``NEW.kind IN (...)``
  (with at most ``AND`` further conditions, never ``OR``) over kinds an
  import never writes (``case_opened``, ``obligation_added``): it would do
  nothing for any of the import's events;
- on ``contacts``, only m021's ``contacts_added_zone`` with exactly the text
  that migration wrote: its work (clearing a stored debtor's zone when a
  phone number is added) is done by the import itself
  (``zone_cleared_by_new_phones``), for the debtors the store already knew.

Any other trigger, or one whose text a later migration changed, stays in
place and runs as before (correct, only slower).
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
from collections.abc import Iterator

# The kinds of event an import writes (``ObligationImport._write_chunk``).
IMPORT_EVENT_KINDS = frozenset({"case_opened", "obligation_added"})

# m021's trigger, as SQLite stores its text.
CONTACTS_ZONE_TRIGGER = "contacts_added_zone"
CONTACTS_ZONE_SQL = (
    "CREATE TRIGGER contacts_added_zone AFTER INSERT ON contacts WHEN NEW.kind IN ('mobile', 'work', 'home') "
    "BEGIN UPDATE debtors SET zone = NULL WHERE id = NEW.debtor_id AND zone IS NOT NULL; END"
)
PHONE_KINDS = ("mobile", "work", "home")

# ``WHEN NEW.kind IN ('a', 'b') BEGIN`` or ``WHEN NEW.kind IN ('a', 'b') AND <more> BEGIN``.
_KIND_GUARD = re.compile(
    r"\bINSERT\s+ON\s+\"?events\"?\s+(?:FOR\s+EACH\s+ROW\s+)?WHEN\s+NEW\.kind\s+IN\s*\(((?:\s*'[^']*'\s*,?)+)\)"
    r"(\s+AND\s+.*?)?\s+BEGIN\b",
    re.IGNORECASE | re.DOTALL,
)


def idle_for_import(sql: str) -> bool:
    """Whether the ``events`` trigger ``sql`` does nothing for every event an import writes."""
    found = _KIND_GUARD.search(sql)
    if found is None:
        return False
    more = found.group(2) or ""
    # ``A AND B OR C`` is ``(A AND B) OR C``: any OR before BEGIN and the guard no longer decides alone.
    if re.search(r"\bOR\b", more, re.IGNORECASE):
        return False
    kinds = set(re.findall(r"'([^']*)'", found.group(1)))
    return not kinds & IMPORT_EVENT_KINDS


def triggers_to_set_aside(conn: sqlite3.Connection) -> dict[str, str]:
    """The triggers an import may drop for its rows (name -> the text that creates it again)."""
    found: dict[str, str] = {}
    for name, table, sql in conn.execute(
            "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ('events', "
            "'contacts') ORDER BY rowid"):
        if (table == "events" and idle_for_import(sql)) or (table == "contacts" and sql == CONTACTS_ZONE_SQL):
            found[name] = sql
    return found


@contextlib.contextmanager
def set_aside(conn: sqlite3.Connection) -> Iterator[frozenset[str]]:
    """Inside a write transaction: the triggers above dropped while the block runs; yields their names.

    They are created again when the block ends without an error; after an
    error the caller's rollback restores them (the DDL is undone with the
    rest of the transaction).
    """
    assert conn.in_transaction, "triggers are set aside only inside the import's transaction"
    aside = triggers_to_set_aside(conn)
    for name in aside:
        conn.execute(f'DROP TRIGGER "{name}"')
    yield frozenset(aside)
    for sql in aside.values():
        conn.execute(sql)


def zone_cleared_by_new_phones(conn: sqlite3.Connection, contacts: list[tuple[str, str, str, str]]) -> None:
    """What ``contacts_added_zone`` does, for ``contacts`` (debtor_id, kind, value, role) about to be inserted
    with ``INSERT OR IGNORE``: the zone of each debtor getting a phone number it did not have is cleared (the
    trigger fires for a row the insert keeps, that is, one not already there)."""
    conn.executemany(
        "UPDATE debtors SET zone = NULL WHERE id = ?1 AND zone IS NOT NULL AND NOT EXISTS (SELECT 1 FROM contacts "
        "WHERE debtor_id = ?1 AND kind = ?2 AND value = ?3 AND role = ?4)",
        [c for c in contacts if c[1] in PHONE_KINDS])
