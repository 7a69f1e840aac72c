"""A database shared by the tests of one module, once on each database dunning supports (and ``databases``, for a
test that compares two databases of one kind).

``dunning_database`` gives each test a fresh database; a module that builds a history once (a
module-scoped fixture) and reads it from many tests takes this instead:

    @pytest.fixture(scope="module", params=DATABASES)
    def history(request, tmp_path_factory):
        with module_database(request) as database:
            project = Project(tmp_path_factory.mktemp("history"), database)
            ...
            yield project

so the module's tests run on the SQLite file, then on a PostgreSQL database built the same way.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dunning.store.database import is_postgres_url
from dunning.testing_postgres import DATABASES, PostgresServer

__all__ = ["DATABASES", "Databases", "databases", "module_database"]

Databases = Callable[[str], "str | Path"]  # the ``databases`` fixture


@contextlib.contextmanager
def module_database(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """None for the SQLite file in the project's folder (``request.param`` "sqlite"), or the URL of a new
    PostgreSQL database holding the core's schema (``request.param`` "postgresql"), dropped after the module."""
    if request.param == "sqlite":
        yield None
        return
    server: PostgresServer = request.getfixturevalue("dunning_postgres")
    name = server.create_database(template=server.migrated_template())
    try:
        yield server.url(name)
    finally:
        server.drop_database(name)


@pytest.fixture
def databases(request: pytest.FixtureRequest, dunning_database: str | Path, tmp_path: Path) -> Iterator[Databases]:
    """``databases(name)``: one more new database of the kind ``dunning_database`` is this time, for a test that
    compares two (a SQLite file in tmp_path, or a PostgreSQL database holding the core's schema); dropped after."""
    made: list[str] = []
    server: PostgresServer | None = None

    def make(name: str) -> str | Path:
        nonlocal server
        if not is_postgres_url(str(dunning_database)):
            return tmp_path / f"{name}.db"
        server = server or request.getfixturevalue("dunning_postgres")
        made.append(server.create_database(template=server.migrated_template()))
        return server.url(made[-1])

    yield make
    for database in made:
        assert server is not None
        server.drop_database(database)
