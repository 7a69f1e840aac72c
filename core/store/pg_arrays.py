"""A list of parameters (``id IN (?, ?, ?)``) said to PostgreSQL as one array (``id = ANY($1)``).

The store reads a batch's facts with ``IN`` lists as long as the batch: on
SQLite each length is one statement in sqlite3's cache, run in the process.
On PostgreSQL each length is a different statement to parse, plan and (after
a few runs) prepare, and psycopg parses the text of a statement with more
than 50 parameters again on every run. As one array the statement is the
same text whatever the batch's length: prepared once, parsed once.

The array goes over as PostgreSQL's array literal (``{1,2,3}``, strings
quoted) in an untyped parameter, so the server gives it the type of what it
is compared with, as it types each ``?`` of the list: ``case_id`` a
``bigint[]``, ``debtor_id`` a ``text[]``. ``x = ANY(a)`` and ``x <> ALL(a)``
mean what ``x IN (...)`` and ``x NOT IN (...)`` mean, NULLs included.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from dunning.store.dialect import _pieces

# ``IN (?, ?, ...)`` of bare parameters alone (a list of expressions or a subquery is left as it is).
_IN_LIST = re.compile(r"(\bNOT\s+)?\bIN\s*\(\s*\?(?:\s*,\s*\?)*\s*\)", re.IGNORECASE)
_NUMBERED_OR_NAMED = re.compile(r"\?\d|(?<![:\w]):[A-Za-z_]")

Group = tuple[int, int]  # (index of the list's first parameter, how many)


def collapse_in_lists(sql: str) -> tuple[str, tuple[Group, ...]]:
    """``sql`` (SQLite's, with ``?`` parameters) with each ``[NOT] IN (?, ...)`` as ``= ANY(?)`` / ``<> ALL(?)``,
    and where each list's parameters were. A statement naming or numbering its parameters is left as it is."""
    if not _IN_LIST.search(sql):
        return sql, ()
    pieces = _pieces(sql)
    if any(_NUMBERED_OR_NAMED.search(text) for text, quoted in pieces if not quoted):
        return sql, ()
    out: list[str] = []
    groups: list[Group] = []
    position = 0  # parameters before the piece being read
    for text, quoted in pieces:
        if quoted:
            out.append(text)
            continue
        start = 0
        for found in _IN_LIST.finditer(text):
            before = text[start:found.start()]
            position += before.count("?")
            count = found.group(0).count("?")
            groups.append((position, count))
            position += count
            out.append(before)
            out.append("<> ALL(?)" if found.group(1) else "= ANY(?)")
            start = found.end()
        out.append(text[start:])
        position += text[start:].count("?")
    return ("".join(out), tuple(groups)) if groups else (sql, ())


def bind_arrays(parameters: Sequence[Any], groups: Sequence[Group]) -> list[Any] | None:
    """``parameters`` with each group's values as one array literal; None when a value is neither a whole
    number nor text (nor NULL), which the list form is then left to bind."""
    bound: list[Any] = []
    start = 0
    for first, count in groups:
        bound.extend(parameters[start:first])
        literal = array_literal(parameters[first:first + count])
        if literal is None:
            return None
        bound.append(literal)
        start = first + count
    bound.extend(parameters[start:])
    return bound


def array_literal(values: Sequence[Any]) -> str | None:
    """PostgreSQL's text form of an array of ``values`` (``{1,2}``, ``{"a","b"}``), or None for another type."""
    items: list[str] = []
    for value in values:
        if value is None:
            items.append("NULL")
        elif type(value) is int:  # not a bool, whose text PostgreSQL would not read back as a number
            items.append(str(value))
        elif isinstance(value, str):
            items.append('"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"')
        else:
            return None
    return "{" + ",".join(items) + "}"
