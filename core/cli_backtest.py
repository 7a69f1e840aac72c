"""``dunning backtest``: replay policies over the same cases and compare what they do."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import click

from dunning.cli_support import State, fail, json_option, pass_state
from dunning.output import print_json


@click.command()
@click.option("--policy", "policies", multiple=True, required=True,
              help="A preset name or a policy file; give it once per policy to compare (two or more).")
@click.option("--from", "start", type=click.DateTime(formats=["%Y-%m-%d"]), help="First day (default: today).")
@click.option("--days", type=click.IntRange(1, 3650), required=True, help="How many days to replay.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of the draws that give the range of the recovery; the same seed, the same figures.")
@json_option
@pass_state
def backtest(state: State, policies: Sequence[str], start: dt.datetime | None, days: int, seed: int,
             as_json: bool) -> None:
    """Replay policies over the same cases and compare what they do.

    Each policy runs day by day on its own copy of the database, from the same snapshot, as `dunning
    simulate` does (nothing is sent, the database is not changed). Side by side: contacts sent by channel,
    contacts blocked by rule, stage changes, where the cases end, and the expected recovery by a payment
    model fitted on the history before the first day (the observed rate of payment after a contact, per
    days-past-due bucket and channel), which is printed with its figures.
    """
    from dunning.backtest.compare import Backtest, as_json as to_json, lines
    from dunning.backtest.payment_model import fit
    from dunning.backtest.replay import replay_policy, snapshot, start_of
    from dunning.policy import PRESETS, is_policy_file, load_policy

    if len(policies) < 2:
        fail("backtest compares policies: give --policy at least twice (a preset name or a policy file)")
    named: list[str] = []
    for name in policies:
        target = name if name in PRESETS else str(Path(name).resolve())
        if name not in PRESETS and not is_policy_file(Path(target)):
            fail(f"--policy {name}: neither a preset ({', '.join(PRESETS)}) nor an existing policy file")
        load_policy(target)  # a broken file is refused before anything runs
        named.append(target)
    config = state.config
    db = state.db_path("dunning backtest")
    first_day = start.date() if start else state.now().astimezone(config.zone).date()
    snap = snapshot(db, start_of(first_day, config))
    if snap.last_activity is not None and snap.last_activity.astimezone(config.zone).date() >= first_day:
        click.echo(f"note: the database has already run to {snap.last_activity.astimezone(config.zone).date()}; "
                   "days up to then plan little in the replay (start --from the day after)", err=True)
    model = fit(snap.contacts, snap.payments)
    runs = tuple(replay_policy(config, db, policy, first_day, days, cases=snap.cases, model=model, seed=seed)
                 for policy in named)
    result = Backtest(first_day=first_day, days=days, seed=seed, cases=len(snap.cases), model=model, runs=runs)
    if as_json:
        print_json(to_json(result))
        return
    for line in lines(result):
        click.echo(line)
