"""``dunning simulate`` and ``dunning demo``: rehearse a policy without sending anything."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from pathlib import Path

import click

from dunning import log
from dunning.cli_records import event_json
from dunning.cli_support import State, json_option, pass_state
from dunning.output import print_json


@click.command()
@click.option("--days", type=click.IntRange(1, 3650), required=True, help="How many days to replay.")
@click.option("--from", "start", type=click.DateTime(formats=["%Y-%m-%d"]), help="First day (default: today).")
@click.option("--case", "case_ids", type=int, multiple=True, help="Only print these cases' timelines.")
@json_option
@pass_state
def simulate(state: State, days: int, start: dt.datetime | None, case_ids: Sequence[int], as_json: bool) -> None:
    """Replay the policy day by day on a copy of the database and print the timeline.

    Nothing is sent and the real database is not touched: channels are
    replaced by recorders, and plugins' record_event and stage_entered hooks
    do not run.
    """
    from dunning.simulation import simulate_copy

    first_day = start.date() if start else state.now().astimezone(state.config.zone).date()
    timeline = simulate_copy(state.config, state.db_path("dunning simulate"), first_day, days, case_ids=case_ids)
    if as_json:
        print_json([event_json(e) for e in timeline.events])
        return
    for line in timeline.lines():
        click.echo(line)
    click.echo("")
    click.echo("stages at the end: " + ", ".join(f"{k} {v}" for k, v in sorted(timeline.stage_counts.items())))


@click.command()
@click.option("--dir", "folder", type=click.Path(file_okay=False, path_type=Path),
              help="Where to create the demo database (default: a new temporary folder).")
@click.option("--days", type=click.IntRange(1, 720), default=200, show_default=True, help="Days to run.")
@click.option("--debtors", type=click.IntRange(2, 500), default=24, show_default=True, help="Debtors per portfolio.")
@click.option("--seed", type=int, default=7, show_default=True, help="Seed for the sample data.")
@pass_state
def demo(state: State, folder: Path | None, days: int, debtors: int, seed: int) -> None:
    """Create sample portfolios for both presets in a fresh database and run them day by day."""
    from dunning.demo import run_demo

    # The demo tells its own story; the channels' routine log lines would drown it.
    log.configure(state.log_format, level=logging.WARNING)
    run_demo(folder, days=days, debtors=debtors, seed=seed, echo=click.echo)
