"""Placement and recall files: one CSV per agency and day, with a JSON manifest.

Files are always written from the placements table, never appended to:
a day's file holds every placement (or recall) of that day, so writing it
again gives the same bytes. Each file is written beside its final name
and renamed into place (CSV first, manifest last: an agency's pick-up job
waits for the manifest), then its rows are marked as filed. A crash at
any point leaves rows unmarked, and the next run writes the same files
again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from dunning import money, spreadsheet
from dunning.plugins.agency import records
from dunning.plugins.agency.placement import FILE_FIELDS
from dunning.plugins.agency.records import Placement
from dunning.plugins.agency.settings import AgencySettings

if TYPE_CHECKING:
    import sqlite_utils  # for annotations: imported at run time only by the core, when needed

FORMAT = "dunning-agency-file/1"
PLACEMENT_COLUMNS = ("placement_id", "case_id", *FILE_FIELDS)
RECALL_COLUMNS = ("placement_id", "case_id", "debtor_id", "debtor_name", "placed_on", "recalled_on", "reason_kind",
                  "reason", "currency", "balance_now")


@attrs.frozen
class WrittenFile:
    agency: str
    kind: str  # "placements" or "recalls"
    day: dt.date
    csv_path: Path
    manifest_path: Path
    sha256: str
    rows: int


def placement_rows(placements: Sequence[Placement]) -> list[dict[str, str]]:
    return [{"placement_id": str(p.id), "case_id": str(p.case_id), **{k: p.file_row.get(k, "") for k in FILE_FIELDS}}
            for p in placements]


def recall_rows(placements: Sequence[Placement]) -> list[dict[str, str]]:
    return [
        {
            "placement_id": str(p.id),
            "case_id": str(p.case_id),
            "debtor_id": p.file_row.get("debtor_id", ""),
            "debtor_name": p.file_row.get("debtor_name", ""),
            "placed_on": p.placed_on.isoformat(),
            "recalled_on": p.ended_on.isoformat() if p.ended_on else "",
            "reason_kind": p.end_kind or "",
            "reason": p.end_reason or "",
            "currency": p.currency,
            "balance_now": money.format_minor(p.balance_at_end or 0, p.currency),
        }
        for p in placements
    ]


def csv_bytes(columns: Sequence[str], rows: Sequence[dict[str, str]]) -> bytes:
    buffer = io.StringIO()
    writer = spreadsheet.dict_writer(buffer, list(columns), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def manifest(kind: str, agency: str, agency_name: str, day: dt.date, file_name: str, data: bytes,
             placements: Sequence[Placement]) -> dict[str, Any]:
    totals: dict[str, int] = {}
    for p in placements:
        amount = p.balance_placed if kind == "placements" else (p.balance_at_end or 0)
        totals[p.currency] = totals.get(p.currency, 0) + amount
    return {
        "format": FORMAT,
        "kind": kind,
        "agency": agency,
        "agency_name": agency_name,
        "date": day.isoformat(),
        "file": file_name,
        "sha256": hashlib.sha256(data).hexdigest(),
        "bytes": len(data),
        "rows": len(placements),
        "placement_ids": [p.id for p in placements],
        "totals": {currency: money.format_minor(total, currency) for currency, total in sorted(totals.items())},
    }


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def write_day(db: sqlite_utils.Database, settings: AgencySettings, base_dir: Path, agency: str, kind: str,
              day: dt.date) -> WrittenFile:
    """(Re)write one agency's placement or recall file for ``day`` from the table, then mark its rows filed."""
    columns: tuple[str, ...]
    if kind == "placements":
        placements, columns = records.placed_on_day(db, agency, day), PLACEMENT_COLUMNS
        rows = placement_rows(placements)
    else:
        placements, columns = records.recalled_on_day(db, agency, day), RECALL_COLUMNS
        rows = recall_rows(placements)
    folder = settings.folder_for(agency, base_dir)
    folder.mkdir(parents=True, exist_ok=True)
    csv_path = folder / f"{kind}-{day.isoformat()}.csv"
    manifest_path = csv_path.with_suffix(".json")
    data = csv_bytes(columns, rows)
    configured = settings.agency(agency)
    described = manifest(kind, agency, configured.name if configured else agency, day, csv_path.name, data, placements)
    _write_atomically(csv_path, data)
    _write_atomically(manifest_path, (json.dumps(described, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    with db.atomic():
        records.mark_filed(db, kind, [p.id for p in placements], csv_path.name)
    return WrittenFile(agency, kind, day, csv_path, manifest_path, described["sha256"], len(placements))


def write_pending(db: sqlite_utils.Database, settings: AgencySettings, base_dir: Path) -> list[WrittenFile]:
    """Write every placement and recall file that has rows not yet in a file."""
    written = [write_day(db, settings, base_dir, agency, "placements", day)
               for agency, day in records.unfiled_placement_days(db)]
    written += [write_day(db, settings, base_dir, agency, "recalls", day)
                for agency, day in records.unfiled_recall_days(db)]
    return written
