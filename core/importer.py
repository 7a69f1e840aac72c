"""Import debtors and obligations from CSV or JSON, validated whole before anything is written."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import difflib
import functools
import hashlib
import io
import json
import marshal
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs

from dunning import import_guard, money, phones, text_checks
from dunning.compliance.jurisdictions import is_country, subdivision_error
from dunning.compliance.zones import stored_zone
from dunning.ledger.interest_rules import parse_contract_rate
from dunning.models import Contact, ContactKind, ContactRole, Debtor, DebtorKind
from dunning.store import ImportedObligation, ImportResult, Store
from dunning.store.import_staging import ImportStaging
from dunning.store.obligation_import import ObligationRow

COLUMNS = (
    "debtor_id", "name", "kind", "email", "mobile", "work_phone", "home_phone", "address",
    "country", "region", "timezone", "reference", "amount", "currency", "issued_on", "due_on",
)
REQUIRED = ("debtor_id", "name", "reference", "amount", "currency", "due_on")
# The cells that say who the debtor is and how to reach them; every other cell is the obligation's.
_DEBTOR_CELLS = ("debtor_id", "name", "kind", "email", "mobile", "work_phone", "home_phone", "address", "country",
                 "region", "timezone", "locale", "iban", "contacts")
_OBLIGATION_REQUIRED = tuple(f for f in REQUIRED if f not in _DEBTOR_CELLS)
# Read besides COLUMNS: the debtor's language, (JSON) a list of further contacts, for a sync
# (`import --sync`) the books' open amount and status of each item, the IBAN the debtor
# pays from (bank statements match a transfer from it to the debtor), and an interest rate
# agreed for the obligation.
OPTIONAL_EXTRA = ("locale", "contacts", "open_amount", "status", "iban", "interest_rate")
# An unknown column this close to a known one is taken for a misspelling and refused:
# a "mobil" column silently dropped would lose the debtor's number.
MISSPELLING_CUTOFF = 0.75
_PHONE_FIELDS = {"mobile": ContactKind.MOBILE, "work_phone": ContactKind.WORK, "home_phone": ContactKind.HOME}
_PHONE_KIND_VALUES = frozenset(kind.value for kind in _PHONE_FIELDS.values())
_DEBTOR_KINDS = frozenset(kind.value for kind in DebtorKind)


@attrs.frozen
class RowError:
    line: int
    field: str
    problem: str


# At most this many problems (and warnings) are listed; the rest are counted. A file exported with the wrong
# column order has a problem on every one of its million rows: the first ones say what is wrong.
SHOWN = 200


class ImportError_(ValueError):
    """The file has bad rows; nothing was written."""

    def __init__(self, source: str, errors: list[RowError], unit: str = "line", more: int = 0):
        self.source, self.errors, self.unit, self.more = source, errors, unit, more
        lines = [f"{source}: {unit} {e.line}: {e.field}: {e.problem}" for e in errors]
        if more:
            lines.append(f"{source}: and {more} more problems on later {unit}s (the first {len(errors)} are shown)")
        super().__init__("\n".join(lines))

    def __reduce__(self) -> tuple[Any, ...]:  # sent whole from the checking process (dunning.import_worker)
        return type(self), (self.source, self.errors, self.unit, self.more)


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
    if not prefix and _plainly_clean(row):
        return []
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


def _plainly_clean(row: Mapping[str, Any]) -> bool:
    """True when every value of ``row`` is text without a control character (one search for the row: most rows
    of a file are clean, and each cell checked on its own costs more than the rest of the row's checks)."""
    single: list[str] = []
    multi: list[str] = []
    for key, value in row.items():
        if type(value) is not str:
            return False
        (multi if key in text_checks.MULTILINE_FIELDS else single).append(value)
    return (text_checks.control_character(" ".join(single)) is None
            and text_checks.control_character(" ".join(multi), multiline=True) is None)


def _clean_record_check(header: list[str]) -> Callable[[list[str]], bool]:
    """``_plainly_clean`` for a CSV record with a cell for every column of ``header``, read from the record's
    cells by position (no dict to walk): the single-line cells joined and searched once, the multi-line ones
    once (``_plainly_clean`` joins the same cells in the same order)."""
    single = [i for i, column in enumerate(header) if column not in text_checks.MULTILINE_FIELDS]
    multi = [i for i, column in enumerate(header) if column in text_checks.MULTILINE_FIELDS]
    if not multi:
        return lambda values: text_checks.control_character(" ".join(values)) is None

    def clean(values: list[str]) -> bool:
        return (text_checks.control_character(" ".join([values[i] for i in single])) is None
                and text_checks.control_character(" ".join([values[i] for i in multi]), multiline=True) is None)

    return clean


class RowReader:
    """A file's rows with their line (CSV) or item (JSON) numbers, read as they are iterated.

    The header (or, for JSON, the whole file: its format needs it) is
    checked when the reader is made, and raises at once. Problems found in
    the rows themselves (a control character, a CSV error) collect in
    ``problems`` for the caller to report with its own, after the pass.
    CSV is read through a buffered text stream: a file of a million rows
    takes the memory of one row.
    """

    def __init__(self, path: Path, encoding: str = "utf-8"):
        self.path, self.encoding = path, encoding
        self.problems: list[RowError] = []
        self.unit = "item" if path.suffix.lower() == ".json" else "line"
        self._items: list[tuple[int, dict[str, Any]]] | None = None
        if self.unit == "item":
            self._items = _json_items(path, _decode(path, encoding))
            return
        self._stream = _open_text(path, encoding)
        # newline="" keeps line breaks inside quoted cells (a postal address on several lines).
        self._reader = csv.DictReader(self._stream)
        try:
            header = self._read(lambda: self._reader.fieldnames) or []
        except csv.Error as exc:
            self._stream.close()
            raise ImportError_(str(path), [RowError(1, "file", f"not valid CSV: {exc}")]) from None
        problems = [RowError(1, c, "column is missing from the header") for c in REQUIRED if c not in header]
        problems += _column_problems(header, 1)
        problems += [RowError(1, "header", p) for c in header if (p := text_checks.control_character(c))]
        if problems:
            self._stream.close()
            raise ImportError_(str(path), problems)

    def _read(self, step: Any) -> Any:
        try:
            return step()
        except UnicodeDecodeError:
            self._stream.close()
            raise _decode_error(self.path, self.encoding) from None

    def __iter__(self) -> Iterator[tuple[int, dict[str, Any]]]:
        if self._items is not None:
            yield from self._items
            return
        # The records as lists, each made a dict here: what ``csv.DictReader`` gives (blank lines skipped,
        # a short record's missing cells None), without its per-row Python layer.
        cells = self._reader.reader
        header = list(self._reader.fieldnames or [])
        width = len(header)
        clean = _clean_record_check(header)
        try:
            while True:
                line = cells.line_num + 1  # where the record starts, even when a cell spans lines
                try:
                    values = next(cells)
                    while not values:
                        values = next(cells)
                except StopIteration:
                    break
                except csv.Error as exc:  # a cell over the csv module's size limit, a NUL in older Pythons
                    self.problems.append(RowError(line, "file", f"not valid CSV: {exc}"))
                    break
                except UnicodeDecodeError:
                    self._stream.close()
                    raise _decode_error(self.path, self.encoding) from None
                row: dict[str, Any] = dict(zip(header, values, strict=False))
                if len(values) < width:
                    row.update(dict.fromkeys(header[len(values):]))
                if not (clean(values) if len(values) == width else _plainly_clean(row)):
                    self.problems += _text_problems(line, row)
                if len(values) > width:  # more cells than header columns
                    row["__extra__"] = values[width:]
                yield line, row
        finally:
            self._stream.close()


def _open_text(path: Path, encoding: str) -> io.TextIOWrapper:
    if encoding.replace("_", "-").lower() in ("utf-8", "utf8"):
        encoding = "utf-8-sig"
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise ImportError_(str(path), [RowError(1, "file", f"unknown encoding {encoding!r}")]) from None
    try:
        return open(path, encoding=encoding, newline="")  # closed by the reader
    except OSError as exc:
        raise ImportError_(str(path), [RowError(1, "file", f"cannot be read: {exc.strerror}")]) from None


def _decode_error(path: Path, encoding: str) -> ImportError_:
    """The first byte of ``path`` that is not ``encoding`` text, named by its line: found again by a pass over the
    bytes (the text stream decodes in blocks and does not say where the block began)."""
    try:
        _decode(path, encoding)
    except ImportError_ as exc:
        return exc
    return ImportError_(str(path), [RowError(1, "file", f"not {encoding} text")])


def _json_items(path: Path, text: str) -> list[tuple[int, dict[str, Any]]]:
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
    return rows


def read_rows(path: Path, encoding: str = "utf-8") -> tuple[list[tuple[int, dict[str, Any]]], str]:
    """Every row with its line (CSV) or item (JSON) number, and which of the two it is (in memory: for --sync)."""
    reader = RowReader(path, encoding)
    rows = list(reader)
    if reader.problems:
        raise ImportError_(str(path), reader.problems, unit=reader.unit)
    return rows, reader.unit


def _text(row: Mapping[str, Any], field: str) -> str:
    value = row.get(field)
    if value is None:
        return ""
    return value.strip() if type(value) is str else str(value).strip()


def validate(rows: Iterable[tuple[int, Mapping[str, Any]]], store: Store | None,
             warnings: list[RowError] | None = None) -> tuple[list[ImportedObligation], list[RowError]]:
    """Every row checked; errors stop the import, ``warnings`` (numbers not in use, ...) only report.

    In memory, for a file's rows as a list (``--sync``, the demo); ``import_file`` streams with ``check_row``.
    """
    items: list[ImportedObligation] = []
    errors: list[RowError] = []
    warnings = [] if warnings is None else warnings
    debtors: dict[str, tuple[int, Debtor]] = {}
    references: dict[tuple[str, str], int] = {}
    for line, row in rows:
        item, problems = check_row(line, row, warnings)
        debtor_id, reference = _text(row, "debtor_id"), _text(row, "reference")
        if debtor_id and reference:
            seen = references.get((debtor_id, reference))
            if seen is not None:
                problems.append(RowError(line, "reference",
                                         f"{reference!r} for debtor {debtor_id!r} already appears on line {seen}"))
            else:
                references[(debtor_id, reference)] = line
        if problems or item is None:
            errors.extend(problems)
            continue
        debtor = item.debtor
        first = debtors.get(debtor_id)
        if first is None:
            debtors[debtor_id] = (line, debtor)
        elif (first[1].name, first[1].kind) != (debtor.name, debtor.kind):
            errors.append(RowError(line, "name", f"debtor {debtor_id!r} has different details on line {first[0]}"))
            continue
        if store is not None:
            clash = _clash_with_store(store, debtor_id, reference, item.amount, item.currency, item.due_on)
            if clash:
                errors.append(RowError(line, "reference", clash))
                continue
        items.append(item)
    return items, errors


def _stripped_cells(row: Mapping[str, Any], only: Iterable[str] | None = None) -> dict[str, str]:
    """Each cell's text, stripped, once: the checks read most cells more than once. ``only``: just these cells
    (those present in the row)."""
    if only is not None:
        row = {key: row[key] for key in only if key in row}
    return {key: "" if value is None else value.strip() if type(value) is str else str(value).strip()
            for key, value in row.items()}


# The cells ``check_obligation`` reads: the obligation's own (a debtor's later rows share the rest).
_OBLIGATION_CELLS = ("reference", "amount", "currency", "issued_on", "due_on", "interest_rate")


def _check_shape(row: Mapping[str, Any], cells: Mapping[str, str], required: Iterable[str],
                 bad: Callable[[str, str], None]) -> None:
    """The row's cells against the header, and the ``required`` cells present."""
    if "__extra__" in row:
        bad("row", "has more cells than the header has columns")
    for field in required:
        if not cells.get(field, ""):
            bad(field, "is required")


def check_row(line: int, row: Mapping[str, Any],
              warnings: list[RowError]) -> tuple[ImportedObligation | None, list[RowError]]:
    """One row on its own: the obligation it gives, or the problems that stop it (no look at other rows)."""
    packed, problems = check_cells(line, row, warnings)
    return (None if packed is None else item_of(packed)), problems


def check_cells(line: int, row: Mapping[str, Any], warnings: list[RowError]) -> tuple[ObligationRow | None,
                                                                                    list[RowError]]:
    """``check_row`` with the obligation as the writing pass takes it (``row_of``'s plain values), built from the
    cells without a model object in between: a file's check makes one per row."""
    problems: list[RowError] = []
    cells = _stripped_cells(row)

    def bad(field: str, problem: str) -> None:
        problems.append(RowError(line, field, problem))

    _check_shape(row, cells, REQUIRED, bad)
    debtor_id, reference = cells.get("debtor_id", ""), cells.get("reference", "")
    kind = cells.get("kind", "") or "person"
    if kind not in _DEBTOR_KINDS:
        bad("kind", f"must be person or company, got {kind!r}")
    currency, amount, due_on, issued_on = _money_and_dates(cells, bad)
    timezone = cells.get("timezone", "") or None
    if timezone:
        try:
            _time_zone(timezone)
        except ValueError as exc:
            bad("timezone", str(exc))
    country = cells.get("country", "").upper() or None
    if country and not _is_country(country):
        bad("country", f"must be an ISO 3166-1 two-letter country code, got {country!r}")
    # Optional: the subdivision (US-NY) whose contact rules may differ from the country's.
    region = cells.get("region", "").upper() or None
    if region:
        problem = _subdivision_error(country, region)
        if problem:
            bad("region", problem)
        elif country is None:
            country = region.split("-", 1)[0]
    interest_rate = _interest_rate(cells, bad)
    email = cells.get("email", "")
    if email and not _is_email(email):
        bad("email", f"not an email address: {email!r}")
    # (kind, value, role, name) as ``row_of`` packs a Contact; with the zones of each debtor's own number.
    contacts: list[tuple[str, str, str, str | None]] = []
    number_zones: dict[str, tuple[str, ...]] = {}
    if email:
        contacts.append(("email", email, "debtor", None))
    for field, contact_kind in _PHONE_FIELDS.items():
        number = cells.get(field, "")
        if not number:
            continue
        e164 = _phone(number, country, field, line, bad, warnings, number_zones)
        if e164:
            contacts.append((contact_kind.value, e164, "debtor", None))
    address = cells.get("address", "")
    if address:
        contacts.append(("postal", address, "debtor", None))
    others = row.get("contacts")
    if others is not None and not isinstance(others, str):  # JSON rows only
        contacts.extend((c.kind.value, c.value, c.role.value, c.name)
                        for c in _other_contacts(others, debtor_id, bad, country, line, warnings, number_zones))
    accounts = _accounts(cells.get("iban", ""), bad)

    if problems:
        return None, problems
    # Where the debtor's clock is, from the numbers just parsed (no second parse): stored with the debtor.
    zone = stored_zone(timezone, (number_zones.get(c[1], ()) for c in contacts
                                  if c[0] in _PHONE_KIND_VALUES and c[2] == "debtor"))
    assert due_on is not None
    return (((debtor_id, cells.get("name", ""), kind, country, timezone, cells.get("locale", "") or None, region,
              zone), tuple(contacts), reference, amount, currency, issued_on.isoformat() if issued_on else None,
             due_on.isoformat(), accounts, interest_rate), problems)


def item_of(packed: ObligationRow) -> ImportedObligation:
    """``row_of`` undone: the model objects of a checked row (for ``validate``, and a debtor the store knows)."""
    d, contacts, reference, amount, currency, issued_on, due_on, accounts, interest_rate = packed
    debtor = Debtor(id=d[0], name=d[1], kind=DebtorKind(d[2]), country=d[3], timezone=d[4], locale=d[5],
                    region=d[6], zone=d[7])
    return ImportedObligation(
        debtor=debtor, contacts=[Contact(debtor_id=d[0], kind=c[0], value=c[1], role=c[2], name=c[3])
                                 for c in contacts],
        reference=reference, amount=amount, currency=currency,
        issued_on=None if issued_on is None else dt.date.fromisoformat(issued_on),
        due_on=dt.date.fromisoformat(due_on), accounts=accounts, interest_rate=interest_rate)


def check_obligation(line: int, row: Mapping[str, Any], debtor: CheckedDebtor) -> tuple[ObligationRow | None,
                                                                                          list[RowError]]:
    """``check_row`` for a row whose debtor's cells are those of ``debtor``, checked already and found clean:
    only the obligation's own cells are checked (in ``check_row``'s order, with its messages), and the row
    comes out as the writing pass takes it (``row_of``)."""
    problems: list[RowError] = []
    cells = _stripped_cells(row, _OBLIGATION_CELLS)

    def bad(field: str, problem: str) -> None:
        problems.append(RowError(line, field, problem))

    _check_shape(row, cells, _OBLIGATION_REQUIRED, bad)
    currency, amount, due_on, issued_on = _money_and_dates(cells, bad)
    interest_rate = _interest_rate(cells, bad)
    if problems:
        return None, problems
    assert due_on is not None
    return ((debtor.row, debtor.contacts, cells.get("reference", ""), amount, currency,
             issued_on.isoformat() if issued_on else None, due_on.isoformat(), debtor.accounts, interest_rate),
            problems)


@attrs.frozen
class CheckedDebtor:
    """A debtor's cells that ``check_row`` found clean (no problem, no warning), as the writing pass takes them:
    the next rows with the same cells need only their obligation checked (``check_obligation``)."""

    cells: tuple[Any, ...]  # the row's raw values of ``_DEBTOR_CELLS``
    row: tuple[Any, ...]  # (debtor_id, name, kind, country, timezone, locale, region)
    contacts: tuple[tuple[Any, ...], ...]
    accounts: tuple[str, ...]
    digest: int  # ``_details_digest``


def _money_and_dates(cells: Mapping[str, str], bad: Any) -> tuple[str, int, dt.date | None, dt.date | None]:
    """The obligation's currency, amount (minor units), due and issue dates; problems reported to ``bad``."""
    currency = cells.get("currency", "").upper()
    amount = 0
    if currency:
        try:
            money.exponent(currency)
        except money.MoneyError as exc:
            bad("currency", str(exc))
            currency = ""
    if currency and cells.get("amount", ""):
        try:
            amount = _amount(cells.get("amount", ""), currency)
            if amount <= 0:
                bad("amount", "must be positive")
        except money.MoneyError as exc:
            bad("amount", str(exc))
    due_on = _date(cells, "due_on", bad)
    issued_on = _date(cells, "issued_on", bad)
    if due_on and issued_on and issued_on > due_on:
        bad("issued_on", f"{issued_on} is after the due date {due_on}")
    return currency, amount, due_on, issued_on


# An amount as files mostly write it: digits, and perhaps a point and at most the currency's decimals.
_PLAIN_AMOUNT = re.compile(rf"([0-9]{{1,{money.MAX_INTEGER_DIGITS}}})(?:\.([0-9]+))?")


def _amount(text: str, currency: str) -> int:
    """``money.parse(text, currency)`` (``currency`` known): a plain amount worked out here, in integers; any
    other text (commas, a sign, more decimals than the currency has) by ``money.parse``, with its messages.
    tests/core/test_import_amounts.py compares the two."""
    plain = _PLAIN_AMOUNT.fullmatch(text)
    if plain is not None:
        exponent = money.exponent(currency)
        whole, fraction = plain.group(1), plain.group(2) or ""
        if len(fraction) <= exponent:
            return int(whole) * 10**exponent + (int(fraction.ljust(exponent, "0")) if exponent else 0)
    return money.parse(text, currency)


def _interest_rate(cells: Mapping[str, str], bad: Any) -> str | None:
    """Optional: a rate agreed for the obligation ("12%" a year, "0.05%/day"), see dunning.ledger."""
    interest_rate = cells.get("interest_rate", "") or None
    if interest_rate:
        try:
            interest_rate = str(parse_contract_rate(interest_rate))
        except ValueError as exc:
            bad("interest_rate", str(exc))
    return interest_rate


# Pure checks whose answers a file repeats on every row (a country, a zone, a date): each worked out once.
_is_country = functools.lru_cache(maxsize=1024)(is_country)
_subdivision_error = functools.lru_cache(maxsize=1024)(subdivision_error)
_time_zone = functools.lru_cache(maxsize=1024)(text_checks.time_zone)
_iso_date = functools.lru_cache(maxsize=4096)(text_checks.iso_date)


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


# A debtor's number comes again on each of its rows: parsing one costs more than the rest of the row's checks.
_normalise = functools.lru_cache(maxsize=4096)(phones.normalise)


def _phone(number: str, country: str | None, field: str, line: int, bad: Any, warnings: list[RowError],
           number_zones: dict[str, tuple[str, ...]] | None = None) -> str | None:
    """The number in E.164, or None after reporting why it cannot be used; ``number_zones`` gets where it rings."""
    try:
        phone = _normalise(number, country)
    except phones.PhoneError as exc:
        bad(field, str(exc))
        return None
    if not phone.valid:
        warnings.append(RowError(line, field, f"{phone.e164} is not a number in use in its country's numbering plan"))
    if number_zones is not None:
        number_zones[phone.e164] = phone.zones
    return phone.e164


def _other_contacts(raw: Any, debtor_id: str, bad: Any, country: str | None = None, line: int = 0,
                    warnings: list[RowError] | None = None,
                    number_zones: dict[str, tuple[str, ...]] | None = None) -> list[Contact]:
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
            e164 = _phone(value, country, f"{where}.value", line, bad, [] if warnings is None else warnings,
                          number_zones)
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


def _date(cells: Mapping[str, str], field: str, bad: Any) -> dt.date | None:
    text = cells.get(field, "")
    if not text:
        return None
    try:
        return _iso_date(text)
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
    two_processes: bool | None = None,
) -> tuple[ImportResult, int]:
    """Check the whole file, then write it in one transaction; the counts and how many rows were checked.

    Two passes over the file's rows, neither holding them all: the first
    checks each row and keeps the checked ones in a scratch file
    (``ImportStaging``), the second writes them from there in one
    transaction. Any problem, in any row, and nothing is written; the
    first ``SHOWN`` problems are listed, the rest counted. ``warnings``
    receives what was imported but is doubtful (as many, then a count).
    ``two_processes``: check in a second process while this one writes
    (``dunning.import_worker``); by default for a large CSV file.
    """
    reader = RowReader(path, encoding)
    if not dry_run and reader.unit == "line" and _worth_a_second_process(path, two_processes):
        from dunning import import_worker

        if import_worker.usable(store):
            return import_worker.import_in_two_processes(store, path, reader, now=now, today=today,
                                                         warnings=warnings)
    with ImportStaging() as staging:
        _report(path, reader.unit, _check_pass(store, path, reader, staging), warnings)
        rows = (marshal.loads(payload) for payload in staging.payloads())
        if dry_run:
            return _dry_run_counts(store, rows), staging.count
        return store.import_rows(rows, now, today), staging.count


