"""``dunning letters``: what is waiting to be printed, and the batches already written."""

from __future__ import annotations

import json
from typing import Any

import click


def add_commands(cli: click.Group) -> None:
    @cli.group(name="letters")
    def letters() -> None:
        """Letters written by the letter channel and the print batches made of them."""

    @letters.command(name="queue")
    @click.option("--all", "show_all", is_flag=True, help="Also list letters already in a batch or withdrawn.")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
    @click.pass_obj
    def queue(state: Any, show_all: bool, as_json: bool) -> None:
        """List letters waiting for the next print batch (written, not yet batched)."""
        from dunning.plugins.letter import store

        rows = [
            {"key": q.key, "case_id": q.case_id, "path": q.path, "pages": q.pages, "status": q.status,
             "batch": q.batch, "written_at": q.written_at, "sha256": q.sha256, "debtor_name": q.debtor_name,
             "address": list(q.address)}
            for q in store.letters(_db(state), every_state=show_all)
        ]
        _show(rows, ["key", "case_id", "pages", "status", "batch", "path"], as_json)

    @letters.command(name="batches")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
    @click.pass_obj
    def batches(state: Any, as_json: bool) -> None:
        """List the print batches written, oldest first, with their files and SHA-256 sums."""
        from dunning.plugins.letter import store

        rows = [
            {"id": b.id, "created_at": b.created_at, "status": b.status, "letters": b.letters, "pages": b.pages,
             "pdf": b.pdf, "csv": b.csv, "pdf_sha256": b.pdf_sha256, "csv_sha256": b.csv_sha256}
            for b in store.batches(_db(state))
        ]
        _show(rows, ["id", "created_at", "status", "letters", "pages", "pdf"], as_json)


def _db(state: Any) -> Any:
    from dunning.plugins.letter import store  # its sqlite_utils is for the commands that run, not for --help

    db = state.plugin_context().db
    if store.QUEUE not in db.table_names():  # table_names(): on SQLite and on PostgreSQL alike
        raise click.ClickException("the letter channel has no tables here: enable it in [channels] enabled")
    return db


def _show(rows: list[dict[str, Any]], columns: list[str], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not rows:
        click.echo("(none)")
        return
    text = [[("" if row[c] is None else str(row[c])) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in text)) for i, c in enumerate(columns)]
    click.echo("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=False)).rstrip())
    for r in text:
        click.echo("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=False)).rstrip())
