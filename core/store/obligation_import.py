"""Writing a validated import: debtors, contacts, obligations, and the cases they open."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import cast

import attrs

from dunning import creditor_reference
from dunning.calendar import to_text
from dunning.models import Contact, Debtor, Event, Stage
from dunning.store.cases import Cases
from dunning.store.events import EventLog
from dunning.store.rows import _iso


@attrs.frozen
class ImportedObligation:
    debtor: Debtor
    contacts: Sequence[Contact]
    reference: str
    amount: int
    currency: str
    issued_on: dt.date | None
    due_on: dt.date
    # IBANs the debtor pays from (the import's ``iban`` column), compact.
    accounts: Sequence[str] = ()
    interest_rate: str | None = None  # agreed for the obligation: "12%" a year or "0.05%/day"


@attrs.frozen
class ImportResult:
    debtors: int
    cases_opened: int
    obligations_added: int
    obligations_unchanged: int


class ObligationImport(Cases, EventLog):
    """The store's part that writes imports."""

    def import_obligations(
        self, items: Sequence[ImportedObligation], now: dt.datetime, today: dt.date
    ) -> tuple[ImportResult, list[int]]:
        """Write a validated import in one transaction. Returns the counts and the touched case ids.

        An obligation already present with the same amount and due date is left
        alone, so importing the same file twice changes nothing.
        """
        now_text = to_text(now)
        debtors_seen: set[str] = set()
        cases_opened = added = unchanged = 0
        touched: set[int] = set()
        with self.transaction():
            for item in items:
                d = item.debtor
                if d.id not in debtors_seen:
                    debtors_seen.add(d.id)
                    self.conn.execute(
                        "INSERT INTO debtors (id, name, kind, country, timezone, locale, region, created_at, "
                        "updated_at) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET name = excluded.name, "
                        "kind = excluded.kind, country = coalesce(excluded.country, country), "
                        "timezone = coalesce(excluded.timezone, timezone), locale = coalesce(excluded.locale, locale), "
                        "region = coalesce(excluded.region, region), updated_at = excluded.updated_at",
                        [d.id, d.name, d.kind.value, d.country, d.timezone, d.locale, d.region, now_text, now_text],
                    )
                    for iban in item.accounts:
                        self.conn.execute(
                            "INSERT OR IGNORE INTO debtor_accounts (debtor_id, iban, source, added_at) "
                            "VALUES (?, ?, 'import', ?)", [d.id, iban, now_text])
                    for c in item.contacts:
                        self.conn.execute(
                            "INSERT OR IGNORE INTO contacts (debtor_id, kind, value, role, name, bad) VALUES (?, ?, ?, "
                            "?, ?, 0)",
                            [d.id, c.kind.value, c.value, c.role.value, c.name],
                        )
                existing = self.conn.execute(
                    "SELECT case_id, amount, due_on, currency FROM obligations WHERE debtor_id = ? AND reference = ?",
                    [d.id, item.reference],
                ).fetchone()
                if existing is not None:
                    unchanged += 1
                    continue
                row = self.conn.execute(
                    "SELECT id FROM cases WHERE debtor_id = ? AND currency = ? AND status = 'open'",
                    [d.id, item.currency],
                ).fetchone()
                if row is None:
                    case_id = cast(int, self.conn.execute(
                        "INSERT INTO cases (debtor_id, currency, stage, status, balance, opened_on, stage_entered_on) "
                        "VALUES (?, ?, 'internal', 'open', 0, ?, ?)",
                        [d.id, item.currency, today.isoformat(), today.isoformat()],
                    ).lastrowid)  # an INSERT always sets it
                    self.conn.execute("UPDATE cases SET creditor_reference = ? WHERE id = ?",
                                      [creditor_reference.for_case(case_id), case_id])
                    cases_opened += 1
                    self.append_events([Event(kind="case_opened", at=now, case_id=case_id, stage=Stage.INTERNAL.value,
                                              data={"debtor_id": d.id, "currency": item.currency})])
                else:
                    case_id = row[0]
                self.conn.execute(
                    "INSERT INTO obligations (case_id, debtor_id, reference, amount, currency, issued_on, due_on, "
                    "paid, interest_rate) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)",
                    [
                        case_id,
                        d.id,
                        item.reference,
                        item.amount,
                        item.currency,
                        _iso(item.issued_on),
                        item.due_on.isoformat(),
                        item.interest_rate,
                    ],
                )
                added += 1
                touched.add(case_id)
                self.append_events([Event(kind="obligation_added", at=now, case_id=case_id,
                                          data={"reference": item.reference, "amount": item.amount,
                                                "currency": item.currency, "due_on": item.due_on.isoformat()})])
            for case_id in touched:
                # Wake new work early enough for any run, even one rehearsing a
                # past date: the planner works out what is really due.
                earliest = self.conn.execute(
                    "SELECT min(due_on) FROM obligations WHERE case_id = ?", [case_id]).fetchone()[0]
                wake = min(today, dt.date.fromisoformat(earliest) - dt.timedelta(days=366))
                self._refresh_balance(case_id, wake_on=wake)
        return ImportResult(len(debtors_seen), cases_opened, added, unchanged), sorted(touched)
