"""How the store's SQL, written for SQLite, is said to PostgreSQL: the rewrite of one statement.

docs/postgresql.md ("How dunning speaks to two databases") gives the choice and its figures: the
store's SQL is one text for both databases; the few things the two say differently are rewritten
here, mechanically, once per distinct statement (``PostgresConnection`` keeps the result):

- parameters: ``?`` and ``:name`` become psycopg's ``%s`` and ``%(name)s`` (a ``%`` of the text is
  doubled), outside quoted strings and identifiers only;
- DDL (``CREATE TABLE``, ``ALTER TABLE``): SQLite's 64-bit ``INTEGER`` is PostgreSQL's ``BIGINT``, an
  ``INTEGER PRIMARY KEY`` of its own is a generated identity (SQLite's rowid), ``REAL`` is ``DOUBLE
  PRECISION``, ``BLOB`` is ``BYTEA``, ``WITHOUT ROWID`` goes; a ``REFERENCES`` is checked at
  ``COMMIT`` (``DEFERRABLE INITIALLY DEFERRED``: SQLite does not check them, and the store may
  write a row before the one it names, in the same transaction);
- ``?1``, ``?2`` (a parameter used twice) become ``%(p1)s``: the connection hands them over by name;
- ``BEGIN IMMEDIATE`` (SQLite's take-the-write-lock-now) is ``BEGIN``;
- ``INSERT OR IGNORE`` is ``INSERT ... ON CONFLICT DO NOTHING``;
- ``x IS ?`` and ``x IS NOT ?`` (SQLite's null-safe equality), and ``x IS y`` of two columns (``IS t.c`` too), are
  ``IS [NOT] DISTINCT FROM``;
- a unary ``+`` before a column (SQLite's "do not use an index for this") goes;
- ``CROSS JOIN t ON`` (SQLite's "join in this order") is ``JOIN t ON``;
- ``min(a, b)`` and ``max(a, b)`` with two or more arguments are ``LEAST`` and ``GREATEST``;
  ``instr`` is ``strpos``; ``LIMIT -1`` (no limit) is ``LIMIT ALL``; ``temp.t`` is ``pg_temp.t``;
- ``FROM (VALUES ...)`` gets a name (``AS v``), which PostgreSQL requires, and so does an unnamed
  ``FROM (SELECT ...)`` (``AS _subquery1``); ``WHERE 1`` is ``WHERE TRUE``;
- ``json_array(...)`` is ``json_build_array(...)::text``; ``json_extract(col, '$.key')`` is
  ``(col::jsonb ->> 'key')``, cast to ``bigint`` for the keys that hold amounts and ids.

What cannot be rewritten from the text alone (triggers, SQLite's date and JSON functions, the catalog) is
written for each database where it is used: the fragments in dunning.store.dialect_names
(``json_field``), and dunning.store.postgres_schema for the schema's triggers.
"""

from __future__ import annotations

import re

# The names of the two databases and the reports' JSON fragment, in a module of their own that every store
# imports (this one compiles its patterns when imported, which only a PostgreSQL store needs).
from dunning.store.dialect_names import POSTGRESQL as POSTGRESQL
from dunning.store.dialect_names import SQLITE as SQLITE
from dunning.store.dialect_names import json_field as json_field

_DDL = re.compile(r"^\s*(CREATE\s+(TEMP\w*\s+)?TABLE|ALTER\s+TABLE)\b", re.IGNORECASE)
# SQLite does not enforce foreign keys (PRAGMA foreign_keys is off) and the store writes a debtor's contacts
# before the debtor row in one transaction: PostgreSQL checks each reference at COMMIT instead.
_REFERENCES = re.compile(r"(\bREFERENCES\s+\w+\s*\([\w\s,]+\))(?!\s*DEFERRABLE)", re.IGNORECASE)
_OWN_KEY = re.compile(r"\bINTEGER\s+PRIMARY\s+KEY\b(?!\s+REFERENCES)", re.IGNORECASE)
_INSERT = re.compile(r"^\s*INSERT\s+(?:OR\s+\w+\s+)?INTO\s+\"?([\w.]+)\"?", re.IGNORECASE)
# At the start, or after a WITH's common table expressions.
_OR_IGNORE = re.compile(r"^(\s*INSERT|\s*WITH\b.*?\)\s*INSERT)\s+OR\s+IGNORE\b", re.IGNORECASE | re.DOTALL)
_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
# SQLite's `a IS b` for a parameter or a column (not IS NULL, IS TRUE, IS NOT ..., IS DISTINCT FROM).
_NULL_SAFE = re.compile(r"\bIS(\s+NOT)?\s+(?=\?|:[A-Za-z_]|(?!(NULL|TRUE|FALSE|NOT|DISTINCT|UNKNOWN)\b)[A-Za-z_])",
                        re.IGNORECASE)
