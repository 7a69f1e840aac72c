"""``dunning run``: plan what is due and deliver what is ready (from cron)."""

from __future__ import annotations

import sys

import click

from dunning import calendar, checkpoints, dispatch
from dunning.cli_support import EXIT_DELIVERY_FAILED, State, fail, json_option, pass_state
from dunning.log import get_logger
from dunning.output import print_json
from dunning.runtime import missing_templates


@click.command()
@click.option("--now", "now_text", metavar="ISO-8601", help="The moment to run for (default: the clock).")
@click.option("--dry-run", is_flag=True, help="Show what would be planned; write and send nothing.")
@json_option
@pass_state
def run(state: State, now_text: str | None, dry_run: bool, as_json: bool) -> None:
    """Plan what is due and deliver what is ready. Meant for cron.

    Running twice for the same moment plans and sends nothing new. The
    summary adds "missed" (steps dropped because no run happened on their
    day) and "superseded" (held-back occurrences a newer one replaced) when
    there are any. Exit code 0 when nothing failed, 3 when some deliveries
    failed (they are retried on later runs).
    """
    rt = state.runtime()
    now = state.now(now_text)
    if rt.config.evidence_key_named and not dry_run:
        checkpoints.load_key(rt.config.evidence_key)  # a key the config names must be there before anything is sent
    for policy in (rt.policy, *rt.case_policies.others()):  # the config's, and each strategy's
        missing = missing_templates(policy, rt.plugins, rt.config)
        if missing:
            # Every such action would fail at delivery, day after day: say so before anything is planned.
            fail(f"{policy.source}: " + f"\n{policy.source}: ".join(missing))
    disabled = sorted(rt.policy.channels().union(*(p.channels() for p in rt.case_policies.others()))
                      - set(rt.plugins.enabled))
    if disabled:
        # One line per run, not one per step: cron logs stay readable.
        get_logger("dunning").warning(
            "policy names channels that are not enabled; their steps are skipped with an event",
            channels=", ".join(disabled))
    show_bar = sys.stderr.isatty() and not as_json and not dry_run
    if show_bar:
        total = rt.store.count_due(rt.today(now)) + rt.store.count_ready(now)
        with click.progressbar(length=max(total, 1), label="dunning run", file=sys.stderr) as bar:
            summary = dispatch.run(rt, now, progress=lambda _phase, n: bar.update(n))
    else:
        summary = dispatch.run(rt, now, dry_run=dry_run)
    signed = None if dry_run else rt.checkpoint(now)
    if not dry_run and signed is None and not rt.config.evidence_key.exists():
        get_logger("dunning").warning(
            "evidence is not signed: no evidence key (make one with `dunning evidence keygen`)",
            key_file=str(rt.config.evidence_key))
    data = summary.as_dict() | {"now": calendar.to_text(now), "dry_run": dry_run,
                                "checkpoint": signed.as_dict() if signed else None}
    if as_json:
        print_json(data)
    else:
        head = "would plan" if dry_run else "planned"
        click.echo(
            f"{head} {summary.planned}, sent {summary.sent}, deferred {summary.deferred}, blocked {summary.blocked}, "
            f"failed {summary.failed}, escalated {summary.escalated}, awaiting approval {summary.awaiting_approval}, "
            f"skipped {summary.skipped}"
            # Shown only when there are some: most runs drop and replace nothing.
            + (f", missed {summary.missed}" if summary.missed else "")
            + (f", superseded {summary.superseded}" if summary.superseded else "")
            # The ledger's part of the run (interest and compensation posted, settlement offers decided).
            + (f", charges posted {summary.charges_posted}" if summary.charges_posted else "")
            + (f", settlements settled {summary.settlements_settled}" if summary.settlements_settled else "")
            + (f", settlements lapsed {summary.settlements_lapsed}" if summary.settlements_lapsed else "")
        )
        for label, by_rule in (("blocked", summary.blocked_by_rule), ("deferred", summary.deferred_by_rule)):
            for rule, n in sorted(by_rule.items()):
                click.echo(f"  {label} by {rule}: {n}")
    if summary.failed:
        sys.exit(EXIT_DELIVERY_FAILED)
