"""A project's database reached beside the store, as someone holding it could: to tamper with the evidence.

``raw_connection`` speaks SQLite's words (``?`` parameters) on both databases: sqlite3 on the file, the store's
own PostgreSQL connection (which rewrites each statement, dunning.store.dialect) on a server. It commits each
statement on PostgreSQL (autocommit) and on ``commit()`` on SQLite.
"""

from __future__ import annotations

import itertools
import sqlite3
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Project


def raw_connection(project: Project) -> Any:
    """A connection to the project's database, bypassing dunning; close it after."""
    if not project.on_postgres:
        return sqlite3.connect(project.db)
    from dunning.store.database import parse_postgres_url
    from dunning.store.postgres import PostgresConnection

    return PostgresConnection(parse_postgres_url(str(project.target)))


def drop_trigger(project: Project, conn: Any, name: str) -> None:
    """Drop one of the events table's guards (PostgreSQL names the table a trigger is on)."""
    conn.execute(f"DROP TRIGGER {name} ON events" if project.on_postgres else f"DROP TRIGGER {name}")


def refusal(conn: Any, statement: str) -> str | None:
    """The database's reason for refusing ``statement``, or None when it ran (and was rolled back)."""
    try:
        conn.execute("BEGIN")
        conn.execute(statement)
    except Exception as exc:  # sqlite3.DatabaseError or psycopg's errors: the message is what is checked
        return str(exc)
    finally:
        conn.rollback()
    return None


_copies = itertools.count(1)


def _on_same_server(url: str, database: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{database}"))


def copied_database(url: str) -> str:
    """A new database on the same PostgreSQL server, a copy of the one ``url`` names (which nobody may have
    open while it is copied), as a URL; ``dropped_database`` removes it."""
    import psycopg

    from dunning.store.database import parse_postgres_url

    name = f"{parse_postgres_url(url).database}_copy_{next(_copies)}"
    with psycopg.connect(_on_same_server(url, "postgres"), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{parse_postgres_url(url).database}"')
    return _on_same_server(url, name)


def dropped_database(url: str) -> None:
    import psycopg

    from dunning.store.database import parse_postgres_url

    with psycopg.connect(_on_same_server(url, "postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{parse_postgres_url(url).database}" WITH (FORCE)')


@pytest.fixture
def more_databases(dunning_database: str | Path, tmp_path: Path) -> Iterator[Callable[[str], Path | str]]:
    """``more_databases(name)``: another database on the test's kind, holding the core's schema and nothing
    else: ``<name>.db`` in the test's folder, or a copy of ``dunning_database`` while it is still untouched
    (ask for them first). Dropped after the test."""
    made: list[str] = []

    def make(name: str) -> Path | str:
        if not isinstance(dunning_database, str):
            return tmp_path / f"{name}.db"
        made.append(copied_database(dunning_database))
        return made[-1]

    yield make
    for url in made:
        dropped_database(url)
