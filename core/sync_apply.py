"""``dunning import FILE --sync``: the books' list of open items read, held against the store, and written.

The file is read and validated whole as a plain import is (the same one-line
errors), then compared with the store (``dunning.sync``, pure), then every
change is written in one transaction with its evidence event: ``debtor_changed``,
``obligation_added``, ``adjusted`` (before, after, reason ``sync``),
``obligation_closed`` (``paid_elsewhere`` or ``credited``), and ``resolved``
for a case whose items are all closed. ``dry_run`` stops after the comparison.
A second run of the same file finds nothing to change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from dunning import log, money, operations
from dunning.import_guard import given_fields
from dunning.importer import ImportError_, RowError, read_rows, validate
from dunning.models import Contact, Status
from dunning.runtime import Runtime
from dunning.store import ImportedObligation
from dunning.sync import STATUSES, Adjustment, BooksItem, Closing, DebtorSync, Figures, diff

SOURCE = "sync"


@attrs.frozen
class SyncReport:
    debtors: tuple[DebtorSync, ...]
    resolved: tuple[int, ...] = ()
    dry_run: bool = False

    @property
    def changed(self) -> tuple[DebtorSync, ...]:
        return tuple(d for d in self.debtors if not d.empty)

    def counts(self) -> dict[str, int]:
        return {
            "debtors": len(self.debtors),
            "debtors_changed": sum(1 for d in self.debtors if d.changes or d.contacts_added or d.contacts_retired
                                   or d.contacts_restored),
            "added": sum(len(d.added) for d in self.debtors),
            "adjusted": sum(len(d.adjusted) for d in self.debtors),
            "closed": sum(len(d.closed) for d in self.debtors),
            "cases_resolved": len(self.resolved),
        }


def read_books(path: Path, encoding: str = "utf-8", warnings: list[str] | None = None) -> list[BooksItem]:
    """The file's rows as the books' items, every row checked first (as a plain import checks them)."""
    rows, unit = read_rows(path, encoding)
    found: list[RowError] = []
    items, errors = validate(rows, None, found)
    if warnings is not None:
        warnings.extend(f"{path}: {unit} {w.line}: {w.field}: {w.problem}" for w in found)
    if errors:
        raise ImportError_(str(path), errors, unit=unit)
    books: list[BooksItem] = []
    for (line, row), item in zip(rows, items, strict=True):
        problems: list[RowError] = []
        open_amount = _open_amount(row, item, line, problems)
        status = str(row.get("status") or "open").strip().lower()
        if status not in STATUSES:
            problems.append(RowError(line, "status", f"must be one of {', '.join(STATUSES)}, got {status!r}"))
        errors += problems
        if not problems:
            books.append(BooksItem(debtor=item.debtor, contacts=tuple(item.contacts), reference=item.reference,
                                   amount=item.amount, currency=item.currency, issued_on=item.issued_on,
                                   due_on=item.due_on, open_amount=open_amount, status=status, line=line,
                                   given=given_fields(row)))
    if errors:
        raise ImportError_(str(path), errors, unit=unit)
    return books


def _open_amount(row: Mapping[str, Any], item: ImportedObligation, line: int, problems: list[RowError]) -> int:
    text = str(row.get("open_amount") or "").strip()
    if not text:
        return item.amount  # nothing paid on it yet, as far as the books say
    try:
        value = money.parse(text, item.currency)
    except money.MoneyError as exc:
        problems.append(RowError(line, "open_amount", str(exc)))
        return 0
    if value < 0:
        problems.append(RowError(line, "open_amount", "must not be negative"))
    elif value > item.amount:
        problems.append(RowError(line, "open_amount", f"{money.display(value, item.currency)} is more than the "
                                                      f"amount {money.display(item.amount, item.currency)}"))
    return value


def sync_file(rt: Runtime, path: Path, *, now: dt.datetime, full: bool = False, dry_run: bool = False,
              encoding: str = "utf-8", warnings: list[str] | None = None) -> SyncReport:
    """Bring the store in line with the books' file; see the module's docstring."""
    books = read_books(path, encoding, warnings)
    if full and not books:
        # An export that came out empty would otherwise close the whole portfolio.
        raise ImportError_(str(path), [RowError(1, "file", "lists no open items; with --full that would close every "
                                                            "open item of the portfolio (check the export)")])
    stored = rt.store.stored_debtors({b.debtor.id for b in books}, with_open_cases=full)
    debtors, problems = diff(books, stored, full=full)
    if problems:
        unit = "item" if path.suffix.lower() == ".json" else "line"
        raise ImportError_(str(path), [RowError(p.line, p.field, p.problem) for p in problems], unit=unit)
    if dry_run:
        return SyncReport(tuple(debtors), dry_run=True)
    today = rt.today(now)
    resolved: list[int] = []
    with rt.store.transaction():
        touched: set[int] = set()
        for found in debtors:
            if found.empty:
                continue
            touched |= _apply(rt, found, path.name, now, today)
        for case_id in sorted(touched):
            balance = rt.store.refresh_case(case_id, wake_on=today)
            case = rt.store.case(case_id)
            if case.is_open and balance == 0:
                operations.resolve(rt, case_id, Status.PAID.value, now=now, reason="closed in the books")
                resolved.append(case_id)
    return SyncReport(tuple(debtors), tuple(resolved))


def _apply(rt: Runtime, found: DebtorSync, file: str, now: dt.datetime, today: dt.date) -> set[int]:
    """Write one debtor's changes and their events (inside the caller's transaction); the cases touched."""
    store = rt.store
    touched: set[int] = set()
    if found.changes or found.contacts_added or found.contacts_restored or found.contacts_retired:
        store.set_debtor_fields(found.debtor_id, {c.field: c.after for c in found.changes}, now)
        for contact in found.contacts_added:
            store.add_contact(contact, "import")
        store.set_contacts_active([c.id for c in found.contacts_restored], True)
        store.set_contacts_active([c.id for c in found.contacts_retired], False)
        record_debtor_change(rt, found.debtor_id, now, debtor_change_data(
            found, by=SOURCE, reason=f"{SOURCE} {file}"))
    if found.added:
        items = [ImportedObligation(debtor=b.debtor, contacts=b.contacts, reference=b.reference, amount=b.amount,
                                    currency=b.currency, issued_on=b.issued_on, due_on=b.due_on) for b in found.added]
        _, cases = store.import_obligations(items, now, today)
        touched |= set(cases)
        for b in found.added:
            if b.open_amount < b.amount:  # part paid in the books already
                obligation_id = store.obligation_id(found.debtor_id, b.reference)
                assert obligation_id is not None  # just written
                store.set_obligation_figures(obligation_id, amount=b.amount, open_amount=b.open_amount)
    for adjustment in found.adjusted:
        touched.add(_adjust(rt, found.debtor_id, adjustment, now))
    for closing in found.closed:
        touched.add(_close(rt, found.debtor_id, closing, now, today))
    return touched


def _figures(f: Figures, currency: str) -> dict[str, Any]:
    return {"amount": f.amount, "open": f.open, "due_on": f.due_on.isoformat(), "currency": currency}


def _adjust(rt: Runtime, debtor_id: str, adjustment: Adjustment, now: dt.datetime) -> int:
    store = rt.store
    obligation = store.obligation_by_reference(debtor_id, adjustment.reference)
    assert obligation.id is not None
    case_id = obligation.case_id
    if adjustment.reopens and not store.case(case_id).is_open:
        open_case = store.open_case_id(debtor_id, obligation.currency)
        if open_case is None:
            store.reopen_case(case_id, rt.today(now))
            store.append_events([rt.event("reopened", store.case(case_id), now, data={
                "reason": f"{adjustment.reference} is open again in the books", "source": SOURCE})])
        else:
            store.move_obligation(obligation.id, open_case)
            case_id = open_case
    store.set_obligation_figures(obligation.id, amount=adjustment.after.amount, open_amount=adjustment.after.open,
                                 due_on=adjustment.after.due_on)
    store.append_events([rt.event("adjusted", store.case(case_id), now, data={
        "reference": adjustment.reference, "before": _figures(adjustment.before, obligation.currency),
        "after": _figures(adjustment.after, obligation.currency), "reason": SOURCE,
        **({"reopened": True} if adjustment.reopens else {})})])
    return case_id


def _close(rt: Runtime, debtor_id: str, closing: Closing, now: dt.datetime, today: dt.date) -> int:
    store = rt.store
    obligation = store.obligation_by_reference(debtor_id, closing.reference)
    assert obligation.id is not None
    store.close_obligation(obligation.id, closing.reason, today)
    store.append_events([rt.event("obligation_closed", store.case(obligation.case_id), now, data={
        "reference": closing.reference, "reason": closing.reason, "open_before": closing.open_before,
        "currency": obligation.currency, "source": SOURCE})])
    return obligation.case_id


def _contact_text(contact: Contact) -> dict[str, Any]:
    # Masked as the logs mask them: the evidence says which contact, without spelling it out again.
    return {"kind": contact.kind.value, "role": contact.role.value, "value": log.mask(contact.value)}


def debtor_change_data(found: DebtorSync, *, by: str, reason: str) -> dict[str, Any]:
    """The ``debtor_changed`` event's data: each field before and after, contacts added, restored and retired."""
    data: dict[str, Any] = {"debtor_id": found.debtor_id, "by": by, "reason": reason}
    if found.changes:
        data["changes"] = {c.field: {"before": log.mask(c.before) if c.before else c.before,
                                     "after": log.mask(c.after) if c.after else c.after} for c in found.changes}
    for key, contacts in (("contacts_added", found.contacts_added),
                          ("contacts_restored", [c.contact for c in found.contacts_restored]),
                          ("contacts_inactive", [c.contact for c in found.contacts_retired])):
        if contacts:
            data[key] = [_contact_text(c) for c in contacts]
    return data


