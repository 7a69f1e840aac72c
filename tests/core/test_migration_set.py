"""Migrations checked with one query on the usual start, applied through sqlite-utils only when one is pending."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlite_utils

from dunning.compliance.country_codes import COUNTRY_CODES
from dunning.compliance.jurisdictions import is_country
from dunning.migration_set import MigrationSet, all_applied
from dunning.migrations import migrations as core_migrations
from dunning.store import Store


@pytest.mark.sqlite_only  # the table sqlite-utils records its steps in, read on a sqlite3 connection
def test_all_applied_reads_what_sqlite_utils_recorded(tmp_path: Path):
    db = tmp_path / "d.db"
    conn = sqlite3.connect(db)
    wanted = {"dunning": core_migrations.names()}
    assert not all_applied(conn, wanted)  # no table yet
    Store(db).close()
    assert all_applied(conn, wanted)
    assert not all_applied(conn, wanted | {"plugin:demo": ["m001_demo"]})
    assert not all_applied(conn, {"dunning": [*core_migrations.names(), "m999_not_yet"]})
    conn.close()


def test_a_plugin_step_added_later_is_applied_on_a_migrated_database(dunning_database: Path | str):
    db = dunning_database
    Store(db).close()
    ran: list[str] = []

    def m001_demo(database: sqlite_utils.Database) -> None:
        ran.append("m001_demo")
        database.execute("CREATE TABLE demo (id INTEGER PRIMARY KEY)")

    store = Store(db, {"demo": [("m001_demo", m001_demo)]})
    assert ran == ["m001_demo"] and store.failed_migrations == {}
    assert store.conn.execute("SELECT count(*) FROM demo").fetchone()[0] == 0
    store.close()
    store = Store(db, {"demo": [("m001_demo", m001_demo)]})  # applied: not run again
    assert ran == ["m001_demo"]
    store.close()


@pytest.mark.sqlite_only  # sqlite3's connection and sqlite-utils' Database over it are SQLite's
def test_the_store_opens_with_plain_sqlite3_and_offers_sqlite_utils_on_the_same_connection(tmp_path: Path):
    Store(tmp_path / "d.db").close()  # a new file: its migrations ran through sqlite-utils
    store = Store(tmp_path / "d.db")
    assert store._db is None  # migrated already: nothing asked for sqlite-utils yet
    assert store.db.conn is store.conn and isinstance(store.db, sqlite_utils.Database)
    assert store.conn.execute("PRAGMA recursive_triggers").fetchone()[0] == 1  # as sqlite_utils.Database sets it
    store.close()


@pytest.mark.sqlite_only  # the set applied to a sqlite_utils.Database as sqlite-utils' Migrations would be
def test_the_set_registers_steps_as_sqlite_utils_does_and_applies_them_in_order(tmp_path: Path):
    steps = MigrationSet("demo")

    @steps()
    def m001_first(db: sqlite_utils.Database) -> None:
        db.execute("CREATE TABLE t (x)")

    @steps(name="m002_second")
    def anything(db: sqlite_utils.Database) -> None:
        db.execute("INSERT INTO t VALUES (2)")

    with pytest.raises(ValueError, match="already registered"):
        steps(name="m001_first")(anything)
    assert steps.names() == ["m001_first", "m002_second"]
    db = sqlite_utils.Database(tmp_path / "d.db")
    assert [m.name for m in steps.pending(db)] == ["m001_first", "m002_second"]
    steps.apply(db)
    assert steps.pending(db) == [] and db.execute("SELECT x FROM t").fetchall() == [(2,)]


def test_every_listed_country_code_is_one_pycountry_knows():
    import pycountry

    assert COUNTRY_CODES.issubset({country.alpha_2 for country in pycountry.countries})
    assert COUNTRY_CODES.issuperset({"US", "GB", "CN", "DE"})
    assert is_country("DE") and not is_country("XX") and not is_country("de")
