"""``dunning policy``: show and check collection policies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from dunning.cli_support import State, fail, pass_state
from dunning.output import print_table
from dunning.plugin_manager import load_plugins
from dunning.policy import PRESETS, check_channels, is_policy_file, load_policy_text, preset_text, read_policy_file
from dunning.runtime import missing_templates


@click.group()
def policy() -> None:
    """Show and check collection policies."""


@policy.command(name="show")
@click.argument("name", required=False)
@click.option("--timeline", is_flag=True, help="Print the policy as a day-by-day table instead of its TOML.")
@pass_state
def policy_show(state: State, name: str | None, timeline: bool) -> None:
    """Print a preset or the configured policy (its TOML, or --timeline)."""
    state.defaults_will_do = True
    target = name or state.config.policy
    if target in PRESETS:
        text = preset_text(target)
        pol = load_policy_text(text, f"preset {target}")
    else:
        path = Path(target)
        if not path.is_absolute() and name is None:
            path = state.config.base_dir / path
        if not is_policy_file(path):
            fail(f"{target}: neither a preset ({', '.join(PRESETS)}) nor an existing policy file")
        text = read_policy_file(path)
        pol = load_policy_text(text, str(path))
    if not timeline:
        click.echo(text, nl=False)
        return
    rows: list[list[Any]] = []
    for point in pol.points:
        for rule in pol.stages.values():
            if rule.recall_dpd == point:
                rows.append([point, "recall", f"back from {rule.stage}", ""])
        for step in pol.steps_at.get(point, ()):
            what = ", ".join(step.channels) or (f"notify {step.notify}" if step.notify else step.action)
            flags = " ".join(f for f, on in (
                ("required", step.required), ("approval", step.requires_approval),
                (f"at {'/'.join(t.strftime('%H:%M') for t in step.at)}", bool(step.at)),
                (f"to {step.audience}", step.audience != "debtor"),
                (f"disclose {step.disclosure}", step.disclosure != "none")) if on)
            rows.append([point, step.name, what, flags])
        for rule in pol.stages.values():
            if rule.entry_dpd == point:
                cond = f"balance >= {rule.when.min_balance}" if rule.when.min_balance else ""
                rows.append([point, f"stage -> {rule.stage}", cond, "approval" if rule.requires_approval else ""])
    print_table(rows, ["dpd", "step", "what", "flags"])


@policy.command(name="check")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_state
def policy_check(state: State, file: Path) -> None:
    """Validate a policy file against the installed and enabled channels."""
    state.defaults_will_do = True
    pol = load_policy_text(read_policy_file(file), str(file))
    plugins = load_plugins(state.config)
    warnings = check_channels(pol, plugins.known_channels(), plugins.enabled)
    missing = missing_templates(pol, plugins, state.config)
    if missing:
        fail(f"{file}: " + f"\n{file}: ".join(missing))
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(f"ok: {file} defines {len(pol.steps)} steps and {len(pol.stages)} stage rules")
