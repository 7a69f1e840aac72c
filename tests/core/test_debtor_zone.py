"""The debtor's zone is worked out at import and stored (``debtors.zone``); readers take it from there, and any
change to what it comes from (the debtor's zone or country, a phone number added, retired or marked bad)
clears it, so the next reader works it out again from the contacts. Migration m021 fills the debtors stored
before it."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from dunning import importer
from dunning.compliance.zones import debtor_zones
from dunning.models import Contact
from dunning.store import Store

NOW = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)
BUSINESS = dt.timezone(dt.timedelta(hours=1))
CSV = """debtor_id,name,mobile,country,timezone,reference,amount,currency,due_on
OWN,Own Zone,+14155550100,US,Europe/Berlin,I1,10.00,EUR,2026-02-01
NY,New York,+12125550100,US,,I2,10.00,USD,2026-02-01
NY,New York,+12125550100,US,,I3,12.00,USD,2026-02-05
DE,Berlin,01511234567,DE,,I4,10.00,EUR,2026-02-01
NONE,No Number,,,,I5,10.00,EUR,2026-02-01
"""


@pytest.fixture
def store(tmp_path: Path, dunning_database: str | Path) -> Iterator[Store]:
    store = Store(dunning_database)  # on SQLite, then on PostgreSQL
    path = tmp_path / "debtors.csv"
    path.write_text(CSV)
    importer.import_file(store, path, now=NOW, today=NOW.date())
    yield store
    store.close()


def _zone(store: Store, debtor_id: str) -> str | None:
    return store.conn.execute("SELECT zone FROM debtors WHERE id = ?", [debtor_id]).fetchone()[0]


def _names(store: Store, debtor_id: str) -> list[str]:
    debtor = store.debtor(debtor_id)
    assert debtor is not None
    return [str(z) for z in debtor_zones(debtor, store.contacts(debtor_id), BUSINESS)]


def test_the_import_stores_each_debtors_zone(store: Store) -> None:
    assert _zone(store, "OWN") == "Europe/Berlin"  # their own zone first, whatever the number says
    assert _zone(store, "NY") == "America/New_York"
    assert _zone(store, "DE") == "Europe/Berlin"
    assert _zone(store, "NONE") == ""  # nothing to go by: the business's zone
    assert _names(store, "NONE") == [str(BUSINESS)]


def test_readers_take_the_stored_zone_without_parsing_the_number(store: Store) -> None:
    store.conn.execute("UPDATE debtors SET zone = 'Asia/Tokyo Asia/Seoul' WHERE id = 'NY'")
    assert _names(store, "NY") == ["Asia/Tokyo", "Asia/Seoul"]
    # The batch read delivery's re-checks use carries it too.
    facts = store.delivery_facts([store.open_case_id("NY", "USD") or 0], [], NOW)
    assert facts.debtors["NY"].zone == "Asia/Tokyo Asia/Seoul"


def test_a_change_to_what_the_zone_comes_from_clears_it(store: Store) -> None:
    with store.transaction():
        store.set_debtor_fields("OWN", {"timezone": None}, NOW)
    assert _zone(store, "OWN") is None
    assert _names(store, "OWN") == ["America/Los_Angeles"]  # now from the number, worked out again

    with store.transaction():
        store.set_debtor_fields("DE", {"name": "Berlin GmbH"}, NOW)  # not what the zone comes from
    assert _zone(store, "DE") == "Europe/Berlin"

    with store.transaction():
        store.add_contact(Contact(debtor_id="NONE", kind="mobile", value="+81312345678"), "edit")
    assert _zone(store, "NONE") is None
    assert _names(store, "NONE") == ["Asia/Tokyo"]

    ny_phone = next(c for c in store.contacts("NY") if c.kind == "mobile")
    store.conn.execute("UPDATE debtors SET zone = 'America/New_York' WHERE id = 'NY'")
    with store.transaction():
        store.mark_contact_bad(ny_phone.id or 0, "disconnected")
    assert _zone(store, "NY") is None
    assert _names(store, "NY") == [str(BUSINESS)]  # the only number is bad

    de_phone = next(c for c in store.contacts("DE") if c.kind == "mobile")
    with store.transaction():
        store.set_contacts_active([de_phone.id or 0], False)
    assert _zone(store, "DE") is None
    assert _names(store, "DE") == [str(BUSINESS)]


def test_reimporting_a_known_debtor_keeps_its_zone(store: Store, tmp_path: Path) -> None:
    again = tmp_path / "again.csv"
    again.write_text(CSV.splitlines()[0] + "\nDE,Berlin,01511234567,DE,,I9,11.00,EUR,2026-02-09\n")
    importer.import_file(store, again, now=NOW, today=NOW.date())
    assert _zone(store, "DE") == "Europe/Berlin"


def test_the_migration_fills_the_debtors_stored_before_it(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    Store(db).close()
    conn = sqlite3.connect(db)  # as the file was before m021: no column, no triggers, not applied
    for trigger in ("debtors_zone_follows", "contacts_added_zone", "contacts_changed_zone", "contacts_removed_zone"):
        conn.execute(f"DROP TRIGGER {trigger}")
    conn.execute("ALTER TABLE debtors DROP COLUMN zone")
    conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm021_debtor_zone'")
    stamp = "2026-01-01T00:00:00Z"
    conn.executemany("INSERT INTO debtors (id, name, kind, country, timezone, created_at, updated_at) "
                     "VALUES (?, ?, 'person', ?, ?, ?, ?)",
                     [("A", "A", "US", None, stamp, stamp), ("B", "B", "DE", "Asia/Tokyo", stamp, stamp),
                      ("C", "C", None, None, stamp, stamp)])
    conn.executemany("INSERT INTO contacts (debtor_id, kind, value, role, bad, active) VALUES (?, ?, ?, ?, ?, ?)",
                     [("A", "mobile", "+33612345678", "debtor", 1, 1),  # bad: passed over
                      ("A", "home", "+12125550100", "spouse", 0, 1),  # not the debtor's
                      ("A", "work", "+4930123456", "debtor", 0, 1),
                      ("B", "mobile", "+12125550100", "debtor", 0, 1)])
    conn.commit()
    conn.close()
    store = Store(db)
    assert [_zone(store, d) for d in ("A", "B", "C")] == ["Europe/Berlin", "Asia/Tokyo", ""]
