"""A small collections floor for the console's tests: five cases on the call list, one action waiting for
approval, and four staff accounts (two collectors, a supervisor, an admin)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import dunning.plugins.phone as phone_plugin
from dunning.cli import cli
from dunning.testing_postgres import PostgresServer
from tests.conftest import Project

# Monday 1 June 2026, 09:00 in London: cases 2-5 (due 29 May) are 3 days past due and on the call list;
# case 1 (due 2 March) has reached lock-account, which waits for a supervisor's approval.
NOW = "2026-06-01T09:00:00+01:00"
MOMENT = dt.datetime(2026, 6, 1, 8, 0, tzinfo=dt.UTC)
PASSWORD = "correct horse battery"
# Who is who: with collectors = ["ann", "bob"], ann works the even case ids and bob the odd ones.
STAFF = {"ann": "collector", "bob": "collector", "sam": "supervisor", "ada": "admin"}


def _debtor(number: int, name: str, amount: str, due_on: str) -> dict[str, str]:
    return {"debtor_id": f"D{number}", "name": name, "kind": "company", "mobile": f"+44 7700 90010{number}",
            "country": "GB", "timezone": "Europe/London", "reference": f"INV-{number}", "amount": amount,
            "currency": "GBP", "issued_on": "2026-01-01", "due_on": due_on}


DEBTORS = [
    _debtor(1, "Harbour Stores", "1200.00", "2026-03-02"),
    _debtor(2, "Quay Bakers", "450.00", "2026-05-29"),
    _debtor(3, "Mall Florists", "3600.00", "2026-05-29"),
    _debtor(4, "Palace Cafe", "800.00", "2026-05-29"),
    _debtor(6, "Deansgate Books", "950.00", "2026-05-29"),
]


def build_floor(project: Project) -> Project:
    project.write_config(enabled=["phone"], extra='\n[channels.phone]\ncollectors = ["ann", "bob"]\n'
                                                   'company = "Northwind Credit"\n')
    text = project.config.read_text(encoding="utf-8").replace('timezone = "UTC"', 'timezone = "Europe/London"')
    project.config.write_text(text, encoding="utf-8")
    path = project.folder / "debts.json"
    path.write_text(json.dumps(DEBTORS), encoding="utf-8")
    project("import", str(path), now="2026-02-01T09:00:00+00:00")
    project("run", now="2026-06-01T08:00:00+01:00")
    secret = project.folder / "password.txt"
    secret.write_text(PASSWORD + "\n", encoding="utf-8")
    for name, role in STAFF.items():
        project("users", "add", name, "--role", role, "--password-file", str(secret), "--by", "setup", now=NOW)
    return project


@pytest.fixture(scope="session")
def floor_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The floor built once (an import, a run, four argon2 hashes); each test gets a copy of its folder."""
    folder = tmp_path_factory.mktemp("floor")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DUNNING_LOAD_PLUGINS", "phone")
        patch.delenv("DUNNING_CONFIG", raising=False)
        phone_plugin.register_commands(cli=cli)  # what loading the entry point does; idempotent
        project = Project(folder)
        project.write_config()
        build_floor(project)
    return folder


@pytest.fixture(scope="session")
def postgres_floor_template(tmp_path_factory: pytest.TempPathFactory,
                            dunning_postgres: PostgresServer) -> tuple[Path, str]:
    """The floor built once on a PostgreSQL database (its folder, the database's name), as ``floor_template`` is
    on SQLite: each test gets a copy of both (``CREATE DATABASE ... TEMPLATE``)."""
    folder = tmp_path_factory.mktemp("floor-postgres")
    name = dunning_postgres.create_database(template=dunning_postgres.migrated_template())
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DUNNING_LOAD_PLUGINS", "phone")
        patch.delenv("DUNNING_CONFIG", raising=False)
        phone_plugin.register_commands(cli=cli)
        project = Project(folder, dunning_postgres.url(name))
        project.write_config()
        build_floor(project)
    return folder, name  # every command closed its connection: the database can serve as a template


@pytest.fixture
def floor(request: pytest.FixtureRequest, dunning_database: str | Path, tmp_path: Path,
          monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    """A copy of the floor: on its SQLite file, then (the test's second run) on a PostgreSQL database."""
    monkeypatch.setenv("DUNNING_LOAD_PLUGINS", "phone")
    folder = tmp_path / "floor"
    if not isinstance(dunning_database, str):
        shutil.copytree(request.getfixturevalue("floor_template"), folder)
        yield Project(folder)
        return
    server: PostgresServer = request.getfixturevalue("dunning_postgres")
    template_folder, template = request.getfixturevalue("postgres_floor_template")
    shutil.copytree(template_folder, folder)
    name = server.create_database(template=template)
    url = server.url(name)
    config = folder / "dunning.toml"
    config.write_text(config.read_text(encoding="utf-8").replace(server.url(template), url), encoding="utf-8")
    try:
        yield Project(folder, url)
    finally:
        server.drop_database(name)


def app_for(project: Project, **options: object) -> object:
    from dunning.config import load_config
    from dunning.web.app import create_app

    config = load_config(Path(project.config), required=True)
    return create_app(config, db_path=None, clock=lambda: MOMENT, secret="s" * 48, **options)  # type: ignore[arg-type]
