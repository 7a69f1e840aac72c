"""Import debtors and obligations from CSV or JSON, validated whole before anything is written."""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import io
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

from dunning import import_guard, money, phones, text_checks
from dunning.compliance.jurisdictions import is_country, subdivision_error
from dunning.ledger.interest_rules import parse_contract_rate
from dunning.models import Contact, ContactKind, ContactRole, Debtor, DebtorKind
from dunning.store import ImportedObligation, ImportResult, Store

COLUMNS = (
    "debtor_id", "name", "kind", "email", "mobile", "work_phone", "home_phone", "address",
    "country", "region", "timezone", "reference", "amount", "currency", "issued_on", "due_on",
)
REQUIRED = ("debtor_id", "name", "reference", "amount", "currency", "due_on")
# Read besides COLUMNS: the debtor's language, (JSON) a list of further contacts, for a sync
# (`import --sync`) the books' open amount and status of each item, the IBAN the debtor
# pays from (bank statements match a transfer from it to the debtor), and an interest rate
# agreed for the obligation.
OPTIONAL_EXTRA = ("locale", "contacts", "open_amount", "status", "iban", "interest_rate")
# An unknown column this close to a known one is taken for a misspelling and refused:
# a "mobil" column silently dropped would lose the debtor's number.
MISSPELLING_CUTOFF = 0.75
_PHONE_FIELDS = {"mobile": ContactKind.MOBILE, "work_phone": ContactKind.WORK, "home_phone": ContactKind.HOME}


@attrs.frozen
class RowError:
    line: int
    field: str
    problem: str


class ImportError_(ValueError):
    """The file has bad rows; nothing was written."""

    def __init__(self, source: str, errors: list[RowError], unit: str = "line"):
        self.source, self.errors, self.unit = source, errors, unit
        lines = [f"{source}: {unit} {e.line}: {e.field}: {e.problem}" for e in errors]
        super().__init__("\n".join(lines))


def known_columns() -> tuple[str, ...]:
    return (*COLUMNS, *OPTIONAL_EXTRA)


def _decode(path: Path, encoding: str) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportError_(str(path), [RowError(1, "file", f"cannot be read: {exc.strerror}")]) from None
    try:
        text = data.decode("utf-8-sig" if encoding.replace("_", "-").lower() in ("utf-8", "utf8") else encoding)
    except LookupError:
        raise ImportError_(str(path), [RowError(1, "file", f"unknown encoding {encoding!r}")]) from None
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        hint = " (a spreadsheet export? try --encoding cp1252)" if encoding.lower().startswith("utf") else ""
        raise ImportError_(str(path), [RowError(line, "file", f"not {encoding} text: byte 0x{data[exc.start]:02x} "
                                                              f"cannot be read{hint}")]) from None
    return text


def _column_problems(columns: Iterable[str], where: int) -> list[RowError]:
    """Duplicated columns (which one would count?) and unknown ones that look like a misspelling."""
    problems, seen = [], set()
    known = known_columns()
    for column in columns:
        if column in seen:
            problems.append(RowError(where, column, "column appears twice in the header; which one counts is unclear"))
        seen.add(column)
        if column not in known:
            close = difflib.get_close_matches(column.lower(), known, n=1, cutoff=MISSPELLING_CUTOFF)
            if close:
                problems.append(RowError(where, column, f"unknown column; did you mean {close[0]!r}? "
                                                        "(its values would otherwise be dropped)"))
    return problems


def _text_problems(line: int, row: Mapping[str, Any], prefix: str = "") -> list[RowError]:
    """Control characters anywhere in a row's text, nested contacts included."""
    problems = []
    for key, value in row.items():
        field = f"{prefix}{key}"
        if isinstance(value, str):
            problem = text_checks.control_character(value, multiline=str(key) in text_checks.MULTILINE_FIELDS)
            if problem:
                problems.append(RowError(line, field, problem))
        elif isinstance(value, dict):
            problems += _text_problems(line, value, f"{field}.")
        elif isinstance(value, list):
            for index, item in enumerate(value, start=1):
                if isinstance(item, dict):
                    problems += _text_problems(line, item, f"{field}[{index}].")
                elif isinstance(item, str):
                    problems += _text_problems(line, {f"[{index}]": item}, field)
    return problems