_UNARY_PLUS = re.compile(r"(\b(?:AND|OR|WHERE|ON|WHEN|NOT|BY)\s+|[(,=<>]\s*)\+(?=[A-Za-z_])", re.IGNORECASE)
_CROSS_JOIN_ON = re.compile(r"\bCROSS\s+JOIN\s+(\w+(?:\s+AS)?(?:\s+(?!ON\b)\w+)?)\s+ON\b", re.IGNORECASE)
_LEAST_GREATEST = re.compile(r"\b(min|max)\s*\(", re.IGNORECASE)
_RENAMED = ((re.compile(r"\binstr\s*\(", re.IGNORECASE), "strpos("),
            (re.compile(r"\bLIMIT\s+-1\b", re.IGNORECASE), "LIMIT ALL"),
            (re.compile(r"(?<![\w.])temp\.(?=\w)", re.IGNORECASE), "pg_temp."),
            (re.compile(r"\b(WHERE|AND|OR)\s+1\b(?!\s*[-+*/%=<>!|])", re.IGNORECASE), r"\1 TRUE"))
_TYPES = (
    (re.compile(r"\bINTEGER\b", re.IGNORECASE), "BIGINT"),
    (re.compile(r"\bREAL\b", re.IGNORECASE), "DOUBLE PRECISION"),
    (re.compile(r"\bBLOB\b", re.IGNORECASE), "BYTEA"),
    (re.compile(r"\s*\bWITHOUT\s+ROWID\b", re.IGNORECASE), ""),
)


def to_postgres(sql: str, *, numbered: bool = False) -> str:
    """``sql`` as PostgreSQL takes it: psycopg's parameters, or ``$1, $2...`` when ``numbered``."""
    if re.fullmatch(r"\s*BEGIN\s+(IMMEDIATE|EXCLUSIVE|DEFERRED)\s*;?\s*", sql, re.IGNORECASE):
        return "BEGIN"
    ignore = bool(_OR_IGNORE.match(sql))
    if ignore:
        sql = _OR_IGNORE.sub(r"\1", sql, count=1)
    ddl = bool(_DDL.match(sql))
    by_number = numbered_parameters(sql)
    out: list[str] = []
    position = 0
    for text, quoted in _pieces(sql):
        if quoted:
            out.append(text if numbered else text.replace("%", "%%"))
            continue
        if ddl:
            text = _OWN_KEY.sub("BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", text)
            text = _REFERENCES.sub(r"\1 DEFERRABLE INITIALLY DEFERRED", text)
            for pattern, replacement in _TYPES:
                text = pattern.sub(replacement, text)
        text = _NULL_SAFE.sub(lambda m: "IS DISTINCT FROM " if m.group(1) else "IS NOT DISTINCT FROM ", text)
        text = _UNARY_PLUS.sub(r"\1", text)
        text = _CROSS_JOIN_ON.sub(r"JOIN \1 ON", text)
        for pattern, replacement in _RENAMED:
            text = pattern.sub(replacement, text)
        if not numbered:
            text = text.replace("%", "%%")
        text, position = _parameters(text, position, numbered, by_number)
        out.append(text)
    result = _date_functions(_json_extract(_json_array(_values_alias(_least_greatest("".join(out))))))
    if ignore:
        result = f"{result.rstrip().rstrip(';')} ON CONFLICT DO NOTHING"
    return result


def _parameters(text: str, position: int, numbered: bool, by_number: bool = False) -> tuple[str, int]:
    """``text``'s parameters as psycopg's (``$N`` when ``numbered``); ``position`` is the largest number given so
    far. A bare ``?`` is the one after it, as SQLite counts: in a statement that also says ``?N`` (``by_number``)
    it is named by that number too, since psycopg takes one kind or the other."""
    pieces: list[str] = []
    for part in re.split(r"(\?\d*)", text):
        if part.startswith("?"):
            if part[1:]:  # ?N: the Nth parameter, wherever it stands
                position = max(position, int(part[1:]))
                pieces.append(f"${part[1:]}" if numbered else f"%(p{part[1:]})s")
                continue
            position += 1
            pieces.append(f"${position}" if numbered else f"%(p{position})s" if by_number else "%s")
        else:
            pieces.append(_NAMED.sub(lambda m: f"%({m.group(1)})s", part) if not numbered else part)
    return "".join(pieces), position


def numbered_parameters(sql: str) -> bool:
    """Whether ``sql`` names its parameters ``?1, ?2``: they are then handed over as ``{"p1": ...}``."""
    return any(re.search(r"\?\d", text) for text, quoted in _pieces(sql) if not quoted)


