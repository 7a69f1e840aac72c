"""Datasette's metadata for a dunning database: what each table and column holds, and the canned queries."""

from __future__ import annotations

import sqlite3
from collections.abc import Collection
from pathlib import Path
from typing import Any

from dunning.datasette.descriptions import TABLES
from dunning.datasette.queries import canned_queries
from dunning.policy import Policy


def read_only_tables(db: Path) -> tuple[list[str], list[str]]:
    """The database's tables and the channels its events name, read through a read-only connection."""
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        channels = []
        if "events" in tables:
            channels = [row[0] for row in conn.execute(
                "SELECT DISTINCT channel FROM events WHERE kind = 'sent' AND channel IS NOT NULL ORDER BY 1")]
        return tables, channels
    finally:
        conn.close()


def build_metadata(database: str, policy: Policy, tables: Collection[str], channels: Collection[str]) -> dict[str, Any]:
    """The metadata for the database Datasette names ``database`` (the file's stem)."""
    described = {
        name: {"description": text, **({"columns": columns} if columns else {})}
        for name, (text, columns) in TABLES.items() if name in tables
    }
    return {
        "title": "dunning",
        "description": "The collection database, read-only. Money in the tables is in minor units (cents); "
                       "the canned queries show major units. Each query takes an optional as_of day "
                       "(YYYY-MM-DD, empty: today).",
        "databases": {
            database: {
                "description": f"Cases, evidence and ledger; policy {policy.name}.",
                "tables": described,
                "queries": canned_queries(policy, tables, channels),
            }
        },
    }
