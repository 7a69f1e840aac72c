"""How commands print: JSON for machines, aligned tables for people. Plugins' commands use these too.

Listings print as they read, so memory stays flat at any size:

- ``print_rows`` (tables) takes its column widths from the first page of rows
  (``PAGE``, 1,000). A listing that fits in one page prints exactly as a table
  built from every row would; past the first page, a cell wider than its column
  pushes the rest of its line to the right (nothing is cut).
- ``print_json_array`` prints a listing that fits in one page as indented JSON,
  as ``print_json`` does; a longer one as one compact element per line between
  ``[`` and ``]``, which is still one valid JSON array (and much faster to write).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import sys
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TextIO

import click

# Rows read (and held) before the first line is printed: the widths of a table's columns come from them.
PAGE = 1_000


def print_json(data: Any) -> None:
    """``data`` as indented JSON (dates and other values as text), for ``--json``."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def print_json_array(items: Iterable[Any], *, page: int = PAGE) -> None:
    """``items`` as one JSON array, written as they come (see the module's docstring)."""
    print_json_records(items, json.JSONEncoder(ensure_ascii=False, default=str).encode, page=page)


def print_json_records(items: Iterable[Any], encode: Callable[[Any], str],
                       as_data: Callable[[Any], Any] | None = None, *, page: int = PAGE) -> None:
    """``print_json_array`` of records that ``encode`` writes as compact JSON itself (faster than the encoder
    on a dict, for a listing of a million); a short listing is indented, from ``as_data(record)``."""
    iterator = iter(items)
    first = list(itertools.islice(iterator, page))
    if len(first) < page:
        print_json(first if as_data is None else [as_data(item) for item in first])
        return
    out = _stdout()
    with _reader_gone_quietly():
        out.write("[\n" + ",\n".join(map(encode, first)))
        while chunk := list(itertools.islice(iterator, page)):  # a page per write
            out.write(",\n" + ",\n".join(map(encode, chunk)))
        out.write("\n]\n")
        out.flush()


def width(text: str) -> int:
    """Columns ``text`` takes on a terminal: Chinese characters take two."""
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def printable(text: str) -> str:
    """``text`` safe for a terminal: control characters shown escaped, so stored data cannot move the cursor."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


def print_table(rows: Sequence[Sequence[Any]], headers: Sequence[str], *, empty: str = "(none)",
                indent: str = "") -> None:
    """Rows under their headers in aligned columns; ``empty`` when there are none."""
    print_rows(rows, headers, empty=empty, indent=indent)


def print_rows(rows: Iterable[Sequence[Any]], headers: Sequence[str], *, empty: str = "(none)",
               indent: str = "", page: int = PAGE) -> None:
    """Rows under their headers, printed as they come; column widths from the first ``page`` rows."""
    iterator = iter(rows)
    first = [_cells(row) for row in itertools.islice(iterator, page)]
    if not first:
        click.echo(indent + empty)
        return
    widths = [max(width(h), *(width(r[i]) for r in first)) for i, h in enumerate(headers)]
    out = _stdout()

    def lines(rows: Iterable[list[str]]) -> str:
        return "".join(indent + "  ".join(v + " " * (w - width(v)) for v, w in zip(row, widths, strict=False)).rstrip()
                       + "\n" for row in rows)

    with _reader_gone_quietly():
        out.write(lines([list(headers), *first]))
        while chunk := list(itertools.islice(iterator, page)):  # a page per write
            out.write(lines(map(_cells, chunk)))
        out.flush()


def _cells(row: Sequence[Any]) -> list[str]:
    return ["" if v is None else printable(str(v)) for v in row]


def _stdout() -> TextIO:
    """Where click.echo writes: the terminal or pipe, or a CliRunner's buffer in tests."""
    return sys.stdout


@contextlib.contextmanager
def _reader_gone_quietly() -> Iterator[None]:
    """``dunning events | head``: when the reader closes the pipe, stop reading and end quietly (exit code 0)."""
    try:
        yield
    except BrokenPipeError:
        # Python would report the failed flush of stdout at exit: point stdout at /dev/null first.
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise SystemExit(0) from None