# A CSV file this large (about 40,000 rows) is checked in a second process while this one writes
# (``dunning.import_worker``); a smaller one is not worth starting it.
TWO_PROCESSES_FROM_BYTES = 4 * 2**20


def _worth_a_second_process(path: Path, asked: bool | None) -> bool:
    if asked is not None:
        return asked
    try:
        return path.stat().st_size >= TWO_PROCESSES_FROM_BYTES
    except OSError:
        return False


@attrs.frozen
class Findings:
    """What the checking pass found: the problems and refusals that stop an import, the warnings that do not
    (the first ``SHOWN`` of each, and how many more)."""

    errors: list[RowError]
    more_errors: int
    refused: list[RowError]
    more_refused: int
    warnings: list[RowError]
    more_warnings: int


def _check_pass(store: Store, path: Path, reader: RowReader, staging: ImportStaging) -> Findings:
    """The first pass: every row of ``reader`` checked, the checked ones kept in ``staging``."""
    check = _FileCheck(store, path, reader.unit, staging)
    for line, row in reader:
        check.row(line, row)
    for problem in reader.problems:
        check.errors.add(problem)
    return Findings(check.errors.shown, check.errors.more, check.refused.shown, check.refused.more,
                    check.warnings.shown, check.warnings.more)


def _report(path: Path, unit: str, found: Findings, warnings: list[str] | None) -> None:
    """``warnings`` told what the check found doubtful; raises ``ImportError_`` if it found a problem."""
    if warnings is not None:
        warnings.extend(f"{path}: {unit} {w.line}: {w.field}: {w.problem}" for w in found.warnings)
        if found.more_warnings:
            warnings.append(f"{path}: and {found.more_warnings} more warnings on later {unit}s")
    for shown, more in ((found.errors, found.more_errors), (found.refused, found.more_refused)):
        if shown:
            raise ImportError_(str(path), sorted(shown, key=lambda e: e.line), unit=unit, more=more)


