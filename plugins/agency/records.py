"""The agency plugin's own tables: placements, the lines of return files, imports.

The only module of the plugin that speaks SQL. Every function takes the
``sqlite_utils.Database`` the core hands the plugin (``ctx.db``, or
``ctx.db`` of a command's ``PluginContext``) and writes inside whatever transaction the
caller holds: a placement commits or rolls back with its stage change.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

import attrs

from dunning.plugins.agency.choice import AgencyRecord

if TYPE_CHECKING:
    import sqlite_utils  # for annotations: imported at run time only by the core, when needed

OPEN = "open"
ENDED = "ended"


# --- schema -----------------------------------------------------------------


def m001_placements(db: sqlite_utils.Database) -> None:
    db.execute(
        """
        CREATE TABLE agency_placements (
            id INTEGER PRIMARY KEY,
            case_id INTEGER NOT NULL,
            agency TEXT NOT NULL,
            status TEXT NOT NULL,
            placed_at TEXT NOT NULL,
            placed_on TEXT NOT NULL,
            expires_on TEXT,
            currency TEXT NOT NULL,
            balance_placed INTEGER NOT NULL,
            dpd_at_placement INTEGER,
            file_row TEXT NOT NULL,
            placement_file TEXT,
            ended_at TEXT,
            ended_on TEXT,
            end_kind TEXT,
            end_reason TEXT,
            balance_at_end INTEGER,
            recall_listed INTEGER NOT NULL DEFAULT 0,
            recall_file TEXT
        )
        """
    )
    # A case is with one agency at a time.
    db.execute("CREATE UNIQUE INDEX agency_placements_open ON agency_placements (case_id) WHERE status = 'open'")
    db.execute("CREATE INDEX agency_placements_case ON agency_placements (case_id, id)")
    db.execute("CREATE INDEX agency_placements_agency ON agency_placements (agency, status, id)")
    db.execute("CREATE INDEX agency_placements_unfiled ON agency_placements (placement_file, agency, placed_on)")
    db.execute(
        "CREATE INDEX agency_placements_recalls ON agency_placements (recall_listed, recall_file, agency, ended_on)"
    )


def m002_returns(db: sqlite_utils.Database) -> None:
    db.execute(
        """
        CREATE TABLE agency_imports (
            id INTEGER PRIMARY KEY,
            agency TEXT NOT NULL,
            file_name TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            lines INTEGER NOT NULL,
            imported_at TEXT NOT NULL
        )
        """
    )
    db.execute(
        """
        CREATE TABLE agency_transactions (
            id INTEGER PRIMARY KEY,
            agency TEXT NOT NULL,
            transaction_id TEXT NOT NULL,
            placement_id INTEGER NOT NULL REFERENCES agency_placements(id),
            case_id INTEGER NOT NULL,
            kind TEXT NOT NULL,
            happened_on TEXT NOT NULL,
            amount INTEGER,
            currency TEXT,
            commission INTEGER,
            rate TEXT,
            detail TEXT,
            import_id INTEGER NOT NULL REFERENCES agency_imports(id),
            line INTEGER NOT NULL,
            UNIQUE (agency, transaction_id)
        )
        """
    )
    db.execute("CREATE INDEX agency_transactions_placement ON agency_transactions (placement_id, kind)")


MIGRATIONS = (("m001_placements", m001_placements), ("m002_returns", m002_returns))


# --- placements -------------------------------------------------------------


@attrs.frozen
class Placement:
    id: int
    case_id: int
    agency: str
    status: str
    placed_at: str
    placed_on: dt.date
    expires_on: dt.date | None
    currency: str
    balance_placed: int
    dpd_at_placement: int | None
    file_row: Mapping[str, str]
    placement_file: str | None = None
    ended_at: str | None = None
    ended_on: dt.date | None = None
    end_kind: str | None = None
    end_reason: str | None = None
    balance_at_end: int | None = None
    recall_listed: bool = False
    recall_file: str | None = None

    @property
    def is_open(self) -> bool:
        return self.status == OPEN

    def covers(self, day: dt.date) -> bool:
        """Whether the case was with the agency on ``day``."""
        return self.placed_on <= day and (self.ended_on is None or day <= self.ended_on)


_COLUMNS = (
    "id, case_id, agency, status, placed_at, placed_on, expires_on, currency, balance_placed, dpd_at_placement, "
    "file_row, placement_file, ended_at, ended_on, end_kind, end_reason, balance_at_end, recall_listed, recall_file"
)


def _date(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def _placement(row: Sequence[Any]) -> Placement:
    return Placement(
        id=row[0],
        case_id=row[1],
        agency=row[2],
        status=row[3],
        placed_at=row[4],
        placed_on=dt.date.fromisoformat(row[5]),
        expires_on=_date(row[6]),
        currency=row[7],
        balance_placed=row[8],
        dpd_at_placement=row[9],
        file_row=json.loads(row[10]),
        placement_file=row[11],
        ended_at=row[12],
        ended_on=_date(row[13]),
        end_kind=row[14],
        end_reason=row[15],
        balance_at_end=row[16],
        recall_listed=bool(row[17]),
        recall_file=row[18],
    )


def add_placement(db: sqlite_utils.Database, *, case_id: int, agency: str, placed_at: str, placed_on: dt.date,
                  expires_on: dt.date | None, currency: str, balance: int, dpd: int | None,
                  file_row: Mapping[str, str]) -> int:
    cursor = db.execute(
        "INSERT INTO agency_placements (case_id, agency, status, placed_at, placed_on, expires_on, currency, "
        "balance_placed, dpd_at_placement, file_row) VALUES (?, ?, 'open', ?, ?, ?, ?, ?, ?, ?)",
        [case_id, agency, placed_at, placed_on.isoformat(), expires_on.isoformat() if expires_on else None, currency,
         balance, dpd, json.dumps(dict(file_row), ensure_ascii=False)],
    )
    return cast(int, cursor.lastrowid)  # an INSERT always sets it


def end_placement(db: sqlite_utils.Database, placement_id: int, *, ended_at: str, ended_on: dt.date, kind: str,
                  reason: str, balance: int, listed: bool) -> bool:
    """End an open placement; ``listed`` puts it in that day's recall file. False if it had already ended."""
    cursor = db.execute(
        "UPDATE agency_placements SET status = 'ended', ended_at = ?, ended_on = ?, end_kind = ?, end_reason = ?, "
        "balance_at_end = ?, recall_listed = ? WHERE id = ? AND status = 'open'",
        [ended_at, ended_on.isoformat(), kind, reason, balance, int(listed), placement_id],
    )
    return cursor.rowcount == 1


