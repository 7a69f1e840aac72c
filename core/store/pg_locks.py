"""The locks that make several dispatch workers on one PostgreSQL database as safe as one runner on SQLite.

On SQLite every write transaction is ``BEGIN IMMEDIATE``: one writer at a
time, so a runner that reads the chain's head, or a debtor's recent contact
attempts, inside its transaction knows nobody adds to them before it
commits. PostgreSQL lets transactions write side by side, so the few places
that rely on that get a PostgreSQL advisory lock of their own, held until
the transaction ends (``pg_advisory_xact_lock``):

- the evidence chain: one lock, taken by every write transaction as it
  begins (``BEGIN IMMEDIATE``, dunning.store.postgres), else before the
  chain's head is read for an append; the appends stay one total order, each
  link made from the last committed one (``lock_evidence_chain``), and as it
  is the first lock a write transaction takes, two of them never wait for
  each other in a circle (one holding a case's row, the other the chain);
- a debtor's contact attempts: one lock per debtor, taken before the attempts
  a contact cap counts are read; two workers judging the same debtor's next
  contact take turns, the second counting the first's attempt
  (``lock_debtors``); other debtors are not held up;
- planning (``WorkerLocks``): one planner at a time, a lock held by a
  session (the worker's connection) rather than a transaction.

On SQLite each function does nothing: the write lock already serialises.
The locks are keyed by two integers, the first naming what is locked.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any

from dunning.store.connection import StoreConnection

# The first key of each lock (the second is 0, or a debtor's id hashed).
CHAIN_LOCK = 4_270_001
DEBTOR_LOCK = 4_270_002
PLANNER_LOCK = 4_270_003


def is_postgres(conn: sqlite3.Connection | Any) -> bool:
    return not isinstance(conn, sqlite3.Connection)


def lock_evidence_chain(conn: sqlite3.Connection) -> None:
    """Inside a transaction on PostgreSQL: wait until no other transaction is appending to the chain."""
    # A write transaction took it as it began (``BEGIN IMMEDIATE``, dunning.store.postgres).
    if is_postgres(conn) and conn.in_transaction and not getattr(conn, "holds_chain_lock", False):
        conn.execute(f"SELECT pg_advisory_xact_lock({CHAIN_LOCK}, 0)")


def lock_debtors(conn: sqlite3.Connection, debtor_ids: Iterable[str]) -> None:
    """Inside a transaction on PostgreSQL: wait until no other transaction is judging these debtors' contacts.

    Taken in the order of the lock keys (a debtor's id hashed), whoever asks,
    so two workers locking overlapping sets of debtors cannot wait on each
    other; two ids with the same hash share one lock, which only makes them
    take turns.
    """
    if not is_postgres(conn) or not conn.in_transaction:
        return
    ids = sorted(set(debtor_ids))
    if not ids:
        return
    # The ORDER BY is applied before the (volatile) lock calls of the select list are evaluated.
    conn.execute(f"SELECT pg_advisory_xact_lock({DEBTOR_LOCK}, k) FROM "
                 "(SELECT DISTINCT hashtext(d) AS k FROM unnest(?::text[]) AS d) AS keys ORDER BY k", [ids])


class WorkerLocks(StoreConnection):
    """The store's part that lets one worker at a time plan (PostgreSQL; always granted on SQLite)."""

    def take_planner_lock(self, *, wait: bool) -> bool:
        """Become the one planner: True once this connection holds the lock (at once when ``wait`` is False)."""
        if self.dialect != "postgresql":
            return True
        if wait:
            self.conn.execute(f"SELECT pg_advisory_lock({PLANNER_LOCK}, 0)")
            return True
        row = self.conn.execute(f"SELECT pg_try_advisory_lock({PLANNER_LOCK}, 0)").fetchone()
        return bool(row and row[0])

    def release_planner_lock(self) -> None:
        if self.dialect == "postgresql":
            self.conn.execute(f"SELECT pg_advisory_unlock({PLANNER_LOCK}, 0)")
