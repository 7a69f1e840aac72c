"""``dunning init`` and ``dunning import``: a project to start from, and the portfolio read into it."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import attrs
import click

from dunning import checkpoints, log
from dunning.cli_support import State, fail, json_option, pass_state
from dunning.config import DEFAULT_EVIDENCE_KEY
from dunning.importer import import_file
from dunning.output import print_json
from dunning.store import Store


@click.command()
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.option("--policy", "policy_name", default="trade-receivables", show_default=True,
              help="Preset name or policy file to select.")
@pass_state
def init(state: State, force: bool, policy_name: str) -> None:
    """Write a commented dunning.toml to start from."""
    target = state.config_path
    if target.exists() and not force:
        fail(f"{target} already exists; use --force to overwrite it")
    text = resources.files("dunning").joinpath("init/dunning.toml").read_text(encoding="utf-8")
    text = text.replace('policy = "trade-receivables"', f"policy = {json.dumps(policy_name)}")
    target.write_text(text, encoding="utf-8")
    target.chmod(0o600)  # it will hold passwords and tokens: an overwritten file keeps its old mode otherwise
    click.echo(f"wrote {target}; edit it, then `dunning import FILE` and `dunning run`")
    database = target.parent / "dunning.db"
    if not database.exists():
        Store(database).close()  # the database the config names, with its tables
        click.echo(f"created {database}")
    key = target.parent / DEFAULT_EVIDENCE_KEY
    if not key.exists():
        public = checkpoints.generate_key(key)
        click.echo(f"wrote {key} (owner-only): it signs the evidence log; keep it away from the database's users. "
                   f"Public key: {public}")


@click.command(name="import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Validate and count, write nothing.")
@click.option("--encoding", default="utf-8", show_default=True,
              help="The file's text encoding; cp1252 for many spreadsheet exports.")
@click.option("--create", is_flag=True, help="Create the database if it does not exist yet.")
@click.option("--sync", "sync", is_flag=True,
              help="The file is the books' complete list of open items for the debtors it names: add, adjust and "
                   "close items, update debtors and contacts, each change with its event.")
@click.option("--full", is_flag=True, help="With --sync: the file covers the whole portfolio; debtors it does not "
                                           "name have nothing open any more.")
@json_option
@pass_state
def import_(state: State, file: Path, dry_run: bool, encoding: str, create: bool, sync: bool, full: bool,
            as_json: bool) -> None:
    """Import debtors and obligations from a CSV or JSON file.

    One row per obligation, columns: debtor_id, name, kind, email, mobile,
    work_phone, home_phone, address, country, timezone, reference, amount,
    currency, issued_on, due_on (extra columns such as locale are allowed).
    The whole file is checked first; if any row is bad, every problem is
    listed with its line and field and nothing is written. A plain import
    adds invoices only: a debtor already known with other details is
    refused (use --sync). With --sync, optional columns open_amount and
    status (open, paid, credited) say what the books hold.
    """
    if dry_run and create:
        fail("--dry-run writes nothing, so it creates no database either; leave out --create")
    if full and not sync:
        fail("--full goes with --sync: a plain import never closes anything")
    if sync:
        from dunning.cli_sync import sync_import

        sync_import(state, file, dry_run=dry_run, encoding=encoding, create=create, full=full, as_json=as_json)
        return
    rt = state.runtime(create=create)
    now = state.now()
    warnings: list[str] = []
    result, _ = import_file(rt.store, file, now=now, today=rt.today(now), dry_run=dry_run, warnings=warnings,
                            encoding=encoding)
    if not dry_run:
        from dunning.strategy_assign import assign_strategies

        assign_strategies(rt, now)  # the new cases' strategies, if [[strategies]] are set: listed at once
    data = attrs.asdict(result) | {"dry_run": dry_run, "warnings": warnings}
    for warning in warnings:
        # stderr ends up in cron mail and log files: the line and field say where, the number is masked.
        click.echo(f"warning: {log.mask(warning)}", err=True)
    if as_json:
        print_json(data)
        return
    verb = "would import" if dry_run else "imported"
    click.echo(f"{verb} {result.obligations_added} obligations for {result.debtors} debtors "
               f"({result.cases_opened} new cases, {result.obligations_unchanged} already present)")
