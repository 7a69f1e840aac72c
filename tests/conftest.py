"""Shared test set-up: no installed plugin loads unless a test asks for it."""

from __future__ import annotations

import csv
import datetime as dt
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from dunning import Delivery, hookimpl
from dunning.cli import cli
from dunning.plugin_manager import LOAD_ENV
from dunning.store import Store
from dunning.store.database import is_postgres_url
# Also a pytest11 plugin once dunning is installed again; imported here too, so a virtualenv made before it
# was added finds the PostgreSQL fixtures.
from dunning.testing_postgres import dunning_database, dunning_postgres, dunning_postgres_url  # noqa: F401

HEADER = ["debtor_id", "name", "kind", "email", "mobile", "work_phone", "home_phone", "address", "country",
          "timezone", "reference", "amount", "currency", "issued_on", "due_on"]


@pytest.fixture(autouse=True)
def no_installed_plugins(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    monkeypatch.setenv(LOAD_ENV, "")
    monkeypatch.delenv("DUNNING_CONFIG", raising=False)
    # Each test's checked configs are kept apart from the user's cache and from other tests' (dunning.checked_cache).
    monkeypatch.setenv("DUNNING_CACHE_DIR", str(tmp_path_factory.mktemp("checked")))


class RecordingChannel:
    """A channel that remembers what it was asked to send."""

    def __init__(self, name: str, *, fail_with: Exception | None = None):
        self.name = name
        self.needs = ()
        self.sent: list[tuple[str, int, str | None]] = []
        self.fail_with = fail_with

    def send(self, action: Any, case: Any, ctx: Any) -> Delivery:
        if self.fail_with is not None:
            raise self.fail_with
        self.sent.append((ctx.key, case.id, action.template))
        return Delivery.sent(f"rec:{ctx.key}")


class ChannelsPlugin:
    """Registers recording channels under the given names."""

    def __init__(self, *names: str, **special: RecordingChannel):
        self.channels = {n: RecordingChannel(n) for n in names} | special
        self.plugin_name = "test-channels"

    @hookimpl
    def register_channels(self, register: Callable[[Any], None]) -> None:
        for channel in self.channels.values():
            register(channel)


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=HEADER)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: row.get(k, "") for k in HEADER})
    return path


def row(debtor_id: str = "C001", reference: str = "INV-1", amount: str = "1200.00", due_on: str = "2026-03-01",
        **extra: str) -> dict[str, str]:
    base = {"debtor_id": debtor_id, "name": f"Customer {debtor_id}", "kind": "company", "email": "ap@example.com",
            "mobile": "+44 7700 900123", "country": "GB", "timezone": "Europe/London", "reference": reference,
            "amount": amount, "currency": "EUR", "issued_on": "2026-02-01", "due_on": due_on}
    return base | extra


