"""How much of the store's SQL PostgreSQL takes, three ways: the measurement behind docs/postgresql.md.

Collects every SQL statement written in the store (core/store/*.py) and in the
built-in plugins (plugins/*/*.py): string literals and f-strings that start
with a statement's keyword, with f-string holes filled from the module's own
string constants where they name one. A statement with any other hole is
built at run time from parts (or a ``str.format`` template): counted, not
tried. Migration steps are left out: tests/postgres/test_schema.py runs every
one of them on PostgreSQL.

Each statement is then given to a throwaway PostgreSQL 15 cluster (the one the
tests use, dunning.testing_postgres) holding the whole schema (every core and
built-in plugin migration), three ways:

- **portable as written**: only the parameters changed (``?`` and ``:name`` to ``$1...``);
- **sqlglot**: ``sqlglot.transpile(sql, read="sqlite", write="postgres")``, then the same;
- **rewrite**: dunning.store.dialect.to_postgres, the store's mechanical rewrite
  (parameters, DDL types, ``BEGIN IMMEDIATE``, ``INSERT OR IGNORE``).

A DML statement counts as taken when ``PREPARE`` accepts it (parsed, names and
types resolved, nothing run); DDL and transaction control are run inside one
transaction (each in a savepoint), rolled back at the end. The parameters are
untyped for PREPARE, as psycopg sends a ``str``: a little stricter than
psycopg with an ``int``.

    .venv/bin/python bench/sql_dialects.py            # the table, and why each statement failed
    .venv/bin/python bench/sql_dialects.py --json

Needs the test extras, sqlglot (``pip install sqlglot``: a measuring tool, no
dependency of dunning) and PostgreSQL's server binaries.
"""

from __future__ import annotations

import argparse
import ast
import collections
import json
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|WITH|CREATE|DROP|ALTER|REPLACE|BEGIN|COMMIT|ROLLBACK|"
                      r"SAVEPOINT|RELEASE|PRAGMA|VACUUM|ANALYZE)\b", re.IGNORECASE)
CONTROL = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|CREATE|DROP|ALTER|PRAGMA|VACUUM|ANALYZE)\b",
                     re.IGNORECASE)


def statements(files: list[Path]) -> Iterator[tuple[str, str | None]]:
    """(where, sql) for each statement in the files; sql is None when it has a hole not filled."""
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = {t.id: n.value.value for n in tree.body if isinstance(n, ast.Assign)
                     for t in n.targets if isinstance(t, ast.Name)
                     and isinstance(n.value, ast.Constant) and isinstance(n.value.value, str)}
        # Migration steps are measured whole by tests/postgres/test_schema.py (they all run there).
        seen_inside: set[int] = {id(inner) for step in ast.walk(tree) if isinstance(step, ast.FunctionDef)
                                 and re.match(r"m\d{3}_", step.name) for inner in ast.walk(step)}
        # Docstrings are prose, even when they start with "Insert".
        seen_inside |= {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr)
                        and isinstance(n.value, ast.Constant)}
        for node in ast.walk(tree):
            if id(node) in seen_inside:
                continue
            where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.JoinedStr):
                seen_inside.update(id(v) for v in ast.walk(node))
                text = _rendered(node, constants)
                head = "".join(str(v.value) for v in node.values[:1] if isinstance(v, ast.Constant))
                if KEYWORDS.match(head) and re.search(r"\b(FROM|INTO|SET|TABLE|INDEX|VALUES|BEGIN|SAVEPOINT)\b",
                                                      text or head, re.I):
                    yield where, text
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and _is_statement(node.value):
                # A template filled by str.format at run time ("VALUES {rows}") is built at run time.
                yield where, None if re.search(r"\{\w*\}", node.value) else node.value


def _is_statement(text: str) -> bool:
    return bool(KEYWORDS.match(text)) and bool(
        re.search(r"\b(FROM|INTO|SET|TABLE|INDEX|VALUES)\b", text, re.I)
        or re.fullmatch(r"\s*(BEGIN( IMMEDIATE)?|COMMIT|ROLLBACK)\s*", text, re.I))


def _rendered(node: ast.JoinedStr, constants: dict[str, str]) -> str | None:
    parts: list[str] = []
    for value in node.values:
        if isinstance(value, ast.Constant):
            parts.append(str(value.value))
        elif isinstance(value, ast.FormattedValue) and isinstance(value.value, ast.Name) \
                and value.value.id in constants and value.format_spec is None:
            parts.append(constants[value.value.id])
        else:
            return None
    return "".join(parts)