def read_rows(path: Path, encoding: str = "utf-8") -> tuple[list[tuple[int, dict[str, Any]]], str]:
    """Rows with their line (CSV) or item (JSON) numbers, and which of the two it is."""
    text = _decode(path, encoding)
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ImportError_(str(path), [RowError(exc.lineno, "file", f"not valid JSON: {exc.msg}")]) from None
        except RecursionError:
            raise ImportError_(str(path), [RowError(1, "file", "not valid JSON: nested too deeply")]) from None
        if isinstance(data, dict) and isinstance(data.get("obligations"), list):
            data = data["obligations"]
        if not isinstance(data, list):
            raise ImportError_(str(path), [RowError(1, "file", "expected an array of obligation objects")])
        rows = []
        problems: list[RowError] = []
        for index, item in enumerate(data, start=1):
            if not isinstance(item, dict):
                raise ImportError_(str(path), [RowError(index, "item", "expected an object")], unit="item")
            problems += _column_problems(item, index) + _text_problems(index, item)
            rows.append((index, item))
        if problems:
            raise ImportError_(str(path), problems, unit="item")
        return rows, "item"
    # newline="" keeps line breaks inside quoted cells (a postal address on several lines).
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = reader.fieldnames or []
    except csv.Error as exc:
        raise ImportError_(str(path), [RowError(1, "file", f"not valid CSV: {exc}")]) from None
    problems = [RowError(1, c, "column is missing from the header") for c in REQUIRED if c not in header]
    problems += _column_problems(header, 1)
    problems += [RowError(1, "header", p) for c in header if (p := text_checks.control_character(c))]
    if problems:
        raise ImportError_(str(path), problems)
    rows = []
    while True:
        line = reader.line_num + 1  # where the record starts, even when a cell spans lines
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # a cell over the csv module's size limit, a NUL in older Pythons
            problems.append(RowError(line, "file", f"not valid CSV: {exc}"))
            break
        problems += _text_problems(line, {k: v for k, v in row.items() if k is not None})
        if None in row:  # more cells than header columns
            rows.append((line, {**row, "__extra__": row.pop(None)}))
        else:
            rows.append((line, row))
    if problems:
        raise ImportError_(str(path), problems)
    return rows, "line"


def _text(row: Mapping[str, Any], field: str) -> str:
    value = row.get(field)
    return "" if value is None else str(value).strip()


