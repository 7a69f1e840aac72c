"""Corrections to a debtor and its contacts: details changed, contacts added, retired or restored."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import cast

from dunning.calendar import to_text
from dunning.models import Contact
from dunning.store.connection import StoreConnection

# What `dunning debtors edit` and a sync may set on a debtor; the column is the field's name.
_DEBTOR_COLUMNS = frozenset({"name", "kind", "country", "region", "timezone", "locale"})


class DebtorEdits(StoreConnection):
    """The store's part that corrects debtors and contacts (inside the caller's transaction)."""

    def all_contacts(self, debtor_id: str) -> list[tuple[Contact, bool, str]]:
        """Every contact of the debtor, inactive ones too, as (contact, active, source), oldest first."""
        return [
            (Contact(debtor_id=r[0], kind=r[1], value=r[2], role=r[3], name=r[4], bad=bool(r[5]), id=r[6]),
             bool(r[7]), r[8])
            for r in self.conn.execute(
                "SELECT debtor_id, kind, value, role, name, bad, id, active, source FROM contacts "
                "WHERE debtor_id = ? ORDER BY id", [debtor_id])
        ]

    def set_debtor_fields(self, debtor_id: str, fields: dict[str, str | None], now: dt.datetime) -> None:
        unknown = set(fields) - _DEBTOR_COLUMNS
        if unknown:
            raise ValueError(f"cannot set {', '.join(sorted(unknown))} on a debtor")
        if not fields:
            return
        self.conn.execute(
            f"UPDATE debtors SET {', '.join(f'{k} = ?' for k in fields)}, updated_at = ? WHERE id = ?",
            [*fields.values(), to_text(now), debtor_id])

    def add_contact(self, contact: Contact, source: str) -> int:
        """A new active contact; one already there (kind, value and role) becomes active again. Returns its id."""
        row = self.conn.execute(
            "SELECT id FROM contacts WHERE debtor_id = ? AND kind = ? AND value = ? AND role = ?",
            [contact.debtor_id, contact.kind.value, contact.value, contact.role.value]).fetchone()
        if row is not None:
            self.conn.execute("UPDATE contacts SET active = 1 WHERE id = ?", [row[0]])
            return cast(int, row[0])
        return cast(int, self.conn.execute(
            "INSERT INTO contacts (debtor_id, kind, value, role, name, bad, active, source) "
            "VALUES (?, ?, ?, ?, ?, 0, 1, ?)",
            [contact.debtor_id, contact.kind.value, contact.value, contact.role.value, contact.name, source],
        ).lastrowid)  # an INSERT always sets it

    def set_contacts_active(self, contact_ids: Sequence[int], active: bool) -> int:
        """Retire (or restore) contacts: never deleted, so the evidence naming them still reads."""
        changed = 0
        for contact_id in contact_ids:
            changed += self.conn.execute("UPDATE contacts SET active = ? WHERE id = ? AND active = ?",
                                         [int(active), contact_id, int(not active)]).rowcount
        return changed

    def contact_active(self, contact_id: int) -> bool | None:
        row = self.conn.execute("SELECT active FROM contacts WHERE id = ?", [contact_id]).fetchone()
        return None if row is None else bool(row[0])