def _group(sql: str, opening: int) -> tuple[int, int]:
    """The index of the parenthesis that closes the one at ``opening``, and how many commas stand directly
    inside it (quoted text skipped)."""
    depth, i, commas = 0, opening, 0
    while i < len(sql):
        char = sql[i]
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return i, commas
        elif char == "," and depth == 1:
            commas += 1
        elif char in "'\"":
            i = sql.index(char, i + 1)
        i += 1
    return len(sql), commas


def _closing(sql: str, opening: int) -> int:
    """The index of the parenthesis that closes the one at ``opening`` (quoted text skipped)."""
    return _group(sql, opening)[0]


_FROM_VALUES = re.compile(r"\bFROM\s*\(\s*VALUES\b", re.IGNORECASE)
# A subquery read as a table: PostgreSQL 15 wants it named too (SQLite and PostgreSQL 16 do not).
_FROM_SUBQUERY = re.compile(r"\b(?:FROM|JOIN)\s*\(\s*(?:SELECT|WITH)\b", re.IGNORECASE)
_ALIASED = re.compile(r"\s*(AS\b|(?!(WHERE|ORDER|GROUP|LIMIT|OFFSET|HAVING|JOIN|CROSS|LEFT|INNER|ON|UNION|EXCEPT|"
                      r"INTERSECT|RETURNING)\b)[A-Za-z_])", re.IGNORECASE)


def _values_alias(sql: str) -> str:
    """``FROM (VALUES ...)`` with a name, which PostgreSQL needs (SQLite's columns are column1... in both), and
    each unnamed ``FROM (SELECT ...)`` with one of its own (``AS _subquery1`` ...: no name of the store's)."""
    for found in reversed(list(_FROM_VALUES.finditer(sql))):
        end = _closing(sql, sql.index("(", found.start()))
        if not _ALIASED.match(sql, end + 1):
            sql = f"{sql[:end + 1]} AS v{sql[end + 1:]}"
    subqueries = list(_FROM_SUBQUERY.finditer(sql))
    for number, found in reversed(list(enumerate(subqueries, 1))):
        end = _closing(sql, sql.index("(", found.start()))
        if not _ALIASED.match(sql, end + 1):
            sql = f"{sql[:end + 1]} AS _subquery{number}{sql[end + 1:]}"
    return sql


_JSON_ARRAY = re.compile(r"\bjson_array\s*\(", re.IGNORECASE)
_JSON_EXTRACT = re.compile(r"\bjson_extract\(\s*([\w.]+)\s*,\s*'\$\.(\w+)'\s*\)", re.IGNORECASE)
# The keys of an event's data that hold whole numbers (minor units, ids): json_extract gives SQLite a number.
_WHOLE_NUMBER_KEYS = frozenset({"amount", "balance", "paid", "waived"})


_DATE_FUNCTION = re.compile(r"\b(julianday|unixepoch|strftime)\s*\(", re.IGNORECASE)
# The stored moments are ISO 8601 text in UTC ('2026-03-02T09:00:00Z') or dates ('2026-03-02'): read as a
# timestamp without a zone, they are read as UTC whatever the session's zone.
_SECONDS = "floor(extract(epoch from CAST({} AS timestamp)))::bigint"
_ISO_MOMENT = "'%Y-%m-%dT%H:%M:%SZ'"


def _date_functions(sql: str) -> str:
    """SQLite's ``julianday(x)``, ``unixepoch(x)``, ``strftime('%s', x)`` and ``strftime('%Y-%m-%dT%H:%M:%SZ',
    x, modifier)`` (the forms the store uses) in PostgreSQL's words. Another ``strftime`` format stays as it is,
    and PostgreSQL names it when the statement runs."""
    for found in reversed(list(_DATE_FUNCTION.finditer(sql))):
        end = _closing(sql, found.end() - 1)
        arguments = [argument.replace("%%", "%") for argument in _arguments(sql[found.end():end])]
        name = found.group(1).lower()
        if name == "julianday" and len(arguments) == 1:
            said = f"(extract(epoch from CAST({arguments[0]} AS timestamp)) / 86400.0 + 2440587.5)"
        elif name == "unixepoch" and len(arguments) == 1:
            said = _SECONDS.format(arguments[0])
        elif name == "strftime" and len(arguments) == 2 and arguments[0] == "'%s'":
            said = f"CAST({_SECONDS.format(arguments[1])} AS text)"
        elif name == "strftime" and arguments[:1] == [_ISO_MOMENT] and len(arguments) in (2, 3):
            moment = f"CAST({arguments[1]} AS timestamp)"
            if len(arguments) == 3:  # a modifier such as '-30 days', which PostgreSQL reads as an interval
                moment = f"({moment} + CAST({arguments[2]} AS interval))"
            said = f"to_char({moment}, 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
        else:
            continue
        sql = f"{sql[:found.start()]}{said}{sql[end + 1:]}"
    return sql


