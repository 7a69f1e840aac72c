"""What the store raises: a missing row, a row someone else changed first, a file that is no database."""

from __future__ import annotations

from pathlib import Path


class NotFound(LookupError):
    """A case, action or debtor id that does not exist."""


class Conflict(RuntimeError):
    """Someone else changed the row first (another dispatcher, another operator)."""


class StoreError(ValueError):
    """A database file that cannot be used; the message names it."""


def missing_database(path: Path) -> str:
    return (f"{path}: no such database (`dunning init` creates one beside dunning.toml; "
            "`dunning import --create FILE` starts a new one)")
