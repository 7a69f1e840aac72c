"""``cases list`` from plain rows (``dunning.case_listing``) says, byte for byte, what the case-by-case fields say.

The fast path reads a page in one query and writes each case's JSON from a template; the plain path builds a
``Case``, its ``CaseFacts`` and ``case_fields``' dict and hands it to the JSON encoder. Here both run over
varied cases: every status and stage, signals, broken promises, dates of contact and payment far and near,
paid, part-paid, closed and disputed items, promises due today, good and bad numbers, names JSON must escape,
a debtor row missing, and both the business's zone and another.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import random
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from dunning import case_listing, priority
from dunning.cli_records import case_fields
from dunning.store import Store
from dunning.testing_postgres import DATABASES

ROOT = Path(__file__).resolve().parents[2]
DUNNING = [sys.executable, "-c", "from dunning.cli import cli; cli(prog_name='dunning')"]
TODAY = dt.date(2026, 3, 10)
NOW = "2026-03-01T09:00:00Z"
CASES = 400
NAMES = ['Anna "the" Müller', "Zoë \\ Ltd", "李小龙", "Tab\tName", "Plain Name"]


def _day(offset: int | None) -> str | None:
    return None if offset is None else (TODAY + dt.timedelta(days=offset)).isoformat()


@pytest.fixture
def store(dunning_database: str | Path) -> Iterator[Store]:
    store = Store(dunning_database)  # on SQLite, then on PostgreSQL
    rng = random.Random(21)
    conn = store.conn
    with store.transaction():
        for i in range(1, CASES + 1):
            debtor = f"D{i}" if i % 7 else f'D"{i}é'
            # One debtor in fifty has no row: the listing shows no name. SQLite alone allows it; PostgreSQL checks
            # each case's reference to its debtor.
            if i % 50 or store.dialect == "postgresql":
                conn.execute("INSERT INTO debtors (id, name, kind, created_at, updated_at) "
                             "VALUES (?, ?, 'person', ?, ?)", [debtor, f"{rng.choice(NAMES)} {i}", NOW, NOW])
            balance = 0
            for n in range(rng.randint(0, 3)):
                amount = rng.choice([1000, 2500, 9999, 123456789])
                paid = rng.choice([0, 0, amount // 2, amount])
                due = TODAY + dt.timedelta(days=rng.choice([-400, -30, -1, 0, 1, 20]))
                closed, disputed = rng.random() < 0.15, rng.random() < 0.15
                balance += amount - paid
                conn.execute(
                    "INSERT INTO obligations (case_id, debtor_id, reference, amount, currency, issued_on, due_on, "
                    "paid, closed_reason, closed_on, disputed_on) VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?)",
                    [i, debtor, f"INV-{i}-{n}", amount, "EUR", due.isoformat(), paid,
                     "credited" if closed else None, TODAY.isoformat() if closed else None,
                     TODAY.isoformat() if disputed else None])
            status = rng.choice(["open", "open", "open", "paid", "written_off"])
            conn.execute(
                "INSERT INTO cases (id, debtor_id, currency, stage, status, balance, anchor_due_on, opened_on, "
                "next_action_on, broken_promises, account_locked, last_contact_on, last_payment_on, signals, "
                "resolved_on, creditor_reference) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [i, debtor, rng.choice(["EUR", "EUR", "JPY", "KWD"]), rng.choice(["internal", "onsite", "agency"]),
                 status, balance, _day(rng.choice([None, -400, -200, -95, -31, -1, 0, 3])), "2026-01-01",
                 _day(rng.choice([None, 1, 30])), rng.choice([0, 0, 1, 2, 3]), rng.choice([0, 1]),
                 _day(rng.choice([None, -300, -40, -2])), _day(rng.choice([None, -250, -5])),
                 rng.choice(["", "relocation", "relocation,bankruptcy", 'odd "signal"']),
                 _day(-1) if status != "open" else None, rng.choice([None, f"RF18{i:08d}"])])
            for _ in range(rng.choice([0, 0, 1, 2])):
                conn.execute("INSERT INTO payments (case_id, amount, at, reference, created_at, reversed_at) "
                             "VALUES (?, 100, ?, NULL, ?, ?)", [i, NOW, NOW, NOW if rng.random() < 0.3 else None])
            if rng.random() < 0.3:
                due_at = rng.choice(["2026-03-10T15:00:00Z", "2026-03-11T03:00:00Z", "2026-03-09T23:00:00Z"])
                conn.execute("INSERT INTO promises (case_id, amount, due_at, status, created_at) "
                             "VALUES (?, 500, ?, ?, ?)", [i, due_at, rng.choice(["pending", "kept"]), NOW])
            for n in range(rng.choice([0, 1, 2])):
                conn.execute("INSERT INTO contacts (debtor_id, kind, value, role, bad, active) "
                             "VALUES (?, ?, ?, ?, ?, ?)",
                             [debtor, rng.choice(["mobile", "home", "work", "email"]), f"+4477009{i:03d}{n}",
                              rng.choice(["debtor", "debtor", "third_party"]), rng.choice([0, 1]),
                              rng.choice([1, 1, 0])])
    yield store
    store.close()


def _plain(store: Store, today: dt.date, zone: dt.tzinfo, **only: str) -> list[dict[str, Any]]:
    """What ``cli_records.cases_json`` gives with the built-in score: a ``Case`` and its facts per case."""
    found = []
    for page in store.case_pages(page=64, **only):
        names = store.debtor_names(c.debtor_id for c in page)
        owed = store.owed_figures_of([c.id for c in page], today)
        facts = store.priority_facts_of(page, today, zone)
        found += [case_fields(c, today, names.get(c.debtor_id), *owed[c.id], priority.score(c, facts[c.id]))
                  for c in page]
    return found


@pytest.mark.parametrize("zone", [dt.UTC, dt.timezone(dt.timedelta(hours=-5))])
def test_records_are_the_case_fields_and_encode_as_the_json_encoder_does(store: Store, zone: dt.tzinfo) -> None:
    encoder = json.JSONEncoder(ensure_ascii=False, default=str)
    records = list(case_listing.records(store.case_listing_pages(TODAY, zone, page=64), TODAY))
    plain = _plain(store, TODAY, zone)
    assert len(records) == len(plain) == CASES
    for record, fields in zip(records, plain, strict=True):
        assert case_listing.as_dict(record) == fields, fields["id"]
        assert case_listing.encode(record) == encoder.encode(fields), fields["id"]
    # The sample has what the template must write in each form.
    assert {f["debtor_name"] is None for f in plain} == ({True, False} if store.dialect == "sqlite" else {False})
    assert {f["risk"] for f in plain} >= {None, "not_yet_due", "in_collection", "doubtful", "bad_debt", "dormant"}
    assert {len(f["signals"]) for f in plain} >= {0, 1, 2}


@pytest.mark.parametrize("zone", [dt.UTC, dt.timezone(dt.timedelta(hours=-5))])
def test_json_lines_are_the_records_encoded(store: Store, zone: dt.tzinfo) -> None:
    # json_lines writes each line straight from the row: the same bytes as a record's, and the JSON encoder's.
    encoder = json.JSONEncoder(ensure_ascii=False, default=str)
    lines = list(case_listing.json_lines(store.case_listing_pages(TODAY, zone, page=64), TODAY))
    records = list(case_listing.records(store.case_listing_pages(TODAY, zone, page=64), TODAY))
    assert lines == [case_listing.encode(r) for r in records]
    assert lines == [encoder.encode(fields) for fields in _plain(store, TODAY, zone)]
    assert [json.loads(line) for line in lines] == [case_listing.as_dict(r) for r in records]


def test_a_filter_and_a_limit_keep_the_same_cases(store: Store) -> None:
    records = list(case_listing.records(
        store.case_listing_pages(TODAY, stage="onsite", status="open", limit=25, page=10), TODAY))
    plain = _plain(store, TODAY, dt.UTC, stage="onsite", status="open")[:25]
    assert [case_listing.as_dict(r) for r in records] == plain
    assert len(records) == 25


def test_read_ahead_reads_the_same_pages_on_a_thread_and_connection_of_its_own(store: Store) -> None:
    """On SQLite the pages are read ahead on a second connection; on PostgreSQL the work stays on the one."""
    readers: list[tuple[int, Store]] = []

    def read(other: Store) -> Iterator[list[tuple[object, ...]]]:
        readers.append((threading.get_ident(), other))
        yield from other.case_listing_pages(TODAY, page=64)

    assert list(store.read_ahead(read)) == list(store.case_listing_pages(TODAY, page=64))
    [(thread, other)] = readers
    if store.dialect == "postgresql":
        assert (thread, other) == (threading.get_ident(), store)
    else:
        assert thread != threading.get_ident() and other is not store


def test_read_ahead_ends_its_reader_when_the_caller_stops_early(store: Store) -> None:
    pages = store.read_ahead(lambda other: other.case_listing_pages(TODAY, page=10))
    assert isinstance(pages, Generator)
    assert [row[0] for row in next(pages)] == list(range(1, 11))
    pages.close()  # as when `head` closes the pipe: the reader waiting for room is let go
    assert "dunning-read-ahead" not in [t.name for t in threading.enumerate()]


def test_read_ahead_raises_what_stopped_the_reader(store: Store) -> None:
    def read(other: Store) -> Iterator[list[tuple[object, ...]]]:
        yield from other.case_listing_pages(TODAY, limit=20, page=10)
        other.conn.execute("SELECT no_such_column FROM cases")
        yield []

    pages = store.read_ahead(read)
    assert [len(page) for page in itertools.islice(pages, 2)] == [10, 10]
    if store.dialect == "sqlite":
        refused: type[Exception] = sqlite3.OperationalError
    else:
        import psycopg

        refused = psycopg.errors.UndefinedColumn
    with pytest.raises(refused, match="no_such_column"):
        next(pages)


def test_inside_a_transaction_read_ahead_reads_on_the_same_connection(store: Store) -> None:
    # A second connection would not see what this transaction wrote and has not committed.
    with store.transaction():
        store.conn.execute("UPDATE cases SET stage = 'litigation' WHERE id = 1")
        first = next(iter(store.read_ahead(lambda other: other.case_listing_pages(TODAY, page=10))))
        assert first[0][3] == "litigation"


@pytest.fixture(scope="module")
def generated_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2,500 cases from bench/dispatch.py's generator, and a dunning.toml: more than a page, so the listing is
    written a line per case as the pages come."""
    db = tmp_path_factory.mktemp("listing") / "dunning.db"
    subprocess.run([sys.executable, "-c", "import sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]); "
                    "import dispatch; dispatch.generate(Path(sys.argv[2]), int(sys.argv[3]))",
                    str(ROOT / "bench"), str(db), "2500"], check=True, timeout=120)
    subprocess.run([*DUNNING, "init"], cwd=db.parent, check=True, capture_output=True, timeout=60)
    return db