class _Capped:
    """The first ``SHOWN`` of a list, and how many more there were."""

    def __init__(self) -> None:
        self.shown: list[RowError] = []
        self.more = 0

    def add(self, problem: RowError) -> None:
        if len(self.shown) < SHOWN:
            self.shown.append(problem)
        else:
            self.more += 1


class _CappedList(list[RowError]):
    """A ``list`` for ``check_row``'s warnings that keeps only the first ``SHOWN`` (and counts the rest)."""

    def __init__(self) -> None:
        super().__init__()
        self.more = 0

    def append(self, item: RowError) -> None:
        if len(self) < SHOWN:
            super().append(item)
        else:
            self.more += 1

    @property
    def shown(self) -> list[RowError]:
        return list(self)


class _FileCheck:
    """The first pass: each row checked on its own and against the rows before it and the store.

    What it remembers across rows grows with the debtors, not the rows: each
    debtor's first line, name and kind (every later row of the debtor must
    agree), and whether the store knows it. References given twice are
    found in the scratch file.
    """

    def __init__(self, store: Store, path: Path, unit: str, staging: ImportStaging):
        self.store, self.file, self.staging = store, path.name, staging
        phones.keep_compiled_patterns()  # a number per debtor: each pattern compiled once for the file
        self.errors, self.refused = _Capped(), _Capped()
        self.warnings = _CappedList()
        # id -> one int: the digest of the first row's name and kind, its line, whether the store knows the
        # debtor (``_debtor_note``); an int instead of a tuple of strings keeps a million debtors in ~100 MB.
        self.debtors: dict[str, int] = {}
        self.compared: set[str] = set()  # stored debtors whose details were compared with the file's
        self.last: CheckedDebtor | None = None  # the last debtor whose cells were found clean
        self.store_empty: bool | None = None  # whether the store had no debtor when the check began
        # References of the debtor whose rows are being read (``_first_line_of``), and those of debtors read
        # before it that are still to be written to the scratch file.
        self.run_debtor: str | None = None
        self.run_first = False  # whether the file names that debtor for the first time
        self.run_references: dict[str, int] = {}
        self.unwritten: list[tuple[str, str, int]] = []

    def row(self, line: int, row: Mapping[str, Any]) -> None:
        cells = tuple(map(row.get, _DEBTOR_CELLS))
        last = self.last
        if last is not None and cells == last.cells:  # the debtor's next row: its cells were found clean
            packed, problems = check_obligation(line, row, last)
            self._obligation_row(line, row, last, packed, problems)
            return
        warned = len(self.warnings) + self.warnings.more
        packed, problems = check_cells(line, row, self.warnings)
        clean = not problems and packed is not None and len(self.warnings) + self.warnings.more == warned
        debtor_id, reference = _text(row, "debtor_id"), _text(row, "reference")
        if debtor_id:
            self._check_reference_once(line, debtor_id, reference, problems)
        if problems or packed is None:
            for problem in problems:
                self.errors.add(problem)
            return
        debtor_row = packed[0]
        note = self.debtors.get(debtor_id)
        digest = _details_digest(debtor_row[2], debtor_row[1])
        if note is None:
            stored = self._stored(debtor_id)
            self.debtors[debtor_id] = _debtor_note(digest, line, stored)
        elif note >> 33 != digest:
            first_line = (note >> 1) & 0xFFFFFFFF
            self.errors.add(RowError(line, "name", f"debtor {debtor_id!r} has different details on line {first_line}"))
            return
        else:
            stored = bool(note & 1)
        # A debtor the store does not know has no obligation there to clash with.
        if stored:
            item = item_of(packed)
            clash = _clash_with_store(self.store, debtor_id, reference, item.amount, item.currency, item.due_on)
            if clash:
                self.errors.add(RowError(line, "reference", clash))
                return
            # A plain import never changes who a stored debtor is.
            for refusal in import_guard.refused_changes(self.store, [(line, row)], [(item.debtor, item.contacts)],
                                                        self.file, self.compared):
                self.refused.add(RowError(*refusal))
        if clean:
            self.last = CheckedDebtor(cells=cells, row=debtor_row, contacts=packed[1], accounts=packed[7],
                                      digest=digest)
        self.staging.add_row(line, packed)

    def _check_reference_once(self, line: int, debtor_id: str, reference: str, problems: list[RowError]) -> None:
        """A problem if the debtor's ``reference`` appeared on an earlier line of the file."""
        if not reference:
            return
        seen = self._first_line_of(debtor_id, reference, line)
        if seen is not None:
            problems.append(RowError(line, "reference",
                                     f"{reference!r} for debtor {debtor_id!r} already appears on line {seen}"))

    def _first_line_of(self, debtor_id: str, reference: str, line: int) -> int | None:
        """``staging.first_line_of``, without a query per row for the usual file (a debtor's rows together).

        While no row has had a problem, every debtor of the rows before
        has its note (``self.debtors``); a debtor without one is named for
        the first time, so its references can have appeared only in its own
        rows since: those are kept in memory while its rows go on, and
        written to the scratch file in batches after. A debtor named again
        later, or any row after a problem, asks the scratch file (everything
        kept in memory written to it first), as every row did before.
        """
        if debtor_id != self.run_debtor:
            self._references_to_scratch(1000)
            self.run_debtor, self.run_first = debtor_id, debtor_id not in self.debtors
        if self.run_first and not self.errors.shown and len(self.run_references) < _RUN_REFERENCES:
            seen = self.run_references.get(reference)
            if seen is None:
                self.run_references[reference] = line
            return seen
        self.run_first = False  # from here on, this debtor's references are in the scratch file
        self._references_to_scratch(0)
        return self.staging.first_line_of(debtor_id, reference, line)

    def _references_to_scratch(self, batch: int) -> None:
        """The references kept in memory written to the scratch file, once more than ``batch`` wait."""
        if self.run_references:
            assert self.run_debtor is not None
            debtor_id = self.run_debtor
            self.unwritten.extend((debtor_id, reference, line) for reference, line in self.run_references.items())
            self.run_references = {}
        if len(self.unwritten) > batch:
            self.staging.keep_references(self.unwritten)
            self.unwritten = []

    def _obligation_row(self, line: int, row: Mapping[str, Any], debtor: CheckedDebtor, packed: ObligationRow | None,
                        problems: list[RowError]) -> None:
        """``row`` for a row of the debtor checked last (its details known clean, its note taken)."""
        debtor_id, reference = debtor.row[0], _text(row, "reference")
        self._check_reference_once(line, debtor_id, reference, problems)
        if problems or packed is None:
            for problem in problems:
                self.errors.add(problem)
            return
        stored = bool(self.debtors[debtor_id] & 1)
        if stored:
            clash = _clash_with_store(self.store, debtor_id, reference, packed[3], packed[4],
                                      dt.date.fromisoformat(packed[6]))
            if clash:
                self.errors.add(RowError(line, "reference", clash))
                return
            debtor_model = Debtor(id=debtor_id, name=debtor.row[1], kind=DebtorKind(debtor.row[2]),
                                  country=debtor.row[3], timezone=debtor.row[4], locale=debtor.row[5],
                                  region=debtor.row[6], zone=debtor.row[7])
            contacts = [Contact(debtor_id=debtor_id, kind=c[0], value=c[1], role=c[2], name=c[3])
                        for c in debtor.contacts]
            for refusal in import_guard.refused_changes(self.store, [(line, row)], [(debtor_model, contacts)],
                                                        self.file, self.compared):
                self.refused.add(RowError(*refusal))
        self.staging.add_row(line, packed)

    def _stored(self, debtor_id: str) -> bool:
        """Whether the store knows the debtor (one look-up, none while the store has no debtor at all)."""
        if self.store_empty is None:
            self.store_empty = not self.store.has_debtors()
        return not self.store_empty and self.store.debtor_known(debtor_id)


# At most this many references of one debtor are kept in memory (``_FileCheck._first_line_of``); a debtor with
# more has the rest looked up in the scratch file.
_RUN_REFERENCES = 10_000


def _details_digest(kind: str, name: str) -> int:
    """64 bits standing for the debtor's name and kind: every row of a debtor must give the same."""
    text = f"{kind}\x00{name}".encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big")


def _debtor_note(digest: int, line: int, stored: bool) -> int:
    return (digest << 33) | ((line & 0xFFFFFFFF) << 1) | int(stored)


def _dry_run_counts(store: Store, rows: Iterable[ObligationRow]) -> ImportResult:
    debtors: set[str] = set()
    new_cases: set[tuple[str, str]] = set()
    added = unchanged = 0
    for row in rows:
        debtor_id, reference, currency = row[0][0], row[2], row[4]
        debtors.add(debtor_id)
        if store.existing_obligation(debtor_id, reference) is not None:
            unchanged += 1
            continue
        added += 1
        if store.open_case_id(debtor_id, currency) is None:
            new_cases.add((debtor_id, currency))
    return ImportResult(len(debtors), len(new_cases), added, unchanged)
