"""The daily sync with the books: what changes when the ERP's list of open items meets the store. Pure.

The ERP's file is the complete list of a debtor's open items. Held against
what the store keeps for that debtor, it says, item by item, what to add
(new invoices), what to adjust (a new amount, a part paid in the books, a
new due date), what to close (gone from the list, paid down to zero, or
credited) and, debtor by debtor, which details and contacts changed. Nothing
here reads the database: ``dunning.sync_apply`` gathers the stored side,
writes the result and records the events.

Figures: an obligation's ``open`` is ``amount - paid``. The books' open
amount is the truth, so a part paid elsewhere shows as ``paid`` here too
(``paid = amount - open_amount``): paid means settled against the item,
whoever received the money.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence

import attrs

from dunning.models import Contact, Debtor

# What a row's optional `status` may say; an item credited or paid in full is closed here.
STATUSES = ("open", "paid", "credited")
PAID_ELSEWHERE = "paid_elsewhere"
CREDITED = "credited"
# The debtor's details a sync (or `dunning debtors edit`) may change, in the order they are reported.
DEBTOR_FIELDS = ("name", "kind", "country", "region", "timezone", "locale")


@attrs.frozen
class BooksItem:
    """One row of the ERP's file: the obligation as imported, with the books' open amount and status."""

    debtor: Debtor
    contacts: tuple[Contact, ...]
    reference: str
    amount: int
    currency: str
    issued_on: dt.date | None
    due_on: dt.date
    open_amount: int
    status: str
    line: int
    # The debtor fields the row actually gave: a blank cell keeps what the store has.
    given: frozenset[str] = frozenset(DEBTOR_FIELDS)


@attrs.frozen
class StoredItem:
    """An obligation as the store keeps it."""

    reference: str
    case_id: int
    case_open: bool
    amount: int
    paid: int
    currency: str
    due_on: dt.date
    closed_reason: str | None = None

    @property
    def open(self) -> int:
        return 0 if self.closed_reason else self.amount - self.paid


@attrs.frozen
class StoredContact:
    id: int
    contact: Contact
    active: bool
    source: str  # "import" (the books' own, which a sync may retire) or "operator"

    @property
    def key(self) -> tuple[str, str, str]:
        return contact_key(self.contact)


@attrs.frozen
class StoredDebtor:
    """What the store holds about one debtor."""

    debtor: Debtor
    contacts: tuple[StoredContact, ...] = ()
    items: tuple[StoredItem, ...] = ()


@attrs.frozen
class Figures:
    amount: int
    open: int
    due_on: dt.date


@attrs.frozen
class Adjustment:
    reference: str
    case_id: int
    currency: str
    before: Figures
    after: Figures
    reopens: bool = False  # the item had been closed; the books list it open again


@attrs.frozen
class Closing:
    reference: str
    case_id: int
    reason: str  # PAID_ELSEWHERE or CREDITED
    open_before: int
    currency: str


@attrs.frozen
class FieldChange:
    field: str
    before: str | None
    after: str | None


@attrs.frozen
class DebtorSync:
    """Everything a sync changes for one debtor."""

    debtor_id: str
    name: str
    new_debtor: bool = False
    changes: tuple[FieldChange, ...] = ()
    contacts_added: tuple[Contact, ...] = ()
    contacts_restored: tuple[StoredContact, ...] = ()
    contacts_retired: tuple[StoredContact, ...] = ()
    added: tuple[BooksItem, ...] = ()
    adjusted: tuple[Adjustment, ...] = ()
    closed: tuple[Closing, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.new_debtor or self.changes or self.contacts_added or self.contacts_restored
                    or self.contacts_retired or self.added or self.adjusted or self.closed)


@attrs.frozen
class SyncProblem:
    line: int
    field: str
    problem: str


def contact_key(contact: Contact) -> tuple[str, str, str]:
    return contact.kind.value, contact.value, contact.role.value


def debtor_changes(stored: Debtor, given: Debtor, fields: Iterable[str] = DEBTOR_FIELDS) -> tuple[FieldChange, ...]:
    """The fields ``given`` sets to something else than ``stored`` has, in the order of DEBTOR_FIELDS."""
    wanted = set(fields)
    changes = []
    for field in DEBTOR_FIELDS:
        if field not in wanted:
            continue
        before, after = _text(getattr(stored, field)), _text(getattr(given, field))
        if before != after:
            changes.append(FieldChange(field, before, after))
    return tuple(changes)


def _text(value: object) -> str | None:
    if value is None:
        return None
    return str(getattr(value, "value", value))


def diff_debtor(debtor_id: str, rows: Sequence[BooksItem], stored: StoredDebtor | None,
                ) -> tuple[DebtorSync, list[SyncProblem]]:
    """What the books' ``rows`` for one debtor change in what the store holds (``stored``, None if new).

    With no rows (a debtor the file does not name, in a full sync), the
    debtor's details and contacts stay; only its open items close.
    """
    problems: list[SyncProblem] = []
    first = rows[0] if rows else None
    name = first.debtor.name if first else (stored.debtor.name if stored else debtor_id)
    if stored is None:
        assert first is not None  # a debtor unknown to the store comes from the file
        return DebtorSync(debtor_id, name, new_debtor=True, added=tuple(r for r in rows if _is_open(r))), problems

    changes: tuple[FieldChange, ...] = ()
    contacts_added: list[Contact] = []
    restored: list[StoredContact] = []
    retired: list[StoredContact] = []
    if first is not None:
        changes = debtor_changes(stored.debtor, first.debtor, first.given)
        in_file: dict[tuple[str, str, str], Contact] = {}
        for row in rows:
            for contact in row.contacts:
                in_file.setdefault(contact_key(contact), contact)
        known = {c.key: c for c in stored.contacts}
        for key, contact in in_file.items():
            found = known.get(key)
            if found is None:
                contacts_added.append(contact)
            elif not found.active:
                restored.append(found)
        retired = [c for c in stored.contacts if c.active and c.source == "import" and c.key not in in_file]

    by_reference = {i.reference: i for i in stored.items}
    named: set[str] = set()
    added: list[BooksItem] = []
    adjusted: list[Adjustment] = []
    closed: list[Closing] = []
    for row in rows:
        named.add(row.reference)
        item = by_reference.get(row.reference)
        if item is None:
            if _is_open(row):
                added.append(row)
            continue
        if item.currency != row.currency:
            problems.append(SyncProblem(row.line, "currency", f"{row.reference!r} is recorded in {item.currency}, "
                                                              f"the file says {row.currency}"))
            continue
        if not item.case_open and item.closed_reason is None:
            continue  # resolved here (paid, settled, written off): the books catch up in their own time
        if not _is_open(row):
            reason = CREDITED if row.status == CREDITED else PAID_ELSEWHERE
            if item.closed_reason is None:
                closed.append(Closing(item.reference, item.case_id, reason, item.open, item.currency))
            continue
        before = Figures(item.amount, item.open, item.due_on)
        after = Figures(row.amount, row.open_amount, row.due_on)
        if before != after or item.closed_reason is not None:
            adjusted.append(Adjustment(item.reference, item.case_id, item.currency, before, after,
                                       reopens=item.closed_reason is not None))
    for item in stored.items:
        if item.reference not in named and item.case_open and item.closed_reason is None and item.open > 0:
            closed.append(Closing(item.reference, item.case_id, PAID_ELSEWHERE, item.open, item.currency))
    return DebtorSync(debtor_id, name, changes=changes, contacts_added=tuple(contacts_added),
                      contacts_restored=tuple(restored), contacts_retired=tuple(retired), added=tuple(added),
                      adjusted=tuple(adjusted), closed=tuple(closed)), problems


def _is_open(row: BooksItem) -> bool:
    return row.status == "open" and row.open_amount > 0


def diff(rows: Sequence[BooksItem], stored: Mapping[str, StoredDebtor], *,
         full: bool = False) -> tuple[list[DebtorSync], list[SyncProblem]]:
    """Each debtor's changes, in the order the file names them (then, with ``full``, the store's others).

    ``stored`` holds the debtors the file names and, for a full sync, every
    debtor with an open case.
    """
    by_debtor: dict[str, list[BooksItem]] = {}
    for row in rows:
        by_debtor.setdefault(row.debtor.id, []).append(row)
    debtor_ids = list(by_debtor)
    if full:
        debtor_ids += sorted(d for d in stored if d not in by_debtor)
    result: list[DebtorSync] = []
    problems: list[SyncProblem] = []
    for debtor_id in debtor_ids:
        found, wrong = diff_debtor(debtor_id, by_debtor.get(debtor_id, []), stored.get(debtor_id))
        result.append(found)
        problems += wrong
    return result, problems
