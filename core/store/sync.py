"""What a daily sync holds the books against: each debtor as the store keeps it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING

from dunning.models import Contact
from dunning.store.cases import Cases

if TYPE_CHECKING:
    # Imported where used: every command opens the store, only `import --sync` reads debtors this way.
    from dunning.sync import StoredDebtor


class BooksSync(Cases):
    """The store's part that reads debtors for ``dunning import --sync``."""

    def stored_debtors(self, debtor_ids: Iterable[str], *, with_open_cases: bool = False) -> dict[str, StoredDebtor]:
        """The named debtors the store knows (and, ``with_open_cases``, every debtor with an open case)."""
        from dunning.sync import StoredContact, StoredDebtor, StoredItem

        wanted = set(debtor_ids)
        if with_open_cases:
            wanted |= {r[0] for r in self.conn.execute("SELECT DISTINCT debtor_id FROM cases WHERE status = 'open'")}
        found: dict[str, StoredDebtor] = {}
        for debtor_id in sorted(wanted):
            debtor = self.debtor(debtor_id)
            if debtor is None:
                continue
            contacts = tuple(
                StoredContact(id=r[6], contact=Contact(debtor_id=r[0], kind=r[1], value=r[2], role=r[3], name=r[4],
                                                       bad=bool(r[5]), id=r[6]), active=bool(r[7]), source=r[8])
                for r in self.conn.execute(
                    "SELECT debtor_id, kind, value, role, name, bad, id, active, source FROM contacts "
                    "WHERE debtor_id = ? ORDER BY id", [debtor_id]))
            items = tuple(
                StoredItem(reference=r[0], case_id=r[1], case_open=r[2] == "open", amount=r[3], paid=r[4],
                           currency=r[5], due_on=dt.date.fromisoformat(r[6]), closed_reason=r[7])
                for r in self.conn.execute(
                    "SELECT o.reference, o.case_id, c.status, o.amount, o.paid, o.currency, o.due_on, o.closed_reason "
                    "FROM obligations o JOIN cases c ON c.id = o.case_id WHERE o.debtor_id = ? ORDER BY o.id",
                    [debtor_id]))
            found[debtor_id] = StoredDebtor(debtor=debtor, contacts=contacts, items=items)
        return found

    def obligation_id(self, debtor_id: str, reference: str) -> int | None:
        row = self.conn.execute("SELECT id FROM obligations WHERE debtor_id = ? AND reference = ?",
                                [debtor_id, reference]).fetchone()
        return row[0] if row else None
