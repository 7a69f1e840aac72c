"""Roles on PostgreSQL, as docs/operators.md ("Running on PostgreSQL") sets them up: the database's owner
changes the schema, the floor's role reads and writes the rows, a reporting role only reads.

A role that may not change the schema opens an up-to-date database and works; on a database whose schema is
not made yet it gets one line saying to run a command as the owner first, and nothing is written.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from dunning.testing_postgres import PostgresServer
from tests.conftest import Project, dump, row, write_csv

_names = itertools.count(1)
NOW = "2026-03-20T10:00:00+00:00"


class Roles:
    """A database owned by ``owner``, with ``floor`` and ``read`` roles granted as the docs say."""

    def __init__(self, server: PostgresServer) -> None:
        suffix = f"{os.getpid()}_{next(_names)}"
        self.server = server
        self.owner, self.floor, self.read = (f"{kind}_{suffix}" for kind in ("owner", "floor", "read"))
        self.database = f"roles_{suffix}"
        for role in (self.owner, self.floor, self.read):
            server.admin(f'CREATE ROLE "{role}" LOGIN')
        server.admin(f'CREATE DATABASE "{self.database}" OWNER "{self.owner}"')

    def url(self, role: str) -> str:
        return f"postgresql://{role}@/{self.database}?host={self.server.socket_dir}"

    def grant(self) -> None:
        """What docs/operators.md has the owner run once: rights on today's tables and on those later
        migrations make."""
        import psycopg

        with psycopg.connect(self.url(self.owner), autocommit=True) as conn:
            for statement in (
                f'GRANT USAGE ON SCHEMA public TO "{self.floor}", "{self.read}"',
                f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES "
                f'TO "{self.floor}"',
                f'ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO "{self.floor}"',
                f'ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO "{self.read}"',
                f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "{self.floor}"',
                f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO "{self.floor}"',
                f'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{self.read}"',
            ):
                conn.execute(statement)

    def drop(self) -> None:
        self.server.drop_database(self.database)
        for role in (self.owner, self.floor, self.read):
            self.server.admin(f'DROP ROLE IF EXISTS "{role}"')


@pytest.fixture
def roles(dunning_postgres: PostgresServer) -> Iterator[Roles]:
    made = Roles(dunning_postgres)
    try:
        yield made
    finally:
        made.drop()


@pytest.fixture
def folder(tmp_path: Path) -> Project:
    project = Project(tmp_path)
    project.write_config()
    return project


def test_a_role_that_may_not_change_the_schema_is_told_to_run_as_the_owner_first(roles: Roles, folder: Project):
    for role in (roles.floor, roles.read):
        result = folder("--db", roles.url(role), "cases", "list", expect=1)
        assert result.output.startswith(f"Error: the schema is not made yet, and {role} may not change the schema (")
        assert "run one dunning command as the database's owner first" in result.output
        assert result.output.count("\n") == 1 and "Traceback" not in result.output
    assert dump(roles.url(roles.owner)) == []  # nothing was made


def test_the_floor_works_the_cases_and_the_reporting_role_only_reads(roles: Roles, folder: Project, tmp_path: Path):
    roles.grant()  # before the schema is made: the default privileges cover the tables the owner makes next
    assert folder("--db", roles.url(roles.owner), "cases", "list").output.strip() == "(none)"
    csv = write_csv(tmp_path / "book.csv", [row("C001", "INV-1"), row("C002", "INV-2", amount="300.00")])
    floor, read = roles.url(roles.floor), roles.url(roles.read)

    assert folder("--db", floor, "--now", NOW, "import", str(csv)).exit_code == 0
    assert folder("--db", floor, "--now", NOW, "run").exit_code == 0
    folder("--db", floor, "--now", NOW, "pay", "1", "100.00")
    listed = folder("--db", read, "--now", NOW, "cases", "list").output
    assert "C001" in listed and "C002" in listed
    assert folder("--db", read, "--now", NOW, "verify", "--full").output.startswith("ok: ")

    before = dump(roles.url(roles.owner))
    refused = folder("--db", read, "--now", NOW, "pay", "2", "50.00", expect=1).output
    assert refused.startswith("Error: database: permission denied for table ") and refused.count("\n") == 1
    assert dump(roles.url(roles.owner)) == before
