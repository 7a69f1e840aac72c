"""Archiving resolved cases: which ones, where to, and how the evidence of both files is checked.

``dunning archive`` moves cases resolved before a date, with their rows and
their events, to an archive file (dunning.store.archive). The main chain
keeps a stub of each moved event (seq, prev_hash and hash), so it still
links from the first event to the last and every signed checkpoint still
matches. What the two checks below guarantee together:

- main file (``dunning verify``): every stub belongs to a case that an
  archiving run moved (an event of a live case cannot be emptied into a
  stub unseen), and the chain's links hold across the stubs;
- archive file (``dunning verify --archive PATH``): each archived event
  still hashes, from its own fields and prev_hash, to its hash, and that is
  the hash its stub keeps in the main chain: the archive holds exactly the
  events the chain was built on.

Pure functions over rows; the store reads them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from dunning.evidence import chain_hash


def default_archive(db_path: Path) -> Path:
    """Beside the main file: dunning.db -> dunning.archive.db."""
    return db_path.with_name(f"{db_path.stem}.archive{db_path.suffix or '.db'}")


def parse_day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"--before {text!r}: not a date (YYYY-MM-DD)") from None


def stub_problems(stubs: Mapping[int, tuple[int | None, str, str]], archived_cases: set[int]) -> list[str]:
    """Stubs in the main chain that no archiving run accounts for."""
    return [f"event {seq} was emptied into a stub, but case {case_id} was never archived"
            for seq, (case_id, _prev, _hash) in stubs.items() if case_id not in archived_cases]


def archive_problems(rows: Iterable[Mapping[str, Any]],
                     stubs: Mapping[int, tuple[int | None, str, str]]) -> tuple[int, list[str]]:
    """(events checked, what is wrong): each archived event against its own hash and its stub in the chain."""
    checked, problems = 0, []
    for row in rows:
        seq = row["seq"]
        checked += 1
        if chain_hash(row["prev_hash"], row) != row["hash"]:
            problems.append(f"event {seq} was changed after it was archived")
            continue
        stub = stubs.get(seq)
        if stub is None:
            problems.append(f"event {seq} has no stub in the main chain")
        elif (stub[1], stub[2]) != (row["prev_hash"], row["hash"]):
            problems.append(f"event {seq} is not the event the main chain holds (another hash)")
    return checked, problems
