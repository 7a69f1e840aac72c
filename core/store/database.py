"""Which database a ``db`` setting names: a SQLite file, or a PostgreSQL server by URL.

``--db`` and ``db = "..."`` in dunning.toml take either. A value that starts with
``postgresql://`` (or ``postgres://``) is a server; anything else is a file path,
as it always was. A server URL is checked here, whole, before anything connects,
so a mistake is one line naming the part that is wrong.
"""

from __future__ import annotations

import urllib.parse
from pathlib import Path

import attrs

from dunning.store.errors import StoreError

POSTGRES_SCHEMES = ("postgresql", "postgres")
# Query parameters libpq takes that make sense for the store; anything else is most likely a typo.
KNOWN_PARAMETERS = frozenset({
    "host", "port", "user", "password", "dbname", "sslmode", "sslrootcert", "sslcert", "sslkey",
    "connect_timeout", "application_name", "options", "target_session_attrs", "passfile", "service",
})


@attrs.frozen
class PostgresTarget:
    """A PostgreSQL database named by URL; ``url`` is what psycopg is given, ``shown`` is safe to print."""

    url: str
    host: str
    port: int | None
    database: str
    user: str | None

    @property
    def shown(self) -> str:
        """The URL without its password, for messages and logs."""
        parts = urllib.parse.urlsplit(self.url)
        if parts.password is None:
            return self.url
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def is_postgres_url(value: str) -> bool:
    scheme, sep, _ = value.partition("://")
    return bool(sep) and scheme.lower() in POSTGRES_SCHEMES


def parse_postgres_url(value: str) -> PostgresTarget:
    """A checked ``postgresql://[user[:password]@][host][:port]/dbname[?param=value...]``.

    Raises ``StoreError`` with one line naming what is wrong: no database name,
    a port that is no number, an unknown parameter.
    """
    where = "database URL"
    try:
        parts = urllib.parse.urlsplit(value)
        port = parts.port
    except ValueError as exc:  # a port that is not a number, or out of range
        raise StoreError(f"{where} {_hide_password(value)}: {exc}") from None
    if parts.scheme.lower() not in POSTGRES_SCHEMES:
        raise StoreError(f"{where} {_hide_password(value)}: the scheme must be postgresql://")
    parameters = urllib.parse.parse_qs(parts.query, keep_blank_values=True)
    unknown = sorted(set(parameters) - KNOWN_PARAMETERS)
    if unknown:
        raise StoreError(f"{where} {_hide_password(value)}: unknown parameter {unknown[0]!r}")
    database = urllib.parse.unquote(parts.path.lstrip("/")) or _single(parameters, "dbname")
    if not database or "/" in database:
        raise StoreError(f"{where} {_hide_password(value)}: name the database after the host "
                         "(postgresql://user@host:5432/dunning)")
    host = parts.hostname or _single(parameters, "host") or ""
    user = urllib.parse.unquote(parts.username) if parts.username else _single(parameters, "user") or None
    return PostgresTarget(url=value, host=host, port=port, database=database, user=user)


def _single(parameters: dict[str, list[str]], name: str) -> str:
    values = parameters.get(name) or [""]
    return values[-1]


def _hide_password(value: str) -> str:
    try:
        parts = urllib.parse.urlsplit(value)
        if parts.password is not None:
            return value.replace(f":{parts.password}@", ":***@", 1)
    except ValueError:
        pass
    return value


# What a ``db`` setting names once read: a file (a ``Path``) or a server (a ``PostgresTarget``).
DatabaseName = Path | PostgresTarget


def database_named(value: str | Path, base: Path | None = None) -> DatabaseName:
    """``value`` as ``--db`` or ``db =`` gives it: a checked server URL, or a file path (relative to ``base``).

    A bad URL raises ``StoreError`` with one line naming it."""
    if isinstance(value, str) and is_postgres_url(value):
        return parse_postgres_url(value)
    path = Path(value)
    return base / path if base is not None else path


def opened_as(db: DatabaseName) -> str | Path:
    """What ``Store`` is given to open ``db``: the file's path, or the server's URL."""
    return db.url if isinstance(db, PostgresTarget) else db


def database_exists(db: DatabaseName) -> bool:
    """Whether the database is there to be opened: a file that exists; a server is asked when connecting
    (a database missing there is its one-line error then)."""
    return True if isinstance(db, PostgresTarget) else db.exists()


def database_shown(db: DatabaseName) -> str:
    """``db`` for a message: the file's path, or the URL without its password."""
    return db.shown if isinstance(db, PostgresTarget) else str(db)


def folder_beside(db: DatabaseName, base_dir: Path) -> Path:
    """Where files kept beside the database go: the file's folder; for a server, the config's folder."""
    return base_dir if isinstance(db, PostgresTarget) else db.parent