def record_debtor_change(rt: Runtime, debtor_id: str, now: dt.datetime, data: Mapping[str, Any]) -> None:
    """One ``debtor_changed`` event on each of the debtor's open cases (one without a case if it has none)."""
    cases = rt.store.open_cases_of(debtor_id)
    rt.store.append_events([rt.event("debtor_changed", case, now, data=dict(data)) for case in cases]
                           or [rt.event("debtor_changed", None, now, data=dict(data))])


def describe(report: SyncReport) -> list[str]:
    """What changed (or would change), debtor by debtor, one line each."""
    lines: list[str] = []
    for found in report.changed:
        lines.append(f"debtor {found.debtor_id} ({found.name})" + (": new" if found.new_debtor else ":"))
        for change in found.changes:
            lines.append(f"  {change.field}: {change.before!r} -> {change.after!r}")
        lines += [f"  contact added: {c.kind.value} {log.mask(c.value)}" for c in found.contacts_added]
        lines += [f"  contact active again: {c.contact.kind.value} {log.mask(c.contact.value)}"
                  for c in found.contacts_restored]
        lines += [f"  contact inactive: {c.contact.kind.value} {log.mask(c.contact.value)}"
                  for c in found.contacts_retired]
        for b in found.added:
            part = f", open {money.display(b.open_amount, b.currency)}" if b.open_amount < b.amount else ""
            lines.append(f"  added {b.reference}: {money.display(b.amount, b.currency)}{part} due {b.due_on}")
        for a in found.adjusted:
            lines.append(f"  adjusted {a.reference}: {_shown(a.before, a.currency)} -> {_shown(a.after, a.currency)}"
                         + (" (open again)" if a.reopens else ""))
        lines += [f"  closed {c.reference} as {c.reason} (was open {money.display(c.open_before, c.currency)})"
                  for c in found.closed]
    return lines


