"""``dunning db``: the database itself (moving it from SQLite to PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import click

from dunning.cli_support import State, fail, pass_state


@click.group()
def db() -> None:
    """Move the database from SQLite to PostgreSQL."""


@db.command("copy")
@click.argument("sqlite_path", metavar="SQLITE_PATH", type=click.Path(path_type=Path))
@click.argument("postgres_url", metavar="POSTGRES_URL")
@pass_state
def copy(state: State, sqlite_path: Path, postgres_url: str) -> None:
    """Copy every table of a SQLite database into a new PostgreSQL database.

    POSTGRES_URL is postgresql://user@host:port/dbname; the database must
    exist and be empty (`createdb dunning`). It gets the schema of the core
    and of the plugins dunning.toml enables, then every row, evidence
    included, in one transaction: a copy that fails copies nothing. The
    evidence chain is then checked on the copy. SQLITE_PATH is not changed
    (but for a migration step it still lacked, as any command applies).
    """
    from dunning import evidence
    from dunning.plugin_manager import load_plugins
    from dunning.store import Store, StoreError, missing_database
    from dunning.store.copy import copy_to_postgres
    from dunning.store.database import parse_postgres_url

    try:
        target_url = parse_postgres_url(postgres_url)
        if not sqlite_path.exists():
            raise StoreError(missing_database(sqlite_path))
        if sqlite_path.is_dir():
            raise StoreError(f"{sqlite_path}: is a folder, not a database file")
    except StoreError as exc:
        fail(str(exc))
    state.defaults_will_do = True  # without a dunning.toml: the core's tables and the installed plugins'
    migrations = load_plugins(state.config).migrations
    source = target = None
    try:
        source = Store(sqlite_path, migrations)
        target = Store(postgres_url, migrations)
        failed = {**source.failed_migrations, **target.failed_migrations}
        if failed:
            plugin, problem = next(iter(failed.items()))
            fail(f"plugin {plugin}: {problem}")
        copied = copy_to_postgres(source, target)
        report = evidence.verify_chain(target.event_rows_for_verify())
    except StoreError as exc:
        fail(str(exc))
    finally:
        for store in (source, target):
            if store is not None:
                store.close()
    if report.broken_at is not None:
        fail(f"{target_url.shown}: the evidence chain does not verify on the copy: {report.problem}")
    width = max(len(t) for t in copied)
    for table, rows in copied.items():
        click.echo(f"{table:<{width}}  {rows:>9,}")
    click.echo(f"copied {sum(copied.values()):,} rows of {len(copied)} tables to {target_url.shown}; "
               f"the evidence chain verifies there ({report.checked:,} events)")
