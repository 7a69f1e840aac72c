"""Triggers an import sets aside for its own rows (``dunning.store.import_triggers``): only those that would do
nothing for them, put back before the commit, restored by a rollback, and m021's zone rule still kept."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from dunning import importer
from dunning.store import Store, import_triggers, obligation_import

NOW = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)


def _triggers(path: Path) -> list[tuple[str, str]]:
    conn = sqlite3.connect(path)
    found = sorted(conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall())
    conn.close()
    return found


def _csv(path: Path, rows: list[str]) -> Path:
    path.write_text("debtor_id,name,mobile,country,reference,amount,currency,due_on\n" + "".join(
        f"{r}\n" for r in rows), encoding="utf-8")
    return path


def test_the_triggers_set_aside_are_the_report_rollups_and_the_zone_trigger(tmp_path: Path):
    Store(tmp_path / "d.db").close()
    conn = sqlite3.connect(tmp_path / "d.db")
    conn.execute("BEGIN")
    aside = import_triggers.triggers_to_set_aside(conn)
    conn.close()
    # If a migration changes one of these, the import keeps it (correct, slower) and this test says so.
    assert set(aside) == {"report_case_moves_insert", "report_payment_contacts_contact", "contacts_added_zone"}


@pytest.mark.parametrize(("sql", "idle"), [
    ("CREATE TRIGGER t AFTER INSERT ON events WHEN NEW.kind IN ('sent', 'x') BEGIN SELECT 1; END", True),
    ("CREATE TRIGGER t AFTER INSERT ON events WHEN NEW.kind IN ('sent') AND NEW.case_id IS NOT NULL "
     "BEGIN SELECT 1; END", True),
    ("CREATE TRIGGER t AFTER INSERT ON events WHEN NEW.kind IN ('sent', 'case_opened') BEGIN SELECT 1; END", False),
    ("CREATE TRIGGER t AFTER INSERT ON events WHEN NEW.kind IN ('obligation_added') BEGIN SELECT 1; END", False),
    ("CREATE TRIGGER t AFTER INSERT ON events WHEN NEW.kind IN ('sent') AND NEW.dpd > 1 OR NEW.seq > 0 "
     "BEGIN SELECT 1; END", False),
    ("CREATE TRIGGER t AFTER INSERT ON events BEGIN SELECT 1; END", False),
    ("CREATE TRIGGER t AFTER INSERT ON events WHEN NEW.stage IN ('sent') BEGIN SELECT 1; END", False),
    ("CREATE TRIGGER t AFTER INSERT ON events WHEN NEW.kind NOT IN ('sent') BEGIN SELECT 1; END", False),
])
def test_an_events_trigger_is_idle_only_when_its_kinds_exclude_the_imports(sql: str, idle: bool):
    assert import_triggers.idle_for_import(sql) is idle


def test_an_import_leaves_every_trigger_as_it_was(tmp_path: Path):
    store = Store(tmp_path / "d.db")
    before = _triggers(tmp_path / "d.db")
    importer.import_file(store, _csv(tmp_path / "a.csv", ["A,Anna,+4915112345678,DE,I1,10.00,EUR,2026-02-01"]),
                         now=NOW, today=NOW.date())
    assert _triggers(tmp_path / "d.db") == before
    store.close()


def test_a_failed_write_rolls_the_triggers_back_with_the_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    store = Store(tmp_path / "d.db")
    before = _triggers(tmp_path / "d.db")
    monkeypatch.setattr(obligation_import, "_CHUNK", 1)
    original = obligation_import.ObligationImport._write_chunk
    calls = []

    def failing(self, chunk, *args):  # type: ignore[no-untyped-def]
        calls.append(len(chunk))
        if len(calls) == 2:  # the second chunk: the first is written, the triggers are dropped
            raise OSError("disk full")
        return original(self, chunk, *args)

    monkeypatch.setattr(obligation_import.ObligationImport, "_write_chunk", failing)
    path = _csv(tmp_path / "a.csv", ["A,Anna,+4915112345678,DE,I1,10.00,EUR,2026-02-01",
                                     "B,Ben,+4915112345679,DE,I2,10.00,EUR,2026-02-01"])
    with pytest.raises(OSError, match="disk full"):
        importer.import_file(store, path, now=NOW, today=NOW.date())
    assert _triggers(tmp_path / "d.db") == before
    assert store.conn.execute("SELECT count(*) FROM debtors").fetchone()[0] == 0
    store.close()


def _zone(store: Store, debtor_id: str) -> str | None:
    return store.conn.execute("SELECT zone FROM debtors WHERE id = ?", [debtor_id]).fetchone()[0]


@pytest.mark.parametrize("aside", [True, False])
def test_a_new_phone_number_for_a_stored_debtor_clears_its_zone_either_way(tmp_path: Path, aside: bool,
                                                                           monkeypatch: pytest.MonkeyPatch,
                                                                           dunning_database: Path | str):
    """With m021's trigger set aside (the import does its work) and with it in place, the same zones. (On
    PostgreSQL the import sets no trigger aside: both runs keep it in place, and must give the same zones.)"""
    if not aside:
        monkeypatch.setattr(import_triggers, "CONTACTS_ZONE_SQL", "not this trigger's text")
    store = Store(dunning_database)
    importer.import_file(store, _csv(tmp_path / "a.csv", ["A,Anna,+4915112345678,DE,I1,10.00,EUR,2026-02-01",
                                                          "B,Ben,+4915112345679,DE,I2,10.00,EUR,2026-02-01"]),
                         now=NOW, today=NOW.date())
    assert _zone(store, "A") == _zone(store, "B") == "Europe/Berlin"
    # Written as `import --sync` does (a plain import refuses new contacts): A gets a number it did not have,
    # B gives its own number again.
    again = [importer.check_row(1, {"debtor_id": "A", "name": "Anna", "mobile": "+12125550100", "country": "DE",
                                    "reference": "I3", "amount": "5.00", "currency": "EUR",
                                    "due_on": "2026-02-03"}, [])[0],
             importer.check_row(2, {"debtor_id": "B", "name": "Ben", "mobile": "+4915112345679", "country": "DE",
                                    "reference": "I4", "amount": "5.00", "currency": "EUR",
                                    "due_on": "2026-02-03"}, [])[0]]
    store.import_obligations([item for item in again if item is not None], NOW, NOW.date())
    assert _zone(store, "A") is None  # worked out again by the next reader
    assert _zone(store, "B") == "Europe/Berlin"
    store.close()