def validate(rows: Iterable[tuple[int, Mapping[str, Any]]], store: Store | None,
             warnings: list[RowError] | None = None) -> tuple[list[ImportedObligation], list[RowError]]:
    """Every row checked; errors stop the import, ``warnings`` (numbers not in use, ...) only report."""
    items: list[ImportedObligation] = []
    errors: list[RowError] = []
    warnings = [] if warnings is None else warnings
    debtors: dict[str, tuple[int, Debtor]] = {}
    references: dict[tuple[str, str], int] = {}
    for line, row in rows:
        problems: list[RowError] = []

        def bad(field: str, problem: str) -> None:
            # Called only within this row's iteration, so the row's `problems` and `line` are the ones meant.
            problems.append(RowError(line, field, problem))  # noqa: B023

        if "__extra__" in row:
            bad("row", "has more cells than the header has columns")
        for field in REQUIRED:
            if not _text(row, field):
                bad(field, "is required")
        debtor_id, reference = _text(row, "debtor_id"), _text(row, "reference")
        kind = _text(row, "kind") or "person"
        if kind not in DebtorKind.__members__.values():
            bad("kind", f"must be person or company, got {kind!r}")
        currency = _text(row, "currency").upper()
        amount = 0
        if currency:
            try:
                money.exponent(currency)
            except money.MoneyError as exc:
                bad("currency", str(exc))
                currency = ""
        if currency and _text(row, "amount"):
            try:
                amount = money.parse(_text(row, "amount"), currency)
                if amount <= 0:
                    bad("amount", "must be positive")
            except money.MoneyError as exc:
                bad("amount", str(exc))
        due_on = _date(row, "due_on", bad)
        issued_on = _date(row, "issued_on", bad)
        if due_on and issued_on and issued_on > due_on:
            bad("issued_on", f"{issued_on} is after the due date {due_on}")
        timezone = _text(row, "timezone") or None
        if timezone:
            try:
                text_checks.time_zone(timezone)
            except ValueError as exc:
                bad("timezone", str(exc))
        country = _text(row, "country").upper() or None
        if country and not is_country(country):
            bad("country", f"must be an ISO 3166-1 two-letter country code, got {country!r}")
        # Optional: the subdivision (US-NY) whose contact rules may differ from the country's.
        region = _text(row, "region").upper() or None
        if region:
            problem = subdivision_error(country, region)
            if problem:
                bad("region", problem)
            elif country is None:
                country = region.split("-", 1)[0]
        # Optional: a rate agreed for the obligation ("12%" a year, "0.05%/day"), see dunning.ledger.
        interest_rate = _text(row, "interest_rate") or None
        if interest_rate:
            try:
                interest_rate = str(parse_contract_rate(interest_rate))
            except ValueError as exc:
                bad("interest_rate", str(exc))
        email = _text(row, "email")
        if email and not _is_email(email):
            bad("email", f"not an email address: {email!r}")
        contacts: list[Contact] = []
        if email:
            contacts.append(Contact(debtor_id=debtor_id, kind=ContactKind.EMAIL, value=email, role=ContactRole.DEBTOR))
        for field, contact_kind in _PHONE_FIELDS.items():
            number = _text(row, field)
            if not number:
                continue
            e164 = _phone(number, country, field, line, bad, warnings)
            if e164:
                contacts.append(Contact(debtor_id=debtor_id, kind=contact_kind, value=e164, role=ContactRole.DEBTOR))
        address = _text(row, "address")
        if address:
            contacts.append(
                Contact(debtor_id=debtor_id, kind=ContactKind.POSTAL, value=address, role=ContactRole.DEBTOR)
            )
        contacts.extend(_other_contacts(row.get("contacts"), debtor_id, bad, country, line, warnings))
        accounts = _accounts(_text(row, "iban"), bad)

        if debtor_id and reference:
            seen = references.get((debtor_id, reference))
            if seen is not None:
                bad("reference", f"{reference!r} for debtor {debtor_id!r} already appears on line {seen}")
            else:
                references[(debtor_id, reference)] = line
        if problems:
            errors.extend(problems)
            continue
        debtor = Debtor(id=debtor_id, name=_text(row, "name"), kind=DebtorKind(kind), country=country,
                        timezone=timezone, locale=_text(row, "locale") or None, region=region)
        first = debtors.get(debtor_id)
        if first is None:
            debtors[debtor_id] = (line, debtor)
        elif (first[1].name, first[1].kind) != (debtor.name, debtor.kind):
            errors.append(RowError(line, "name", f"debtor {debtor_id!r} has different details on line {first[0]}"))
            continue
        assert due_on is not None
        if store is not None:
            clash = _clash_with_store(store, debtor_id, reference, amount, currency, due_on)
            if clash:
                errors.append(RowError(line, "reference", clash))
                continue
        items.append(ImportedObligation(debtor=debtor, contacts=contacts, reference=reference, amount=amount,
                                        currency=currency, issued_on=issued_on, due_on=due_on, accounts=accounts,
                                        interest_rate=interest_rate))
    return items, errors


def _accounts(iban: str, bad: Any) -> tuple[str, ...]:
    """The ``iban`` column as the compact IBAN (schwifty checks it), or nothing when empty."""
    if not iban:
        return ()
    from dunning.ledger.matching import compact_iban

    compact = compact_iban(iban)
    if compact is None:
        bad("iban", f"is not a valid IBAN (country, length or check digits), got {iban!r}")
        return ()
    return (compact,)


def _clash_with_store(
    store: Store, debtor_id: str, reference: str, amount: int, currency: str, due_on: dt.date
) -> str | None:
    row = store.existing_obligation(debtor_id, reference)
    if row is None:
        return None
    if (row[0], row[1], row[2]) != (amount, currency, due_on.isoformat()):
        return (f"{reference!r} is already recorded for debtor {debtor_id!r} with "
                f"{money.display(row[0], row[1])} due {row[2]}; correct it there, not by re-importing")
    return None