def open_placement(db: sqlite_utils.Database, case_id: int) -> Placement | None:
    row = db.execute(f"SELECT {_COLUMNS} FROM agency_placements WHERE case_id = ? AND status = 'open'",
                     [case_id]).fetchone()
    return _placement(row) if row else None


def placement(db: sqlite_utils.Database, placement_id: int) -> Placement:
    row = db.execute(f"SELECT {_COLUMNS} FROM agency_placements WHERE id = ?", [placement_id]).fetchone()
    if row is None:
        raise LookupError(f"no placement with id {placement_id}")
    return _placement(row)


def placements(db: sqlite_utils.Database, *, agency: str | None = None, case_ids: Iterable[int] | None = None,
               open_only: bool = False) -> list[Placement]:
    where: list[str] = ["1"]
    params: list[Any] = []
    if agency is not None:
        where.append("agency = ?")
        params.append(agency)
    if case_ids is not None:
        ids = list(case_ids)
        if not ids:
            return []
        where.append(f"case_id IN ({', '.join('?' * len(ids))})")
        params.extend(ids)
    if open_only:
        where.append("status = 'open'")
    return [_placement(r) for r in db.execute(
        f"SELECT {_COLUMNS} FROM agency_placements WHERE {' AND '.join(where)} ORDER BY id", params)]


def placement_pages(db: sqlite_utils.Database, *, agency: str | None = None, case_id: int | None = None,
                    open_only: bool = False, page: int = 1_000) -> Iterator[list[Placement]]:
    """``placements`` a page at a time, by id (keyset paging on the primary key), for listings that stream."""
    where: list[str] = ["id > ?"]
    params: list[Any] = []
    if agency is not None:
        where.append("agency = ?")
        params.append(agency)
    if case_id is not None:
        where.append("case_id = ?")
        params.append(case_id)
    if open_only:
        where.append("status = 'open'")
    sql = f"SELECT {_COLUMNS} FROM agency_placements WHERE {' AND '.join(where)} ORDER BY id LIMIT ?"
    last = 0
    while True:
        found = [_placement(r) for r in db.execute(sql, [last, *params, page])]
        if not found:
            return
        yield found
        if len(found) < page:
            return
        last = found[-1].id


def expired(db: sqlite_utils.Database, today: dt.date) -> list[Placement]:
    """Open placements whose agreed period is over (``expires_on`` is today or earlier)."""
    return [_placement(r) for r in db.execute(
        f"SELECT {_COLUMNS} FROM agency_placements WHERE status = 'open' AND expires_on IS NOT NULL "
        "AND expires_on <= ? ORDER BY expires_on, id", [today.isoformat()])]


def agency_records(db: sqlite_utils.Database, window: int) -> dict[str, AgencyRecord]:
    """Open placements, last placement and recent recovery rates of every agency that has placements."""
    records: dict[str, AgencyRecord] = {}
    for agency, open_count, last in db.execute(
        # A CASE, not sum(status = 'open'): PostgreSQL does not add up booleans.
        "SELECT agency, sum(CASE WHEN status = 'open' THEN 1 ELSE 0 END), max(placed_at) FROM agency_placements "
        "GROUP BY agency"
    ).fetchall():
        rates = tuple(
            Decimal(recovered) / Decimal(placed)
            for placed, recovered in db.execute(
                "SELECT p.balance_placed, coalesce((SELECT sum(t.amount) FROM agency_transactions t "
                "WHERE t.placement_id = p.id AND t.kind = 'payment'), 0) "
                "FROM agency_placements p WHERE p.agency = ? AND p.balance_placed > 0 ORDER BY p.id DESC LIMIT ?",
                [agency, window],
            ).fetchall()
        )
        records[agency] = AgencyRecord(open_placements=int(open_count or 0), recent_rates=rates, last_placed_at=last)
    return records


