"""The two databases' names and the one fragment the reports' SQL says differently: light enough for every command.

``dunning.store.dialect`` rewrites whole statements for PostgreSQL and compiles some thirty patterns when it is
imported; the reports' queries (part of every ``Store``) need only these, so a command on a SQLite file never
compiles them. ``dunning.store.dialect`` re-exports both names.
"""

from __future__ import annotations

SQLITE, POSTGRESQL = "sqlite", "postgresql"


def json_field(dialect: str, column: str, key: str, sql_type: str = "text") -> str:
    """The value at ``key`` of the JSON text in ``column``: SQLite's ``json_extract`` (typed as the JSON value
    is), PostgreSQL's ``->>`` (text) cast to ``sql_type`` (``bigint`` for an amount or an id)."""
    if dialect == POSTGRESQL:
        field = f"({column}::jsonb ->> '{key}')"
        return field if sql_type == "text" else f"{field}::{sql_type}"
    return f"json_extract({column}, '$.{key}')"
