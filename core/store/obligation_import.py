"""Writing a validated import: debtors, contacts, obligations, and the cases they open."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import cast, overload

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


# Events are appended this many at a time (one multi-row INSERT each), and announced after the commit
# read back this many at a time: an import of a million rows never holds its events in memory.
_EVENT_BATCH = 2000


class ObligationImport(Cases, EventLog):
    """The store's part that writes imports."""

    def import_obligations(
        self, items: Iterable[ImportedObligation], now: dt.datetime, today: dt.date
    ) -> tuple[ImportResult, list[int]]:
        """Write a validated import in one transaction. Returns the counts and the touched case ids.

        An obligation already present with the same amount and due date is left
        alone, so importing the same file twice changes nothing. ``items`` is
        read once, as it comes: a file's rows streamed from the import's
        staging file are never all in memory. When this call owns the
        transaction, its events are not kept for the listener while it runs:
        they are read back from the log after the commit and announced in
        batches.
        """
        owns_transaction = not self.conn.in_transaction
        now_text = to_text(now)
        debtors_seen: set[str] = set()
        cases_opened = added = unchanged = 0
        touched: set[int] = set()
        events: list[Event] = []

        def flush_events() -> None:
            mark = len(self._pending_events)
            self._append_events(events)
            if owns_transaction:
                self._pending_events.truncate(mark)  # announced from the log after the commit
            events.clear()

        with self.transaction():
            first_seq = self.last_seq() + 1  # read under the write lock: no other writer appends until the commit
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
                    if item.contacts:
                        self.conn.executemany(
                            "INSERT OR IGNORE INTO contacts (debtor_id, kind, value, role, name, bad) VALUES (?, ?, ?, "
                            "?, ?, 0)",
                            [[d.id, c.kind.value, c.value, c.role.value, c.name] for c in item.contacts],
                        )
                existing = self.conn.execute(
                    "SELECT 1 FROM obligations WHERE debtor_id = ? AND reference = ?", [d.id, item.reference],
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
                    events.append(Event(kind="case_opened", at=now, case_id=case_id, stage=Stage.INTERNAL.value,
                                        data={"debtor_id": d.id, "currency": item.currency}))
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
                events.append(Event(kind="obligation_added", at=now, case_id=case_id,
                                    data={"reference": item.reference, "amount": item.amount,
                                          "currency": item.currency, "due_on": item.due_on.isoformat()}))
                if len(events) >= _EVENT_BATCH:
                    flush_events()
            flush_events()
            for case_id in touched:
                # Wake new work early enough for any run, even one rehearsing a
                # past date: the planner works out what is really due.
                earliest = self.conn.execute(
                    "SELECT min(due_on) FROM obligations WHERE case_id = ?", [case_id]).fetchone()[0]
                wake = min(today, dt.date.fromisoformat(earliest) - dt.timedelta(days=366))
                self._refresh_balance(case_id, wake_on=wake)
            last_seq = self.last_seq()
        if owns_transaction and self.on_events:
            self._announce(first_seq, last_seq)
        return ImportResult(len(debtors_seen), cases_opened, added, unchanged), sorted(touched)

    def _announce(self, first_seq: int, last_seq: int) -> None:
        """Hand the listener the events this import committed (``first_seq`` to ``last_seq``), a batch at a time;
        another writer's later events are its own to announce."""
        for start in range(first_seq, last_seq + 1, _EVENT_BATCH):
            if self.on_events:
                self.on_events(_LoggedEvents(self, start, min(start + _EVENT_BATCH - 1, last_seq)))


class _LoggedEvents(Sequence[Event]):
    """Events ``first`` to ``last`` of the log, read only when looked at: a listener that only counts them (no
    mirror, no record_event hook) costs nothing."""

    def __init__(self, log: EventLog, first: int, last: int):
        self._log, self._first, self._last = log, first, last
        self._events: list[Event] | None = None

    def __len__(self) -> int:
        return self._last - self._first + 1

    @overload
    def __getitem__(self, index: int) -> Event: ...

    @overload
    def __getitem__(self, index: slice) -> list[Event]: ...

    def __getitem__(self, index: int | slice) -> Event | list[Event]:
        if self._events is None:
            self._events = self._log.events(after_seq=self._first - 1, limit=len(self))
        return self._events[index]
