"""CSV files that leave the building: cells a spreadsheet would run as formulas are neutralised.

Agency placement and recall files, print-batch manifests, call exports and
statements of account are opened in spreadsheets by people outside the
system. A debtor named ``=HYPERLINK("http://x")`` would become a live
formula there (CSV injection). Following OWASP's advice, a cell that starts
with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading
apostrophe, which spreadsheets read as "this is text". Plain numbers
(``-12.50``) and E.164 phone numbers (``+14155550101``) are no formula and
stay as they are, so amounts still add up and a dialer still reads numbers.

Plugins writing such files use ``writer`` and ``dict_writer`` in place of
the ``csv`` module's.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")


def neutralise(value: Any) -> Any:
    """``value`` as a spreadsheet may safely read it (non-strings pass unchanged)."""
    if not isinstance(value, str) or not value.startswith(TRIGGERS):
        return value
    if _PLAIN_NUMBER.fullmatch(value) or _E164.fullmatch(value):
        return value
    return "'" + value


class _Writer:
    def __init__(self, inner: Any):
        self._inner = inner

    def writerow(self, row: Sequence[Any]) -> Any:
        return self._inner.writerow([neutralise(v) for v in row])

    def writerows(self, rows: Iterable[Sequence[Any]]) -> None:
        for row in rows:
            self.writerow(row)


class _DictWriter:
    def __init__(self, inner: csv.DictWriter):
        self._inner = inner

    def writeheader(self) -> Any:
        return self._inner.writeheader()

    def writerow(self, row: Mapping[str, Any]) -> Any:
        return self._inner.writerow({k: neutralise(v) for k, v in row.items()})

    def writerows(self, rows: Iterable[Mapping[str, Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(stream: Any, **options: Any) -> _Writer:
    """``csv.writer(stream, **options)`` whose cells are neutralised."""
    return _Writer(csv.writer(stream, **options))


def dict_writer(stream: Any, fieldnames: Sequence[str], **options: Any) -> _DictWriter:
    """``csv.DictWriter(stream, fieldnames, **options)`` whose cells are neutralised."""
    return _DictWriter(csv.DictWriter(stream, fieldnames=fieldnames, **options))