class Project:
    """A folder with a dunning.toml, and a runner for the CLI in it.

    The database is the folder's ``dunning.db`` file, or the PostgreSQL database ``database`` names (a
    ``postgresql://`` URL whose database holds the core's schema already, as ``dunning_database`` gives it). A
    test reads or changes it through ``store()``, ``sql()`` and ``dump(project)``, which serve both;
    ``db`` is the SQLite file alone.
    """

    def __init__(self, folder: Path, database: str | Path | None = None):
        self.folder = folder
        self.config = folder / "dunning.toml"
        self.runner = CliRunner()
        self.database = str(database) if database is not None and is_postgres_url(str(database)) else None

    @property
    def on_postgres(self) -> bool:
        return self.database is not None

    @property
    def target(self) -> Path | str:
        """What ``Store(...)`` opens: the SQLite file, or the PostgreSQL URL."""
        return self.database if self.database is not None else self.folder / "dunning.db"

    def write_config(
        self, policy: str = "trade-receivables", enabled: list[str] | None = None, extra: str = ""
    ) -> None:
        enabled_list = ", ".join(f'"{e}"' for e in (enabled or []))
        db = self.database if self.database is not None else "dunning.db"
        self.config.write_text(
            f'policy = "{policy}"\ndb = "{db}"\ntimezone = "UTC"\n\n[channels]\nenabled = '
            f'[{enabled_list}]\n{extra}\n'
            '[notify]\nsupervisor = "Sam Supervisor <sam@example.com>"\nmanager = "morgan@example.com"\n'
            'general_manager = "Gale <gale@example.com>"\n',
            encoding="utf-8",
        )
        # As `dunning init` does: the database the config names exists (a PostgreSQL one does already).
        if self.database is None and not self.db.exists():
            Store(self.db).close()

    def __call__(
        self, *args: str, now: str | None = None, expect: int | None = 0, env: dict[str, str] | None = None
    ) -> Result:
        argv = ["--config", str(self.config)] + (["--now", now] if now else []) + list(args)
        result = self.runner.invoke(cli, argv, env=env, catch_exceptions=False)
        if expect is not None:
            assert result.exit_code == expect, f"dunning {' '.join(args)} -> {result.exit_code}\n{result.output}"
        return result

    @property
    def db(self) -> Path:
        """The SQLite file. A test that reads the database beside the CLI on both uses ``store()``/``sql()``."""
        if self.database is not None:
            raise AssertionError("project.db is the SQLite file; this project is on PostgreSQL: use "
                                 "project.store(), project.sql() or dump(project), or mark the test sqlite_only")
        return self.folder / "dunning.db"

    def store(self, **options: Any) -> Store:
        """The project's database opened as a ``Store`` (close it after)."""
        return Store(self.target, **options)

    def sql(self, statement: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """One statement in SQLite's words (``?`` parameters) on the project's database, committed; its rows.
        On PostgreSQL it goes through the store's connection, which rewrites it (dunning.store.dialect)."""
        if self.database is None:
            conn = sqlite3.connect(self.db)
            try:
                rows = conn.execute(statement, tuple(parameters)).fetchall()
                conn.commit()
                return rows
            finally:
                conn.close()
        from dunning.store.database import parse_postgres_url
        from dunning.store.postgres import PostgresConnection

        pg = PostgresConnection(parse_postgres_url(self.database))
        try:
            return pg.execute(statement, tuple(parameters)).fetchall()
        finally:
            pg.close()


@pytest.fixture
def project(tmp_path: Path, dunning_database: str | Path) -> Iterator[Project]:  # noqa: F811
    """A project in ``tmp_path``: on its SQLite file, then (the test's second run) on a PostgreSQL database.
    A test marked ``sqlite_only`` gets the file alone."""
    p = Project(tmp_path, dunning_database if isinstance(dunning_database, str) else None)
    p.write_config()
    yield p


def dump(db: Path | str | Project) -> list[str]:
    """The database as lines of text, to show a refused command changed nothing: a SQLite file's SQL dump, or
    (a ``postgresql://`` URL, or a ``Project`` on one) each table's columns and rows, in order."""
    target = db.target if isinstance(db, Project) else db
    if isinstance(target, str) and is_postgres_url(target):
        return _dump_postgres(target)
    conn = sqlite3.connect(target)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def _dump_postgres(url: str) -> list[str]:
    import psycopg

    lines: list[str] = []
    with psycopg.connect(url) as conn:
        tables = [name for (name,) in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
            "AND table_type = 'BASE TABLE' ORDER BY table_name").fetchall()]
        for table in tables:
            columns = [name for (name,) in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
                "AND table_name = %s ORDER BY ordinal_position", (table,)).fetchall()]
            lines.append(f"TABLE {table} ({', '.join(columns)})")
            order = ", ".join(str(n) for n in range(1, len(columns) + 1))
            lines.extend(f"{table}: {row!r}" for row in conn.execute(f'SELECT * FROM "{table}" ORDER BY {order}'))
        # Sequences are left out: a rolled-back insert still moves one on PostgreSQL, and changes nothing kept.
    return lines


def at(day: dt.date, hour: int = 9) -> str:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC).isoformat()
