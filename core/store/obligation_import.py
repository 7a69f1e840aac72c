"""Writing a validated import: debtors, contacts, obligations, and the cases they open."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Iterable, Sequence
from typing import Any, overload

import attrs

from dunning import creditor_reference
from dunning.calendar import to_text, utc_now
from dunning.models import Contact, Debtor, Event, Stage
from dunning.store.bulk import _execute_rows
from dunning.store.cases import Cases
from dunning.store.events import _INSERT_EVENTS, EventLog
from dunning.store import import_triggers
from dunning.store.import_events import PlainEvent, case_opened_data, chained_rows, obligation_added_data
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
# Rows are written this many at a time: one query finds which of a chunk's obligations and open cases exist,
# one executemany writes its obligations.
_CHUNK = 1000

# An obligation as the writing pass takes it: plain values, no objects (see ``row_of``).
#   (debtor_id, name, kind, country, timezone, locale, region, zone), ((kind, value, role, name), ...),
#   reference, amount, currency, issued_on ISO or None, due_on ISO, (iban, ...), interest_rate
ObligationRow = tuple[Any, ...]


def row_of(item: ImportedObligation) -> ObligationRow:
    """``item`` as the plain values the writing pass takes (and an import's scratch file keeps)."""
    d = item.debtor
    return ((d.id, d.name, d.kind.value, d.country, d.timezone, d.locale, d.region, d.zone),
            tuple((c.kind.value, c.value, c.role.value, c.name) for c in item.contacts),
            item.reference, item.amount, item.currency, _iso(item.issued_on), item.due_on.isoformat(),
            tuple(item.accounts), item.interest_rate)


def case_reference(case_id: int) -> str:
    """``creditor_reference.for_case(case_id)`` in one line of arithmetic (an import opens a case per debtor):
    ISO 7064 mod 97-10 over the padded id, then "RF" as its letters' numbers (R 27, F 15) and "00", the check
    digits 98 less the remainder. tests/core/test_import_events.py compares it with python-stdnum's."""
    body = f"{case_id:0{creditor_reference.BODY_DIGITS}d}"
    return f"RF{98 - int(body + '271500') % 97:02d}{body}"


def _wake(today: dt.date, earliest_due: str) -> dt.date:
    """When a case with new obligations is looked at next: early enough for any run, even one rehearsing a past
    date (the planner works out what is really due)."""
    return min(today, dt.date.fromisoformat(earliest_due) - dt.timedelta(days=366))


class _Tally:
    """What an import did so far: cases opened, obligations added and left as they were, debtors seen."""

    def __init__(self) -> None:
        self.opened = self.added = self.unchanged = 0
        self.debtors: set[str] = set()
        self.zone_trigger_aside = False  # m021's contacts trigger set aside (``import_triggers``)
        self.store_had_debtors = True


class ObligationImport(Cases, EventLog):
    """The store's part that writes imports."""

    def has_debtors(self) -> bool:
        return self.conn.execute("SELECT EXISTS (SELECT 1 FROM debtors)").fetchone()[0] == 1

    def debtor_known(self, debtor_id: str) -> bool:
        """Whether a debtor with this id is stored (without reading it)."""
        return self.conn.execute("SELECT 1 FROM debtors WHERE id = ?", [debtor_id]).fetchone() is not None

    def import_obligations(
        self, items: Iterable[ImportedObligation], now: dt.datetime, today: dt.date
    ) -> tuple[ImportResult, list[int]]:
        """Write a validated import in one transaction. Returns the counts and the touched case ids.

        An obligation already present with the same amount and due date is left
        alone, so importing the same file twice changes nothing.
        """
        touched: list[int] = []
        result = self.import_rows((row_of(item) for item in items), now, today, touched=touched)
        return result, sorted(set(touched))

    def import_rows(self, rows: Iterable[ObligationRow], now: dt.datetime, today: dt.date, *,
                    touched: list[int] | None = None) -> ImportResult:
        """``import_obligations`` for rows of plain values (``row_of``), read once as they come.

        A file's rows streamed from the import's scratch file are never all
        in memory. When this call owns the transaction, its events are not
        kept for the listener while it runs: they are read back from the log
        after the commit and announced in batches. ``touched`` receives the
        ids of the cases that got an obligation.
        """
        owns_transaction = not self.conn.in_transaction
        counts = _Tally()
        with self.transaction():
            first_seq = self.last_seq() + 1  # read under the write lock: no other writer appends until the commit
            # Triggers that do nothing for an import's rows are set aside while it writes (dunning.store.
            # import_triggers): put back before the commit, and by the rollback after an error.
            # (PostgreSQL runs a trigger whose WHEN is false at no such cost: its triggers stay.)
            with (import_triggers.set_aside(self.conn) if self.dialect == "sqlite"
                  else contextlib.nullcontext(frozenset[str]())) as aside:
                counts.zone_trigger_aside = import_triggers.CONTACTS_ZONE_TRIGGER in aside
                counts.store_had_debtors = self.has_debtors()
                chunk: list[ObligationRow] = []
                for row in rows:
                    chunk.append(row)
                    if len(chunk) >= _CHUNK:
                        self._write_chunk(chunk, now, today, counts, touched, owns_transaction)
                        chunk = []
                if chunk:
                    self._write_chunk(chunk, now, today, counts, touched, owns_transaction)
            last_seq = self.last_seq()
        if owns_transaction and self.on_events:
            self._announce(first_seq, last_seq)
        return ImportResult(len(counts.debtors), counts.opened, counts.added, counts.unchanged)

    def _write_chunk(self, chunk: list[ObligationRow], now: dt.datetime, today: dt.date, counts: _Tally,
                     touched: list[int] | None, owns_transaction: bool) -> None:
        now_text, today_text = to_text(now), today.isoformat()
        debtors_seen = counts.debtors
        new_debtors = [r for r in chunk if r[0][0] not in debtors_seen]
        for r in new_debtors:
            debtors_seen.add(r[0][0])
        if new_debtors:
            if counts.zone_trigger_aside and counts.store_had_debtors:
                # m021's trigger is set aside: its work done here, for the debtors the store knew already (a
                # debtor new to the store has no zone to clear).
                new_ids = [r[0][0] for r in new_debtors]
                stored = {i for (i,) in self.conn.execute(
                    f"SELECT id FROM debtors WHERE id IN ({', '.join('?' * len(new_ids))})", new_ids)}
                if stored:
                    import_triggers.zone_cleared_by_new_phones(
                        self.conn, [(r[0][0], c[0], c[1], c[2]) for r in new_debtors if r[0][0] in stored
                                    for c in r[1]])
            # Contacts first: a new phone number clears a stored debtor's zone (migration m021), and a new
            # debtor's zone, worked out from its row, is then written with it.
            self.conn.executemany(
                "INSERT OR IGNORE INTO contacts (debtor_id, kind, value, role, name, bad) VALUES (?, ?, ?, ?, ?, 0)",
                [(r[0][0], *c) for r in new_debtors for c in r[1]])
            self.conn.executemany(
                "INSERT INTO debtors (id, name, kind, country, timezone, locale, region, zone, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET name = excluded.name, "
                "kind = excluded.kind, country = coalesce(excluded.country, debtors.country), "
                "timezone = coalesce(excluded.timezone, debtors.timezone), "
                "locale = coalesce(excluded.locale, debtors.locale), "
                "region = coalesce(excluded.region, debtors.region), updated_at = excluded.updated_at",
                [(*r[0], now_text, now_text) for r in new_debtors])
            self.conn.executemany(
                "INSERT OR IGNORE INTO debtor_accounts (debtor_id, iban, source, added_at) VALUES (?, ?, 'import', ?)",
                [(r[0][0], iban, now_text) for r in new_debtors for iban in r[7]])
        ids = sorted({r[0][0] for r in chunk})
        marks = ", ".join("?" * len(ids))
        present = set(self.conn.execute(
            f"SELECT debtor_id, reference FROM obligations WHERE debtor_id IN ({marks})", ids))
        open_cases = {(d, c): i for d, c, i in self.conn.execute(
            f"SELECT debtor_id, currency, id FROM cases WHERE status = 'open' AND debtor_id IN ({marks})", ids)}
        obligations: list[tuple[Any, ...]] = []
        events: list[PlainEvent] = []
        chunk_cases: dict[int, None] = {}
        # Cases this chunk opens, with their ids given here (we hold the write lock, so the next ids are ours:
        # what SQLite would give) and their figures worked out from the rows: one INSERT each, written with
        # the chunk, in place of an insert, an update and a balance read back.
        opened: dict[int, list[Any]] = {}  # id -> [debtor_id, currency, balance, earliest due]
        next_id = 0
        for r in chunk:
            debtor_id, reference, amount, currency = r[0][0], r[2], r[3], r[4]
            if (debtor_id, reference) in present:
                counts.unchanged += 1
                continue
            present.add((debtor_id, reference))
            case_id = open_cases.get((debtor_id, currency))
            if case_id is None:
                if not next_id:
                    next_id = self.conn.execute("SELECT coalesce(max(id), 0) + 1 FROM cases").fetchone()[0]
                case_id, next_id = next_id, next_id + 1
                opened[case_id] = [debtor_id, currency, 0, r[6]]
                open_cases[(debtor_id, currency)] = case_id
                counts.opened += 1
                events.append((case_id, "case_opened", _INTERNAL, case_opened_data(debtor_id, currency)))
            obligations.append((case_id, debtor_id, reference, amount, currency, r[5], r[6], r[8]))
            counts.added += 1
            figures = opened.get(case_id)
            if figures is None:
                chunk_cases[case_id] = None
            else:
                figures[2] += amount
                figures[3] = min(figures[3], r[6])
            events.append((case_id, "obligation_added", None, obligation_added_data(reference, amount, currency, r[6])))
        self.conn.executemany(
            "INSERT INTO cases (id, debtor_id, currency, stage, status, balance, anchor_due_on, opened_on, "
            "stage_entered_on, next_action_on, creditor_reference) "
            "VALUES (?, ?, ?, 'internal', 'open', ?, ?, ?, ?, ?, ?)",
            [(case_id, debtor_id, currency, balance, earliest, today_text, today_text,
              _wake(today, earliest).isoformat(), case_reference(case_id))
             for case_id, (debtor_id, currency, balance, earliest) in opened.items()])
        self.conn.executemany(
            "INSERT INTO obligations (case_id, debtor_id, reference, amount, currency, issued_on, due_on, paid, "
            "interest_rate) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)", obligations)
        self._append_plain_events(events, now, keep=not owns_transaction)  # else announced from the log
        if touched is not None:
            touched.extend(opened)
        if not chunk_cases:
            return
        # The cases that were open already: their figures read back from all their obligations (a case
        # opened in an earlier chunk of this import is one of them when its rows go on in this one).
        case_ids = list(chunk_cases)
        earliest = self.conn.execute(
            f"SELECT case_id, min(due_on) FROM obligations WHERE case_id IN ({', '.join('?' * len(case_ids))}) "
            "GROUP BY case_id", case_ids).fetchall()
        for case_id, first_due in earliest:
            self._refresh_balance(case_id, wake_on=_wake(today, first_due))
        if touched is not None:
            touched.extend(case_ids)

    def _append_plain_events(self, events: list[PlainEvent], at: dt.datetime, *, keep: bool) -> None:
        """Append an import's events (``dunning.store.import_events``) at ``at``, in this transaction, chained
        after the log's head: what ``_append_events`` writes for them. ``keep``: also hand them to the listener
        with the transaction's other events."""
        if not events:
            return
        link = self._last_link
        if link is None:  # read inside the write transaction, as _append_events does
            link = self._last_link = self.chain_head()
        recorded_at = utc_now().replace(microsecond=0)
        linked: list[tuple[Any, ...]] | None = [] if keep else None
        seq, prev, stored = chained_rows(*link, events, to_text(at), to_text(recorded_at), linked=linked)
        _execute_rows(self.conn, _INSERT_EVENTS, stored, 13)
        self._last_link = (seq, prev)
        if linked:
            self._pending_events.add_built_later(linked, recorded_at, lambda row: _event_of(row, at))

    def _announce(self, first_seq: int, last_seq: int) -> None:
        """Hand the listener the events this import committed (``first_seq`` to ``last_seq``), a batch at a time;
        another writer's later events are its own to announce."""
        for start in range(first_seq, last_seq + 1, _EVENT_BATCH):
            if self.on_events:
                self.on_events(_LoggedEvents(self, start, min(start + _EVENT_BATCH - 1, last_seq)))


def _event_of(row: tuple[Any, ...], at: dt.datetime) -> Event:
    """An import's event as handed in, from its row (``chained_rows``' ``linked``)."""
    return Event(kind=row[4], at=at, case_id=row[3], stage=row[5], data=json.loads(row[10]))


_INTERNAL = Stage.INTERNAL.value


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
