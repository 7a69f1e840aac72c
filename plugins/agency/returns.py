"""An agency's return file: payments collected, contacts made, status updates, closures.

The whole file is checked before anything is written; one bad line
rejects it, with every problem listed by line number, and the store is
left exactly as it was. A good file is applied in one transaction.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import attrs

from dunning import NotFound, PluginContext, calendar, lifecycle, money, operations, text_checks
from dunning.models import Stage
from dunning.plugins.agency import records
from dunning.plugins.agency.commission import commission_on
from dunning.plugins.agency.records import Placement
from dunning.plugins.agency.settings import Agency, AgencySettings

COLUMNS = ("agency", "transaction_id", "case_id", "type", "date", "amount", "currency", "detail")
REQUIRED = ("agency", "transaction_id", "case_id", "type", "date")
TYPES = ("payment", "contact", "status", "closure")


class ReturnFileError(ValueError):
    """A return file that cannot be imported; ``problems`` are "line N: ..." texts."""

    def __init__(self, file: str, problems: Sequence[str]):
        self.file, self.problems = file, list(problems)
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        super().__init__(f"{file}: {count}; nothing was imported\n" + "\n".join(f"  {p}" for p in problems))


@attrs.frozen
class ReturnLine:
    """One checked line, ready to apply."""

    line: int
    transaction_id: str
    case_id: int
    type: str
    day: dt.date
    at: dt.datetime
    placement_id: int
    amount: int | None = None
    currency: str | None = None
    detail: str | None = None


@attrs.frozen
class CheckedFile:
    agency: Agency
    lines: tuple[ReturnLine, ...]
    sha256: str


@attrs.frozen
class Imported:
    agency: str
    lines: int
    payments: int
    contacts: int
    status_updates: int
    closures: int
    collected: dict[str, int]  # currency -> minor units
    commission: dict[str, int]
    cases_recalled: tuple[int, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "agency": self.agency, "lines": self.lines, "payments": self.payments, "contacts": self.contacts,
            "status_updates": self.status_updates, "closures": self.closures,
            "collected": {c: money.format_minor(v, c) for c, v in sorted(self.collected.items())},
            "commission": {c: money.format_minor(v, c) for c, v in sorted(self.commission.items())},
            "cases_recalled": list(self.cases_recalled),
        }


def read_rows(path: Path) -> tuple[list[tuple[int, dict[str, str]]], list[str]]:
    """The file's data rows with their line numbers (the header is line 1), and any problem with its shape."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        return [], [f"line 1: not UTF-8 text ({exc.reason})"]
    reader = csv.reader(text.splitlines(keepends=True))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        return [], ["line 1: the file is empty; it needs a header line: " + ",".join(COLUMNS)]
    except csv.Error as exc:
        return [], [f"line 1: not valid CSV: {exc}"]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        return [], [f"line 1: missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                    f"(columns: {','.join(COLUMNS)})"]
    rows: list[tuple[int, dict[str, str]]] = []
    problems: list[str] = []
    start = reader.line_num + 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # a field over the csv module's size limit
            problems.append(f"line {start}: not valid CSV: {exc}")
            break
        if not any(v.strip() for v in values):
            start = reader.line_num + 1
            continue
        control = next((p for v in values if (p := text_checks.control_character(v))), None)
        if control:
            problems.append(f"line {start}: a field {control}")
        elif len(values) != len(header):
            problems.append(f"line {start}: {len(values)} fields, the header has {len(header)}")
        else:
            rows.append((start, {h: v.strip() for h, v in zip(header, values, strict=False)}))
        start = reader.line_num + 1
    if not rows and not problems:
        problems.append("line 2: the file has a header but no lines")
    return rows, problems


def check(rt: PluginContext, settings: AgencySettings, path: Path, now: dt.datetime) -> CheckedFile:
    """Check every line of ``path``; raise ReturnFileError listing all problems."""
    rows, problems = read_rows(path)
    if problems:
        raise ReturnFileError(path.name, problems)
    today = rt.today(now)
    agency_id = rows[0][1]["agency"]
    agency = settings.agency(agency_id)
    if agency is None:
        raise ReturnFileError(path.name, [f"line {rows[0][0]}: unknown agency {agency_id!r} "
                                          f"(configured: {', '.join(a.id for a in settings.agencies)})"])
    txns = [r["transaction_id"] for _, r in rows if r["transaction_id"]]
    imported_before = records.known_transactions(rt.db, agency.id, txns)
    checker = _Checker(rt, agency, today, imported_before)
    lines = [checker.line(number, row) for number, row in rows]
    if checker.problems:
        raise ReturnFileError(path.name, checker.problems)
    return CheckedFile(agency, tuple(line for line in lines if line is not None),
                       hashlib.sha256(path.read_bytes()).hexdigest())


class _Checker:
    """Checks lines in file order, keeping what earlier lines used up (balances, transaction ids)."""

    def __init__(self, rt: PluginContext, agency: Agency, today: dt.date, imported_before: dict[str, str]):
        self.rt, self.agency, self.today, self.imported_before = rt, agency, today, imported_before
        self.problems: list[str] = []
        self.seen: dict[str, int] = {}
        self.left: dict[int, int] = {}  # case -> balance left after the lines so far
        self.closed: dict[int, int] = {}  # placement -> line that closes it

    def fail(self, number: int, text: str) -> None:
        self.problems.append(f"line {number}: {text}")

    def line(self, number: int, row: dict[str, str]) -> ReturnLine | None:
        before = len(self.problems)
        if row["agency"] != self.agency.id:
            self.fail(
                number, f"agency {row['agency']!r} is not {self.agency.id!r}; a return file comes from one agency"
            )
        txn = row["transaction_id"]
        if not txn:
            self.fail(number, "transaction_id is empty")
        elif txn in self.seen:
            self.fail(number, f"duplicate transaction id {txn!r} (also on line {self.seen[txn]})")
        elif txn in self.imported_before:
            self.fail(number, f"duplicate transaction id {txn!r}: imported before, on {self.imported_before[txn]}")
        else:
            self.seen[txn] = number
        kind = row["type"].lower()
        if kind not in TYPES:
            self.fail(number, f"type {row['type']!r} is not one of {', '.join(TYPES)}")
        try:
            at = calendar.parse_moment(row["date"], self.rt.config.zone)
        except ValueError:
            self.fail(number, f"date {row['date']!r} is not a date such as 2026-06-30")
            at = None
        day = calendar.local_date(at, self.rt.config.zone) if at else None
        if day is not None and day > self.today:
            self.fail(number, f"date {day} is in the future")
        case = self._case(number, row["case_id"])
        if case is None or day is None or kind not in TYPES or len(self.problems) > before:
            return None
        placement = self._placement(number, case.id, day, kind)
        if placement is None:
            return None
        amount = self._amount(number, row, case, kind, txn)
        detail = row.get("detail") or None
        if kind in ("status", "closure") and not detail:
            self.fail(number, f"a {kind} line needs a detail (the {'new status' if kind == 'status' else 'reason'})")
        if len(self.problems) > before:
            return None
        # ``day`` comes from ``at``, so ``at`` is set here too.
        return ReturnLine(number, txn, case.id, kind, day, cast(dt.datetime, at), placement.id, amount, case.currency,
                          detail)

    def _case(self, number: int, text: str) -> Any:
        if not (text.isascii() and text.isdigit()):
            self.fail(number, f"case_id {text!r} is not a case number")
            return None
        try:
            return self.rt.store.case(int(text))
        except NotFound:
            self.fail(number, f"unknown case {text}")
            return None

    def _placement(self, number: int, case_id: int, day: dt.date, kind: str) -> Placement | None:
        own = records.placements(self.rt.db, agency=self.agency.id, case_ids=[case_id])
        if not own:
            self.fail(number, f"case {case_id} is not placed with {self.agency.id}")
            return None
        covering = [p for p in own if p.covers(day)]
        if not covering:
            spans = ", ".join(f"{p.placed_on} to {p.ended_on or 'now'}" for p in own)
            self.fail(number, f"case {case_id} was not placed with {self.agency.id} on {day} (placed {spans})")
            return None
        placement = covering[-1]
        if kind == "closure":
            if not placement.is_open:
                self.fail(number, f"placement {placement.id} of case {case_id} already ended on {placement.ended_on} "
                                  f"({placement.end_kind}); there is nothing to close")
            elif placement.id in self.closed:
                self.fail(number, f"case {case_id} is already closed on line {self.closed[placement.id]}")
            else:
                self.closed[placement.id] = number
        return placement

    def _amount(self, number: int, row: dict[str, str], case: Any, kind: str, txn: str) -> int | None:
        text = row.get("amount", "")
        currency = row.get("currency", "")
        if currency and currency != case.currency:
            self.fail(number, f"currency {currency} is not the case's currency {case.currency}")
        if kind != "payment":
            if text:
                self.fail(number, f"amount is only for payment lines, not {kind}")
            return None
        if not text:
            self.fail(number, "a payment line needs an amount")
            return None
        try:
            amount = money.parse(text, case.currency)
        except money.MoneyError as exc:
            self.fail(number, str(exc))
            return None
        if amount <= 0:
            self.fail(number, "a payment must be positive")
            return None
        if not case.is_open:
            self.fail(number, f"case {case.id} is {case.status.value}; a payment can no longer be applied")
            return None
        left = self.left.get(case.id, case.balance)
        if amount > left:
            earlier = "" if left == case.balance else " after the earlier lines of this file"
            self.fail(number, f"{money.display(amount, case.currency)} is more than the balance of case {case.id} "
                              f"({money.display(left, case.currency)}{earlier})")
            return None
        if txn and self.rt.store.payment_reference_exists(case.id, txn):
            self.fail(number, f"a payment with reference {txn!r} is already recorded on case {case.id}")
            return None
        self.left[case.id] = left - amount
        return amount


def apply(rt: PluginContext, checked: CheckedFile, file_name: str, now: dt.datetime) -> Imported:
    """Write a checked file in one transaction: payments through dunning's pay, commission, events."""
    db, agency = rt.db, checked.agency
    counts = {t: 0 for t in TYPES}
    collected: dict[str, int] = {}
    commission: dict[str, int] = {}
    recalled: list[int] = []
    with rt.transaction():
        import_id = records.add_import(db, agency.id, file_name, checked.sha256, len(checked.lines),
                                       calendar.to_text(now))
        for line in checked.lines:
            counts[line.type] += 1
            placement = records.placement(db, line.placement_id)
            charge = None
            if line.type == "payment":
                assert line.amount is not None and line.currency is not None
                charge = commission_on(agency.commission, line.amount, line.currency,
                                       recovered_before=records.recovered(db, placement.id),
                                       age_days=placement.dpd_at_placement or 0)
                operations.pay(rt, line.case_id, money.format_minor(line.amount, line.currency), at=line.at, now=now,
                               reference=line.transaction_id)
                collected[line.currency] = collected.get(line.currency, 0) + line.amount
                commission[line.currency] = commission.get(line.currency, 0) + charge.amount
            records.add_transaction(
                db, agency=agency.id, transaction_id=line.transaction_id, placement_id=placement.id,
                case_id=line.case_id, kind=line.type, happened_on=line.day, amount=line.amount,
                currency=line.currency, commission=charge.amount if charge else None,
                rate=charge.rate if charge else None, detail=line.detail, import_id=import_id, line=line.line)
            case = rt.store.case(line.case_id)
            data: dict[str, Any] = {"agency": agency.id, "transaction_id": line.transaction_id,
                                    "placement_id": placement.id, "on": line.day.isoformat(), "file": file_name,
                                    "line": line.line}
            if charge is not None:
                data |= {"amount": line.amount, "currency": line.currency, "commission": charge.amount,
                         "commission_rate": charge.rate}
            if line.detail:
                data["detail"] = line.detail
            _event(rt, f"agency:{line.type}", case, now, data)
            if line.type == "contact":
                # The contact caps count every attempt, the agency's included (cn counts agencies'
                # connected calls): a reported contact counts as a call that reached the debtor.
                rt.record_attempt(debtor_id=case.debtor_id, case_id=case.id, channel="phone", at=line.at,
                                  source=f"agency:{agency.id}", key=f"agency:{agency.id}:{line.transaction_id}",
                                  connected=True, outcome="agency_contact")
            if line.type == "payment" and not case.is_open and placement.is_open:
                _end(rt, case, placement, now, line.day, "paid", f"collected in full by {agency.id}")
            elif line.type == "closure" and placement.is_open:
                _end(rt, case, placement, now, line.day, "closure", f"closed by {agency.id}: {line.detail}")
                if case.is_open and case.stage is Stage.AGENCY:
                    back_to = lifecycle.recall_target(case)
                    operations.escalate(rt, case.id, back_to.value, now=now, by=f"agency:{agency.id}",
                                        reason=f"closed by {agency.name}: {line.detail}")
                    recalled.append(case.id)
    return Imported(agency.id, len(checked.lines), counts["payment"], counts["contact"], counts["status"],
                    counts["closure"], collected, commission, tuple(recalled))


def _end(rt: PluginContext, case: Any, placement: Placement, now: dt.datetime, on: dt.date, kind: str,
         reason: str) -> None:
    """End a placement the agency itself ended (on the day its line gives): it knows, so no recall file lists it."""
    records.end_placement(rt.db, placement.id, ended_at=calendar.to_text(now), ended_on=on,
                          kind=kind, reason=reason, balance=case.balance, listed=False)
    _event(rt, "agency:placement_ended", case, now, {"placement_id": placement.id, "agency": placement.agency,
                                                     "how": kind, "reason": reason, "balance": case.balance})


def _event(rt: PluginContext, kind: str, case: Any, now: dt.datetime, data: dict[str, Any]) -> None:
    rt.append_event(kind, case, now, channel="agency", data=data)

