"""A run's print batch: its letters joined into one PDF, with a CSV manifest for the print-and-mail house.

Files, under ``<folder>/batches/``::

    <date>-<run>.pdf      every letter of the batch, in manifest order
    <date>-<run>.csv      one row per letter (MANIFEST_COLUMNS)
    <date>-<run>.sha256   the SHA-256 of both, in the format `sha256sum -c` checks

Each file is written under a temporary name and renamed into place, so a
file with the final name is always complete.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import re
from collections.abc import Sequence
from pathlib import Path

import attrs

from dunning import spreadsheet
from dunning.plugins.letter.address import MAX_LINES
from dunning.plugins.letter.store import QueuedLetter

BATCH_FOLDER = "batches"
MANIFEST_COLUMNS = (
    "batch_id", "sequence", "key", "case_id", "debtor_name",
    *(f"address_{i}" for i in range(1, MAX_LINES + 1)),
    "pages", "first_page", "sha256", "file",
)

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(text: str) -> str:
    """Text usable as (part of) a file name anywhere: runs of other characters become one '_'."""
    return _UNSAFE.sub("_", text).strip("_") or "_"


def batch_id(day: dt.date, run_id: str) -> str:
    return f"{day.isoformat()}-{safe_name(run_id)}"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that ``path`` is never seen half-written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def unchanged(
    folder: Path, letters: Sequence[QueuedLetter]
) -> tuple[list[QueuedLetter], list[tuple[QueuedLetter, str]]]:
    """Split letters into those whose file is as it was sent, and the others with what is wrong.

    A batch prints what the evidence says was sent: a file that has gone
    or changed since is left out, and the caller reports it.
    """
    good: list[QueuedLetter] = []
    bad: list[tuple[QueuedLetter, str]] = []
    for letter in letters:
        path = folder / letter.path
        if not path.is_file():
            bad.append((letter, f"{path} is missing"))
        elif sha256_of(path) != letter.sha256:
            bad.append((letter, f"{path} has changed since it was sent (SHA-256 differs)"))
        else:
            good.append(letter)
    return good, bad


@attrs.frozen
class Written:
    pdf: Path
    csv: Path
    checksums: Path
    pdf_sha256: str
    csv_sha256: str
    letters: int
    pages: int


def write(folder: Path, batch: str, letters: Sequence[QueuedLetter]) -> Written:
    """Join the letters into ``<folder>/batches/<batch>.pdf`` and describe them in ``<batch>.csv``."""
    from pypdf import PdfWriter  # imported where used: every command loads this plugin, few write batches

    target = folder / BATCH_FOLDER
    writer = PdfWriter()
    rows: list[list[str | int]] = []
    page = 1
    for sequence, letter in enumerate(letters, start=1):
        writer.append(str(folder / letter.path))
        address = list(letter.address[:MAX_LINES]) + [""] * (MAX_LINES - len(letter.address[:MAX_LINES]))
        rows.append([batch, sequence, letter.key, letter.case_id, letter.debtor_name, *address, letter.pages, page,
                     letter.sha256, letter.path])
        page += letter.pages
    pdf_bytes = io.BytesIO()
    writer.write(pdf_bytes)
    manifest = io.StringIO(newline="")
    out = spreadsheet.writer(manifest, lineterminator="\r\n")  # RFC 4180, what spreadsheets and mail houses expect
    out.writerow(MANIFEST_COLUMNS)
    out.writerows(rows)
    csv_bytes = manifest.getvalue().encode("utf-8-sig")  # the BOM lets spreadsheet programs see UTF-8
    pdf_path, csv_path, sums_path = (target / f"{batch}{suffix}" for suffix in (".pdf", ".csv", ".sha256"))
    pdf_sha, csv_sha = hashlib.sha256(pdf_bytes.getvalue()).hexdigest(), hashlib.sha256(csv_bytes).hexdigest()
    write_atomically(pdf_path, pdf_bytes.getvalue())
    write_atomically(csv_path, csv_bytes)
    write_atomically(sums_path, f"{pdf_sha}  {pdf_path.name}\n{csv_sha}  {csv_path.name}\n".encode())
    return Written(pdf=pdf_path, csv=csv_path, checksums=sums_path, pdf_sha256=pdf_sha, csv_sha256=csv_sha,
                   letters=len(letters), pages=page - 1)