def _shown(f: Figures, currency: str) -> str:
    return f"{money.display(f.amount, currency)}, open {money.display(f.open, currency)}, due {f.due_on}"


def report_json(report: SyncReport) -> dict[str, Any]:
    return report.counts() | {
        "dry_run": report.dry_run,
        "resolved_cases": list(report.resolved),
        "changes": [_debtor_json(d) for d in report.changed],
    }


def _debtor_json(found: DebtorSync) -> dict[str, Any]:
    return {
        "debtor_id": found.debtor_id,
        "name": found.name,
        "new": found.new_debtor,
        "fields": {c.field: {"before": c.before, "after": c.after} for c in found.changes},
        "contacts_added": [_contact_text(c) for c in found.contacts_added],
        "contacts_restored": [_contact_text(c.contact) for c in found.contacts_restored],
        "contacts_inactive": [_contact_text(c.contact) for c in found.contacts_retired],
        "added": [{"reference": b.reference, "amount": b.amount, "open": b.open_amount, "currency": b.currency,
                   "due_on": b.due_on.isoformat()} for b in found.added],
        "adjusted": [{"reference": a.reference, "before": attrs.asdict(a.before), "after": attrs.asdict(a.after),
                      "reopened": a.reopens} for a in found.adjusted],
        "closed": [{"reference": c.reference, "reason": c.reason, "open_before": c.open_before} for c in found.closed],
    }