# --- files ------------------------------------------------------------------------


def unfiled_placement_days(db: sqlite_utils.Database) -> list[tuple[str, dt.date]]:
    return [
        (r[0], dt.date.fromisoformat(r[1]))
        for r in db.execute(
            "SELECT DISTINCT agency, placed_on FROM agency_placements WHERE placement_file IS NULL ORDER BY placed_on, "
            "agency"
        )
    ]


def unfiled_recall_days(db: sqlite_utils.Database) -> list[tuple[str, dt.date]]:
    return [(r[0], dt.date.fromisoformat(r[1])) for r in db.execute(
        "SELECT DISTINCT agency, ended_on FROM agency_placements WHERE recall_listed = 1 AND recall_file IS NULL "
        "ORDER BY ended_on, agency")]


def placed_on_day(db: sqlite_utils.Database, agency: str, day: dt.date) -> list[Placement]:
    return [_placement(r) for r in db.execute(
        f"SELECT {_COLUMNS} FROM agency_placements WHERE agency = ? AND placed_on = ? ORDER BY id",
        [agency, day.isoformat()])]


def recalled_on_day(db: sqlite_utils.Database, agency: str, day: dt.date) -> list[Placement]:
    return [_placement(r) for r in db.execute(
        f"SELECT {_COLUMNS} FROM agency_placements WHERE agency = ? AND ended_on = ? AND recall_listed = 1 ORDER BY id",
        [agency, day.isoformat()])]


def mark_filed(db: sqlite_utils.Database, kind: str, ids: Sequence[int], file_name: str) -> None:
    column = "placement_file" if kind == "placements" else "recall_file"
    if ids:
        db.execute(f"UPDATE agency_placements SET {column} = ? WHERE id IN ({', '.join('?' * len(ids))})",
                   [file_name, *ids])


# --- return files -------------------------------------------------------------------


def known_transactions(db: sqlite_utils.Database, agency: str, transaction_ids: Iterable[str]) -> dict[str, str]:
    """Which of these transaction ids the agency sent before: id -> the day it was imported."""
    ids = list(transaction_ids)
    found: dict[str, str] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        for txn, imported_at in db.execute(
            "SELECT t.transaction_id, i.imported_at FROM agency_transactions t JOIN agency_imports i ON i.id = "
            "t.import_id "
            f"WHERE t.agency = ? AND t.transaction_id IN ({', '.join('?' * len(chunk))})",
            [agency, *chunk],
        ):
            found[txn] = imported_at
    return found


def recovered(db: sqlite_utils.Database, placement_id: int) -> int:
    """What the agency has collected on a placement so far (minor units)."""
    row = db.execute(
        "SELECT coalesce(sum(amount), 0) FROM agency_transactions WHERE placement_id = ? AND kind = 'payment'",
        [placement_id],
    ).fetchone()
    return int(row[0])


def add_import(
    db: sqlite_utils.Database, agency: str, file_name: str, sha256: str, lines: int, imported_at: str
) -> int:
    cursor = db.execute(
        "INSERT INTO agency_imports (agency, file_name, sha256, lines, imported_at) VALUES (?, ?, ?, ?, ?)",
        [agency, file_name, sha256, lines, imported_at],
    )
    return cast(int, cursor.lastrowid)  # an INSERT always sets it


def add_transaction(db: sqlite_utils.Database, *, agency: str, transaction_id: str, placement_id: int, case_id: int,
                    kind: str, happened_on: dt.date, amount: int | None, currency: str | None, commission: int | None,
                    rate: str | None, detail: str | None, import_id: int, line: int) -> None:
    db.execute(
        "INSERT INTO agency_transactions (agency, transaction_id, placement_id, case_id, kind, happened_on, amount, "
        "currency, commission, rate, detail, import_id, line) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [agency, transaction_id, placement_id, case_id, kind, happened_on.isoformat(), amount, currency, commission,
         rate, detail, import_id, line],
    )


@attrs.frozen
class Collected:
    """One payment an agency collected, as the report needs it."""

    placement_id: int
    transaction_id: str
    happened_on: dt.date
    amount: int
    commission: int


def collected(db: sqlite_utils.Database) -> list[Collected]:
    return [Collected(r[0], r[1], dt.date.fromisoformat(r[2]), r[3], r[4] or 0) for r in db.execute(
        "SELECT placement_id, transaction_id, happened_on, amount, commission FROM agency_transactions "
        "WHERE kind = 'payment' ORDER BY happened_on, id")]


def payment_references(db: sqlite_utils.Database) -> dict[int, set[str]]:
    """The transaction ids of the agencies' payments, by case (the references ``pay`` stored them under)."""
    refs: dict[int, set[str]] = {}
    for case_id, transaction_id in db.execute(
            "SELECT case_id, transaction_id FROM agency_transactions WHERE kind = 'payment'"):
        refs.setdefault(case_id, set()).add(transaction_id)
    return refs