@pytest.fixture(scope="module", params=DATABASES)
def generated(request: pytest.FixtureRequest, generated_file: Path) -> Iterator[tuple[Path, Path | str]]:
    """The folder of the generated portfolio and its database: the SQLite file, then a PostgreSQL database the
    file was copied to (``dunning db copy``), made once for the module."""
    if request.param == "sqlite":
        yield generated_file.parent, generated_file
        return
    server = request.getfixturevalue("dunning_postgres")
    name = server.create_database()
    url = server.url(name)
    try:
        subprocess.run([*DUNNING, "db", "copy", str(generated_file), url], cwd=generated_file.parent, check=True,
                       capture_output=True, timeout=300)
        yield generated_file.parent, url
    finally:
        server.drop_database(name)


def _listing(db: Path | str) -> list[str]:
    return [*DUNNING, "--db", str(db), "--now", "2026-03-02T09:00", "cases", "list", "--json"]


def test_cases_list_json_writes_each_cases_record_as_a_line(generated: tuple[Path, Path | str]) -> None:
    folder, db = generated
    done = subprocess.run(_listing(db), cwd=folder, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    store = Store(db)
    records = list(case_listing.records(store.case_listing_pages(dt.date(2026, 3, 2)), dt.date(2026, 3, 2)))
    store.close()
    assert len(records) == 2500
    assert done.stdout == "[\n" + ",\n".join(map(case_listing.encode, records)) + "\n]\n"


def test_cases_list_json_stops_quietly_when_its_reader_goes(generated: tuple[Path, Path | str]) -> None:
    # As behind `| head -3`: the pipe closes while the next pages are being read on the other thread.
    folder, db = generated
    child = subprocess.Popen(_listing(db), cwd=folder, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stderr is not None
    assert child.stdout.readline() == "[\n"
    assert child.stdout.readline().startswith('{"id": 1, ')
    child.stdout.close()
    assert child.wait(timeout=60) == 0
    assert child.stderr.read() == ""