def _arguments(text: str) -> list[str]:
    """A call's arguments, split at the commas outside parentheses and quotes."""
    arguments, depth, start, i = [], 0, 0, 0
    while i < len(text):
        char = text[i]
        if char in "'\"":
            i = text.index(char, i + 1)
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            arguments.append(text[start:i].strip())
            start = i + 1
        i += 1
    arguments.append(text[start:].strip())
    return arguments


def _json_extract(sql: str) -> str:
    """``json_extract(column, '$.key')`` (the column's JSON text) as ``(column::jsonb ->> 'key')``: text, or a
    ``bigint`` for a key holding whole numbers (amounts, ids), as SQLite's json_extract gives a number."""
    def field(found: re.Match[str]) -> str:
        column, key = found.group(1), found.group(2)
        if key in _WHOLE_NUMBER_KEYS or key.endswith("_id"):
            return f"(({column}::jsonb ->> '{key}')::bigint)"
        return f"({column}::jsonb ->> '{key}')"

    return _JSON_EXTRACT.sub(field, sql)


def _json_array(sql: str) -> str:
    """SQLite's ``json_array(...)`` (JSON text) as ``json_build_array(...)::text``: the same array, as text
    (with a space after each comma: its readers parse it, none compares it)."""
    for found in reversed(list(_JSON_ARRAY.finditer(sql))):
        end = _closing(sql, found.end() - 1)
        sql = f"{sql[:found.start()]}json_build_array({sql[found.end():end]})::text{sql[end + 1:]}"
    return sql


def _least_greatest(sql: str) -> str:
    """``min(a, b)`` / ``max(a, b)`` (SQLite's scalar forms) as ``LEAST`` / ``GREATEST``; aggregates stay."""
    out: list[str] = []
    start = 0
    for found in _LEAST_GREATEST.finditer(sql):
        _, commas = _group(sql, found.end() - 1)
        if commas:
            out.append(sql[start:found.start()])
            out.append("LEAST(" if found.group(1).lower() == "min" else "GREATEST(")
            start = found.end()
    out.append(sql[start:])
    return "".join(out)


def _pieces(sql: str) -> list[tuple[str, bool]]:
    """The statement cut into (text, quoted): string literals and quoted identifiers kept whole."""
    pieces: list[tuple[str, bool]] = []
    start = i = 0
    while i < len(sql):
        quote = sql[i]
        if quote in "'\"":
            end = i + 1
            while end < len(sql):
                if sql[end] == quote:
                    if end + 1 < len(sql) and sql[end + 1] == quote:  # a doubled quote stays inside
                        end += 2
                        continue
                    break
                end += 1
            pieces.append((sql[start:i], False))
            pieces.append((sql[i:end + 1], True))
            start = i = end + 1
        else:
            i += 1
    pieces.append((sql[start:], False))
    return [p for p in pieces if p[0]]


def insert_target(sql: str) -> str | None:
    """The table an ``INSERT`` writes (lower case), or None for any other statement."""
    found = _INSERT.match(sql)
    return found.group(1).lower() if found else None


def identity_columns_query() -> str:
    """PostgreSQL: each table of the current schema with a generated id, and that column."""
    return ("SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND is_identity = 'YES'")


def column_types_query() -> str:
    """PostgreSQL: each column of the current schema's tables, with its type."""
    return ("SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = current_schema()")


_SELECT_ALL_VALUES = re.compile(
    r"^(\s*INSERT\s+INTO\s+\"?\w+\"?\s*\(([^)]*)\)\s*)SELECT\s+\*(\s+FROM\s*\(\s*VALUES\b)", re.IGNORECASE)


def typed_values(sql: str, types: dict[str, str]) -> str:
    """``INSERT INTO t (a, b) SELECT * FROM (VALUES ...)`` with each column cast to its column's type.

    PostgreSQL types a ``VALUES`` column from its values alone: one holding only NULLs (a batch
    of events without a dpd) is text, which a ``BIGINT`` column refuses. SQLite types nothing.
    """
    found = _SELECT_ALL_VALUES.match(sql)
    if not found or not types:
        return sql
    columns = [c.strip().strip('"') for c in found.group(2).split(",")]
    if any(c not in types for c in columns):
        return sql
    # Text columns are left alone: a value of another type there (bytes) is then refused, never turned
    # into its text form.
    casts = ", ".join(f"column{i}" if types[c] == "text" else f"column{i}::{types[c]}"
                      for i, c in enumerate(columns, 1))
    return f"{found.group(1)}SELECT {casts}{found.group(3)}{sql[found.end():]}"
