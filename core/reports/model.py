"""What a report is: named tables of plain values, with the notes that state its rules; and how it prints."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from dunning import money


@attrs.frozen
class Table:
    """One table of a report. Money columns hold minor units of the row's ``currency`` column."""

    name: str
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    money: frozenset[str] = frozenset()
    rates: frozenset[str] = frozenset()

    def dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]

    def column(self, name: str) -> list[Any]:
        index = self.columns.index(name)
        return [row[index] for row in self.rows]


@attrs.frozen
class Report:
    name: str
    as_of: dt.date
    tables: tuple[Table, ...]
    filters: Mapping[str, str] = attrs.field(factory=dict)
    notes: tuple[str, ...] = ()

    def table(self, name: str) -> Table:
        return next(t for t in self.tables if t.name == name)


def rate(part: int, whole: int) -> float | None:
    """``part / whole`` to four places; None when there is nothing to divide by."""
    return round(part / whole, 4) if whole else None


def _cell(table: Table, row: Sequence[Any], column: str, value: Any, *, for_people: bool) -> Any:
    if value is None:
        return "" if for_people else None
    if column in table.money and "currency" in table.columns:
        currency = row[table.columns.index("currency")]
        return money.display(value, currency) if for_people else money.format_minor(value, currency)
    if column in table.rates and for_people:
        return f"{value * 100:.1f}%"
    return value


def as_json(report: Report) -> dict[str, Any]:
    """The report for machines: amounts in minor units, rates as fractions."""
    return {
        "report": report.name,
        "as_of": report.as_of.isoformat(),
        "filters": dict(report.filters),
        "notes": list(report.notes),
        "tables": {t.name: {"title": t.title, "money": sorted(t.money), "rows": t.dicts()} for t in report.tables},
    }


def as_csv(report: Report) -> str:
    """Every table under one header: ``table`` first, then the union of the columns; amounts in major units."""
    columns: list[str] = []
    for table in report.tables:
        columns.extend(c for c in table.columns if c not in columns)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["table", *columns])
    for table in report.tables:
        for row in table.rows:
            cells = {c: _cell(table, row, c, v, for_people=False) for c, v in zip(table.columns, row, strict=True)}
            writer.writerow([table.name, *("" if cells.get(c) is None else cells[c] for c in columns)])
    return out.getvalue()


def as_text(report: Report) -> list[tuple[str, list[str], list[list[Any]]]]:
    """Each table as (title, headers, rows) ready for people: amounts formatted, rates in per cent."""
    return [
        (t.title, list(t.columns),
         [[_cell(t, row, c, v, for_people=True) for c, v in zip(t.columns, row, strict=True)] for row in t.rows])
        for t in report.tables
    ]
