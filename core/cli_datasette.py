"""``dunning datasette``: browse the database read-only in Datasette, with descriptions and canned queries."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import click

from dunning.cli_support import State, fail, pass_state

# Datasette shows every row to whoever reaches the port: debtors' names, addresses and phone numbers.
WARNING = ("warning: Datasette shows the whole database, debtors' personal data included, to anyone who can reach "
           "http://{host}:{port}/ - keep it on 127.0.0.1, or put it behind authentication.")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but 127.0.0.1 shows personal data to the network.")
@click.option("--port", type=click.IntRange(0, 65535), default=8001, show_default=True, help="Port to listen on.")
@click.option("--metadata-out", "metadata_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write Datasette's metadata JSON (descriptions, canned queries) to this file and exit, "
                   "for running `datasette` yourself.")
@pass_state
def datasette(state: State, host: str, port: int, metadata_out: Path | None) -> None:
    """Open the database read-only in Datasette, with canned queries.

    Every table is described. The queries are the reports in plain SQL (aging, promises, activity, open
    cases; money in major units) and the cases needing attention: no next action, stuck in a stage,
    unmatched payments, visits overdue. The database is opened read-only (mode=ro): nothing Datasette
    does can change it. Needs the datasette extra: pip install 'dunning[datasette]'.
    """
    from dunning.datasette.metadata import build_metadata, read_only_tables
    from dunning.policy import load_policy

    db = state.db_path("dunning datasette")
    policy = load_policy(state.config.policy, state.config.base_dir)
    tables, channels = read_only_tables(db)
    metadata = build_metadata(db.stem, policy, tables, channels)
    text = json.dumps(metadata, indent=2, ensure_ascii=False) + "\n"
    if metadata_out is not None:
        metadata_out.write_text(text, encoding="utf-8")
        click.echo(f"wrote {metadata_out}: {len(metadata['databases'][db.stem]['queries'])} canned queries; "
                   f"run: datasette serve {db} --metadata {metadata_out}")
        return
    try:
        from datasette.cli import cli as datasette_cli
    except ImportError:
        fail("Datasette is not installed: pip install 'dunning[datasette]' (or use --metadata-out)")
    click.echo(WARNING.format(host=host, port=port), err=True)
    with tempfile.TemporaryDirectory(prefix="dunning-datasette-") as folder:
        metadata_file = Path(folder) / "metadata.json"
        metadata_file.write_text(text, encoding="utf-8")
        # A file Datasette treats as mutable is read through `?mode=ro` connections: it sees what a running
        # `dunning run` commits, and cannot write (it opens a writing connection only for plugins that ask,
        # and none are given).
        datasette_cli.main(
            args=["serve", str(db), "--metadata", str(metadata_file), "--host", host, "--port", str(port)],
            prog_name="datasette",
        )
