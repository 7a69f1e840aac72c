"""``dunning archive``: move resolved cases, their rows and their evidence to an archive file."""

from __future__ import annotations

from pathlib import Path

import click

from dunning.cli_support import State, fail, pass_state


@click.command()
@click.option("--before", "before_text", required=True, metavar="DATE",
              help="Archive the cases resolved (paid, settled, written off) before this day, YYYY-MM-DD.")
@click.option("--to", "target", type=click.Path(dir_okay=False, path_type=Path),
              help="The archive file (SQLite, owner-only); by default <db>.archive.db beside the database. "
                   "A later run appends to it.")
@click.option("--by", help="Who archives (kept in the cases_archived event).")
@click.option("--dry-run", is_flag=True, help="Say what would move, move nothing.")
@pass_state
def archive(state: State, before_text: str, target: Path | None, by: str | None, dry_run: bool) -> None:
    """Move cases resolved before a date, and their evidence, to an archive file.

    Each case goes with its obligations, actions, payments, promises, holds,
    charges and the other rows that name it, and with its events in full.
    The evidence chain keeps a stub of each moved event (its seq, hash and
    prev_hash), so `dunning verify` still checks the chain and every signed
    checkpoint; `dunning verify --archive FILE` checks the archived events
    against those stubs. The debtor, its contacts and its credit stay.
    """
    from dunning import archive as archiving

    try:
        before = archiving.parse_day(before_text)
    except ValueError as exc:
        fail(str(exc))
    rt = state.runtime()
    if rt.store.dialect != "sqlite":
        # The archive is a SQLite file attached to the database; a server keeps its history another way.
        fail(f"dunning archive works on a SQLite database file, and {state.database_shown} is a PostgreSQL "
             "database (its old cases stay where they are; pg_dump keeps a copy)")
    target = (target or archiving.default_archive(rt.store.path)).resolve()
    if target == rt.store.path.resolve():
        fail(f"{target}: the archive must be another file than the database")
    if target.exists() and target.is_dir():
        fail(f"{target}: is a folder, not an archive file")
    cases = rt.store.resolved_before(before)
    moved = rt.store.archive_cases(cases, target, state.now(), before=before, by=by, dry_run=dry_run)
    others = sum(n for table, n in moved.rows.items() if table not in ("cases", "events"))
    what = f"{moved.cases} cases resolved before {before} ({moved.events} events, {others} other rows)"
    if dry_run:
        click.echo(f"would archive {what} to {target}")
    elif not cases:
        click.echo(f"nothing to archive: no case was resolved before {before} "
                   "(the newest case stays until a newer one exists)")
    else:
        click.echo(f"archived {what} to {target}; the evidence chain keeps a stub of each event "
                   f"(cases_archived event {moved.run_seq})")
