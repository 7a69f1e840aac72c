"""A throwaway PostgreSQL cluster for tests (a pytest plugin, loaded through the ``pytest11`` entry point).

- ``dunning_postgres``: one cluster for the whole test session, in a temporary folder, listening on a
  Unix socket only (no port to collide with another run on the same machine); stopped at the end.
- ``dunning_postgres_url``: a fresh, empty database on it for one test (``postgresql://...``), dropped after.
- ``dunning_database``: what to open a ``Store`` on, once per database dunning supports: a SQLite file in
  the test's folder, then a fresh PostgreSQL database holding the core's schema (a copy of a template
  migrated once per session, so a test does not pay for the migrations). A test that takes it runs on both;
  one marked ``@pytest.mark.sqlite_only`` (WAL, PRAGMA, the file's own crash behaviour) runs on SQLite only.

The cluster is made with Debian's (or any) PostgreSQL server binaries: ``initdb`` and ``pg_ctl`` on the
``PATH``, in ``$DUNNING_PG_BIN`` or in the newest ``/usr/lib/postgresql/N/bin``. Without them a test that
needs the cluster is skipped with the reason, except under ``CI=true``, where it fails: CI installs them.
``initdb`` refuses to run as root, so as root the cluster belongs to the ``postgres`` user (``runuser``).
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# The superuser initdb creates; trust authentication on the socket, so tests need no password.
SUPERUSER = "dunning"


def server_binaries() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl``, or None when this machine has no PostgreSQL server."""
    if named := os.environ.get("DUNNING_PG_BIN"):
        return Path(named) if (Path(named) / "initdb").exists() else None
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(on_path).parent
    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name)
                    if p.parent.parent.name.isdigit() else 0)
    return debian[-1].parent if debian else None


class PostgresServer:
    """A PostgreSQL cluster in its own folder, reached through a Unix socket in that folder."""

    def __init__(self, binaries: Path, root: Path) -> None:
        self.binaries = binaries
        self.root = root
        self.data = root / "data"
        self.socket_dir = root / "socket"
        self._names = itertools.count(1)
        self._template: str | None = None
        # As root the cluster's files belong to `postgres` (initdb and the server refuse root).
        self._owner = "postgres" if os.geteuid() == 0 else None

    def _run(self, *argv: str) -> None:
        command = [str(self.binaries / argv[0]), *argv[1:]]
        if self._owner:
            command = ["runuser", "-u", self._owner, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode:
            raise RuntimeError(f"{' '.join(argv[:2])} failed ({done.returncode}): {done.stderr.strip()}")

    def start(self) -> None:
        self.socket_dir.mkdir(parents=True)
        if self._owner:
            owner = pwd.getpwnam(self._owner)
            for folder in (self.root, self.socket_dir):
                os.chown(folder, owner.pw_uid, owner.pw_gid)
        # --no-sync and fsync=off: a cluster thrown away after the run need not survive a power cut.
        self._run("initdb", "-D", str(self.data), "-U", SUPERUSER, "--auth=trust", "-E", "UTF8",
                  "--locale=C", "--no-sync")
        options = (f"-k {self.socket_dir} -c listen_addresses='' -c fsync=off -c synchronous_commit=off "
                   "-c full_page_writes=off -c max_connections=200")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-o", options, "-w", "start")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@/{database}?host={self.socket_dir}"

    def admin(self, sql: str) -> None:
        """One statement outside a transaction (CREATE/DROP DATABASE), as the superuser."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(sql)

    def create_database(self, template: str | None = None) -> str:
        """A new database's name: empty, or a copy of ``template`` (which nobody may have open)."""
        name = f"test_{os.getpid()}_{next(self._names)}"
        # PostgreSQL 15's default strategy (WAL_LOG): measured here, 0.2 s a copy of the migrated template,
        # where FILE_COPY, which makes two checkpoints, takes 0.6 s.
        copy = f' TEMPLATE "{template}"' if template else ""
        self.admin(f'CREATE DATABASE "{name}"{copy}')
        return name

    def migrated_template(self) -> str:
        """A database holding the core's schema, made once for the cluster: what ``dunning_database`` copies."""
        if self._template is None:
            from dunning.store import Store

            name = self.create_database()
            Store(self.url(name)).close()  # nobody may keep a template open while it is copied
            self._template = name
        return self._template

    def drop_database(self, name: str) -> None:
        self.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"PostgreSQL is required under CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def dunning_postgres() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL cluster for the whole session (skipped without the server binaries)."""
    binaries = server_binaries()
    if binaries is None:
        _unavailable("no PostgreSQL server binaries (initdb, pg_ctl): install Debian's postgresql package")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _unavailable("psycopg is not installed")
    assert binaries is not None
    server = PostgresServer(binaries, Path(tempfile.mkdtemp(prefix="dunning-pg-")))
    try:
        server.start()
    except RuntimeError as exc:
        shutil.rmtree(server.root, ignore_errors=True)
        _unavailable(str(exc))
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.root, ignore_errors=True)


@pytest.fixture
def dunning_postgres_url(dunning_postgres: PostgresServer) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, as a ``postgresql://`` URL; dropped after the test."""
    name = dunning_postgres.create_database()
    try:
        yield dunning_postgres.url(name)
    finally:
        dunning_postgres.drop_database(name)


DATABASES = ("sqlite", "postgresql")
SQLITE_ONLY = "sqlite_only"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{SQLITE_ONLY}: a test of what only SQLite has (the file, WAL, PRAGMA); "
                                       "dunning_database gives it a SQLite file alone")


@pytest.hookimpl(tryfirst=True)  # before pytest reads the parametrize marks and the fixtures' params
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # A test marked sqlite_only is given the SQLite file alone: no PostgreSQL case is made, so none is skipped.
    # (A parametrize mark, which pytest then prefers to the fixture's own params.)
    if "dunning_database" in metafunc.fixturenames and metafunc.definition.get_closest_marker(SQLITE_ONLY):
        metafunc.definition.add_marker(pytest.mark.parametrize("dunning_database", ["sqlite"], indirect=True))


@pytest.fixture(params=DATABASES)
def dunning_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str | Path]:
    """A database for ``Store(...)``: a SQLite file, then (a second run of the test) a PostgreSQL URL whose
    database already holds the core's schema (plugins' steps still run when a Store opens it)."""
    if request.param == "sqlite":
        yield tmp_path / "dunning.db"
        return
    server: PostgresServer = request.getfixturevalue("dunning_postgres")
    name = server.create_database(template=server.migrated_template())
    try:
        yield server.url(name)
    finally:
        server.drop_database(name)