def numbered(sql: str) -> str:
    """Only the parameters changed: ``?``, ``:name``, and psycopg's ``%s``/``%(name)s`` to ``$n``."""
    from dunning.store.dialect import _pieces

    out: list[str] = []
    count = 0
    names: dict[str, int] = {}

    def number(match: re.Match[str]) -> str:
        nonlocal count
        name = match.group("name") or match.group("pyname")
        if name:
            if name not in names:
                count += 1
                names[name] = count
            return f"${names[name]}"
        count += 1
        return f"${count}"

    pattern = re.compile(r"\?|%s|%\((?P<pyname>\w+)\)s|(?<![:\w]):(?P<name>[A-Za-z_]\w*)")
    for text, quoted in _pieces(sql):
        out.append(text if quoted else pattern.sub(number, text))
    return "".join(out)


def by_sqlglot(sql: str) -> str:
    import sqlglot

    return numbered(sqlglot.transpile(sql, read="sqlite", write="postgres")[0])


def by_rewrite(sql: str) -> str:
    from dunning.store.dialect import to_postgres

    return to_postgres(sql, numbered=True)


WAYS: dict[str, Callable[[str], str]] = {"portable as written": numbered, "sqlglot": by_sqlglot,
                                         "rewrite": by_rewrite}


def tried(conn: Any, sql: str) -> str | None:
    """None when PostgreSQL takes the statement, else its first line of complaint."""
    import psycopg

    conn.execute("SAVEPOINT measure")
    try:
        if CONTROL.match(sql):
            if re.match(r"\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b", sql, re.I) \
                    and not re.match(r"\s*BEGIN\s+(IMMEDIATE|EXCLUSIVE|DEFERRED)\b", sql, re.I):
                conn.execute("RELEASE measure")
                return None  # the same words in both databases
            conn.execute(sql.encode())
        else:
            conn.execute(f"PREPARE measured AS {sql}".encode())
            conn.execute("DEALLOCATE measured")
    except psycopg.Error as exc:
        conn.execute("ROLLBACK TO measure")
        return str(exc).strip().splitlines()[0]
    except Exception as exc:  # sqlglot's own failures come before: kept as they are
        return f"{type(exc).__name__}: {exc}"
    conn.execute("RELEASE measure")
    return None


def measure() -> dict[str, Any]:
    import psycopg

    from dunning.store.database import parse_postgres_url
    from dunning.store.postgres import PostgresConnection
    from dunning.store.postgres_schema import migrate_postgres
    from dunning.testing_postgres import PostgresServer, server_binaries

    sys.path.insert(0, str(ROOT))
    from tests.postgres.test_schema import built_in_migrations

    binaries = server_binaries()
    if binaries is None:
        raise SystemExit("no PostgreSQL server binaries (initdb, pg_ctl)")
    server = PostgresServer(binaries, Path(tempfile.mkdtemp(prefix="dunning-pg-")))
    server.start()
    try:
        url = server.url(server.create_database())
        store = PostgresConnection(parse_postgres_url(url))
        migrate_postgres(store, built_in_migrations())
        store.close()
        groups = {"store": sorted((ROOT / "core" / "store").glob("*.py")),
                  "plugins": sorted((ROOT / "plugins").glob("*/*.py"))}
        groups["store"] = [p for p in groups["store"] if p.name not in
                           {"dialect.py", "postgres.py", "postgres_schema.py", "database.py", "copy.py"}]
        result: dict[str, Any] = {}
        with psycopg.connect(url, autocommit=True) as conn:
            for group, files in groups.items():
                found = list(statements(files))
                static = [(w, s) for w, s in found if s is not None]
                figures: dict[str, Any] = {"statements": len(found), "built at run time": len(found) - len(static)}
                failures: dict[str, list[tuple[str, str]]] = {}
                for way, turn in WAYS.items():
                    conn.execute("BEGIN")
                    failed: list[tuple[str, str]] = []
                    for where, sql in static:
                        try:
                            text = turn(sql)
                        except Exception as exc:
                            failed.append((where, f"{type(exc).__name__}: {str(exc).splitlines()[0]}"))
                            continue
                        complaint = tried(conn, text)
                        if complaint:
                            failed.append((where, complaint))
                    conn.execute("ROLLBACK")
                    figures[way] = len(static) - len(failed)
                    failures[way] = failed
                figures["tried"] = len(static)
                result[group] = {"figures": figures, "failures": failures}
        return result
    finally:
        server.stop()
        shutil.rmtree(server.root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the figures and failures as JSON")
    args = parser.parse_args()
    result = measure()
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{'':10} {'statements':>10} {'run-time':>9} {'tried':>6} " + " ".join(f"{w:>20}" for w in WAYS))
    for group, found in result.items():
        f = found["figures"]
        print(f"{group:10} {f['statements']:>10} {f['built at run time']:>9} {f['tried']:>6} "
              + " ".join(f"{f[w]:>20}" for w in WAYS))
    for group, found in result.items():
        for way, failed in found["failures"].items():
            print(f"\n{group}, {way}: {len(failed)} not taken")
            reasons = collections.Counter(re.sub(r'"[^"]*"', '"…"', why) for _, why in failed)
            for why, count in reasons.most_common(12):
                print(f"  {count:4}  {why}")


if __name__ == "__main__":
    main()