def _phone(number: str, country: str | None, field: str, line: int, bad: Any, warnings: list[RowError]) -> str | None:
    """The number in E.164, or None after reporting why it cannot be used."""
    try:
        phone = phones.normalise(number, country)
    except phones.PhoneError as exc:
        bad(field, str(exc))
        return None
    if not phone.valid:
        warnings.append(RowError(line, field, f"{phone.e164} is not a number in use in its country's numbering plan"))
    return phone.e164


def _other_contacts(raw: Any, debtor_id: str, bad: Any, country: str | None = None, line: int = 0,
                    warnings: list[RowError] | None = None) -> list[Contact]:
    """JSON rows may list more contacts: a spouse, a guarantor, an employer, an attorney."""
    if raw is None or isinstance(raw, str):
        return []  # a CSV column that happens to be called "contacts" is just an extra column
    if not isinstance(raw, list):
        bad("contacts", "must be a list of {kind, value, role, name} objects")
        return []
    found: list[Contact] = []
    for index, item in enumerate(raw, start=1):
        where = f"contacts[{index}]"
        if not isinstance(item, dict):
            bad(where, "must be an object with kind, value, role and name")
            continue
        kind, role, value = item.get("kind"), item.get("role", "debtor"), str(item.get("value") or "").strip()
        if kind not in {k.value for k in ContactKind}:
            bad(f"{where}.kind", f"must be one of {', '.join(k.value for k in ContactKind)}, got {kind!r}")
            continue
        if role not in {r.value for r in ContactRole}:
            bad(f"{where}.role", f"must be one of {', '.join(r.value for r in ContactRole)}, got {role!r}")
            continue
        if not value:
            bad(f"{where}.value", "is required")
            continue
        if kind == ContactKind.EMAIL and not _is_email(value):
            bad(f"{where}.value", f"not an email address: {value!r}")
            continue
        if kind in (ContactKind.MOBILE, ContactKind.WORK, ContactKind.HOME):
            e164 = _phone(value, country, f"{where}.value", line, bad, [] if warnings is None else warnings)
            if e164 is None:
                continue
            value = e164
        found.append(Contact(debtor_id=debtor_id, kind=kind, value=value, role=role, name=item.get("name")))
    return found


def _is_email(text: str) -> bool:
    try:
        text_checks.email_address(text)
    except ValueError:
        return False
    return True


def _date(row: Mapping[str, Any], field: str, bad: Any) -> dt.date | None:
    text = _text(row, field)
    if not text:
        return None
    try:
        return text_checks.iso_date(text)
    except ValueError as exc:
        bad(field, str(exc))
        return None


def import_file(
    store: Store,
    path: Path,
    *,
    now: dt.datetime,
    today: dt.date,
    dry_run: bool = False,
    warnings: list[str] | None = None,
    encoding: str = "utf-8",
) -> tuple[ImportResult, list[ImportedObligation]]:
    """Validate the whole file, then write it in one transaction. ``warnings`` receives what was imported but is
    doubtful."""
    rows, unit = read_rows(path, encoding)
    found: list[RowError] = []
    items, errors = validate(rows, store, found)
    if warnings is not None:
        warnings.extend(f"{path}: {unit} {w.line}: {w.field}: {w.problem}" for w in found)
    if errors:
        raise ImportError_(str(path), errors, unit=unit)
    refused = import_guard.refused_changes(store, rows, [(i.debtor, i.contacts) for i in items], path.name)
    if refused:
        raise ImportError_(str(path), [RowError(*problem) for problem in refused], unit=unit)
    if dry_run:
        unchanged = sum(1 for i in items if store.existing_obligation(i.debtor.id, i.reference) is not None)
        new_cases = {(i.debtor.id, i.currency) for i in items if store.open_case_id(i.debtor.id, i.currency) is None}
        return ImportResult(len({i.debtor.id for i in items}), len(new_cases), len(items) - unchanged, unchanged), items
    result, _ = store.import_obligations(items, now, today)
    return result, items
