"""What ``dunning import FILE --sync`` prints: the changes debtor by debtor, then the counts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from dunning import log
from dunning.output import print_json
from dunning.sync_apply import describe, report_json, sync_file


def sync_import(state: Any, file: Path, *, dry_run: bool, encoding: str, create: bool, full: bool,
                as_json: bool) -> None:
    """Run the sync for the CLI's ``import --sync`` (``state`` is the CLI's State)."""
    rt = state.runtime(create=create)
    now = state.now()
    warnings: list[str] = []
    report = sync_file(rt, file, now=now, full=full, dry_run=dry_run, encoding=encoding, warnings=warnings)
    for warning in warnings:
        click.echo(f"warning: {log.mask(warning)}", err=True)
    if as_json:
        print_json(report_json(report) | {"warnings": warnings})
        return
    for line in describe(report):
        click.echo(line)
    counts = report.counts()
    verb = "would sync" if dry_run else "synced"
    click.echo(f"{verb} {counts['debtors']} debtors: {counts['added']} added, {counts['adjusted']} adjusted, "
               f"{counts['closed']} closed, {counts['debtors_changed']} debtors changed"
               + ("" if dry_run else f", {counts['cases_resolved']} cases resolved"))
