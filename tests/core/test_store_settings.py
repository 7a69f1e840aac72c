"""[store] synchronous: FULL unless an administrator accepts losing the last commits on a power cut."""

from __future__ import annotations


from dunning.store import Store
from tests.conftest import Project, row, write_csv


PRAGMA_NAMES = {1: "normal", 2: "full"}


def synchronous_of(store: Store) -> str:
    return PRAGMA_NAMES[store.conn.execute("PRAGMA synchronous").fetchone()[0]]


def test_the_store_syncs_every_commit_by_default(tmp_path):
    store = Store(tmp_path / "d.db")
    try:
        assert synchronous_of(store) == "full"
    finally:
        store.close()


def test_normal_is_an_administrators_choice_and_holds_for_the_plan_writer_too(tmp_path):
    store = Store(tmp_path / "d.db", synchronous="normal")
    try:
        assert synchronous_of(store) == "normal"
        other = Store._another_connection(str(tmp_path / "d.db"), store.synchronous)
        assert synchronous_of(other) == "normal"
        other.close()
    finally:
        store.close()


def test_the_config_sets_it_and_refuses_anything_else(project: Project):
    project.write_config(extra='[store]\nsynchronous = "normal"\n')
    project("import", str(write_csv(project.folder / "in.csv", [row("C1")])), now="2026-02-20T08:00:00Z")
    project.write_config(extra='[store]\nsynchronous = "off"\n')
    out = project("cases", "list", expect=1).output
    assert "'store.synchronous' must be \"full\" or \"normal\", got 'off'" in out
    project.write_config(extra='[store]\nsync = "full"\n')
    assert "unknown key 'store.sync'" in project("cases", "list", expect=1).output
    assert project.sql("SELECT count(*) FROM cases") == [(1,)]
