"""Many rows per statement: the shaped multi-row INSERTs and UPDATEs.

``executemany`` steps SQLite once per row, and the sqlite3 module lets go
of the GIL for every step and takes it back after. On planning's writer
thread, which shares the GIL with the busy planning loop, each take-back
may wait a whole switch interval (5 ms): per row, that is slower than
writing sequentially. So rows go many to a statement: bound under the GIL
once, run without it. SQLite names a VALUES list's columns column1,
column2, ... A statement is prepared (and cached by sqlite3) once per
number of rows, and a prepared statement of thousands of rows takes
megabytes and tens of milliseconds to prepare, so the number of rows
comes from a few fixed shapes, doubling from 16 to 4096: the last chunk
is padded (by less than half) with rows of NULLs, which every statement
run through these helpers skips (an id, key or seq is never NULL).
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Sequence
from typing import Any

from dunning.store.rows import _ACTION_INSERT_COLUMNS


_SHAPES = tuple(16 << i for i in range(9))


# Action rows are 16 values, but all the cases due on a day share everything
# except the key and the case (the "tail", see ``action_row_tail``): each
# statement binds its distinct tails once, in a small VALUES table ``t``,
# and three values per row (key, case, tail number). CROSS JOIN keeps the
# rows' VALUES list the outer loop, so rows are inserted (and get their ids)
# in the order given. Rows whose key is already there are ignored.
_TAIL_COLUMNS = (
    "n, kind, step, channel, template, target, dpd, planned_for, not_before, status, required, "
    "requires_approval, options, created_at, updated_at"
)
_INSERT_ACTIONS = (
    f"WITH t({_TAIL_COLUMNS}) AS (VALUES {{tails}}) "
    f"INSERT OR IGNORE INTO actions ({_ACTION_INSERT_COLUMNS}) "
    "SELECT r.column1, r.column2, "
    + ", ".join(f"t.{c.strip()}" for c in _TAIL_COLUMNS.split(",")[1:])
    + " FROM (VALUES {rows}) AS r CROSS JOIN t WHERE t.n = r.column3 AND r.column1 IS NOT NULL"
)
# PostgreSQL keeps no join order: the rows are numbered as bound and inserted in that order.
_INSERT_ACTIONS_POSTGRES = (
    f"WITH t({_TAIL_COLUMNS}) AS (VALUES {{tails}}) "
    f"INSERT OR IGNORE INTO actions ({_ACTION_INSERT_COLUMNS}) "
    "SELECT r.column1, r.column2, "
    + ", ".join(f"t.{c.strip()}" for c in _TAIL_COLUMNS.split(",")[1:])
    + " FROM (SELECT v.*, row_number() OVER () AS position FROM (VALUES {rows}) AS v) AS r CROSS JOIN t "
    "WHERE t.n = r.column3 AND r.column1 IS NOT NULL ORDER BY r.position"
)
_TAIL_SHAPES = (4, 16, 64)
# With more distinct tails than that in one call, rows are bound whole.
_INSERT_WHOLE_ACTIONS = (
    f"INSERT OR IGNORE INTO actions ({_ACTION_INSERT_COLUMNS}) "
    "SELECT * FROM (VALUES {rows}) WHERE column1 IS NOT NULL"
)


@functools.lru_cache(maxsize=64)
def _shaped_sql(template: str, **groups: tuple[int, int]) -> str:
    """``template`` with each ``{name}`` replaced by ``count`` groups of ``width`` placeholders.

    ``groups`` maps a name to (count, width). Cached, so each shape is one
    str object and sqlite3's statement cache finds it without rebuilding it.
    """
    return template.format(**{
        name: ", ".join(["(" + ", ".join("?" * width) + ")"] * count) for name, (count, width) in groups.items()
    })


def _shape(count: int, shapes: Sequence[int], most: int) -> int:
    """The smallest shape that holds ``count`` rows, or the largest allowed (at most ``most`` rows)."""
    allowed = [size for size in shapes if size <= most] or [1]
    return next((size for size in allowed if size >= count), allowed[-1])


def _padded(rows: Sequence[Sequence[Any]], size: int, width: int) -> list[Any]:
    """``rows`` flattened into one parameter list, padded with NULL rows to ``size`` rows."""
    flat = [value for row in rows for value in row]
    flat.extend([None] * ((size - len(rows)) * width))
    return flat


def _execute_rows(conn: sqlite3.Connection, template: str, rows: Sequence[Sequence[Any]], width: int) -> int:
    """Run the ``{rows}`` statement ``template`` over ``rows`` of ``width`` values; returns rows changed."""
    if not rows:
        return 0
    before = conn.total_changes
    if len(rows) < _SHAPES[0]:
        # A few rows (one event of a delivery, say): one row per step costs
        # less than padding, and there are few steps to wait for.
        conn.executemany(_shaped_sql(template, rows=(1, width)), rows)
        return conn.total_changes - before
    most = conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // width
    start = 0
    while start < len(rows):
        size = _shape(len(rows) - start, _SHAPES, most)
        chunk = rows[start : start + size]
        conn.execute(_shaped_sql(template, rows=(size, width)), _padded(chunk, size, width))
        start += size
    return conn.total_changes - before


def _insert_actions(conn: sqlite3.Connection, rows: Sequence[tuple[Any, ...]]) -> int:
    """Insert action rows (``(key, case_id, *action_row_tail(...))``), in order, ignoring keys already there; returns
    rows inserted."""
    tails: dict[tuple[Any, ...], int] = {}
    narrow: list[tuple[Any, Any, int]] = []
    for row in rows:
        tail = row[2:]
        number = tails.get(tail)
        if number is None:
            number = tails[tail] = len(tails)
        narrow.append((row[0], row[1], number))
    if len(tails) > _TAIL_SHAPES[-1] or len(rows) < _SHAPES[0]:
        return _execute_rows(conn, _INSERT_WHOLE_ACTIONS, rows, 16)
    tail_size = _shape(len(tails), _TAIL_SHAPES, _TAIL_SHAPES[-1])
    tail_params = _padded([(number, *tail) for tail, number in tails.items()], tail_size, 15)
    most = (conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) - len(tail_params)) // 3
    # A PostgreSQL connection says so (dunning.store.postgres); sqlite3's has no such attribute.
    template = _INSERT_ACTIONS_POSTGRES if getattr(conn, "dialect", "sqlite") == "postgresql" else _INSERT_ACTIONS
    before = conn.total_changes
    start = 0
    while start < len(narrow):
        size = _shape(len(narrow) - start, _SHAPES, most)
        chunk = narrow[start : start + size]
        conn.execute(_shaped_sql(template, tails=(tail_size, 15), rows=(size, 3)),
                     tail_params + _padded(chunk, size, 3))
        start += size
    return conn.total_changes - before
