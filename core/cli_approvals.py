"""Actions waiting for a person: approvals (``approvals``, ``approve``, ``reject``) and actions in doubt."""

from __future__ import annotations

import click

from dunning import money, operations
from dunning.approvals import approval_json, approval_rows
from dunning.cli_records import action_json
from dunning.cli_support import State, json_option, pass_state
from dunning.models import ActionStatus
from dunning.output import print_json, print_json_array, print_rows, print_table


@click.command()
@json_option
@pass_state
def approvals(state: State, as_json: bool) -> None:
    """List actions waiting for a person's approval.

    Each line shows the action and its case: the debtor, the balance and
    the overdue amount as they stand today, and why approval is asked (the
    policy step's or the rule's reason). `dunning approve ID --by NAME` or
    `dunning reject ID --by NAME` decides.
    """
    rt = state.runtime()
    rows = approval_rows(rt, rt.today(state.now()))  # read and printed a page at a time
    if as_json:
        print_json_array(action_json(r.action) | approval_json(r) for r in rows)
        return
    print_rows(([r.action.id, r.action.case_id, r.debtor_name, money.display(r.balance, r.currency),
                 money.display(r.overdue, r.currency), r.action.planned_for, r.action.step,
                 r.action.channel or r.action.kind.value, r.action.target or "", r.why] for r in rows),
               ["id", "case", "debtor", "balance", "overdue", "for", "step", "channel", "target", "why"])



@click.group(name="in-doubt", invoke_without_command=True)
@json_option
@click.pass_context
def in_doubt(ctx: click.Context, as_json: bool) -> None:
    """Actions a crash left in flight on a channel that holds them (in_doubt = "hold").

    Each may or may not have reached the debtor. Check (the mail server's
    log, for email), then `in-doubt release ID --by NAME` to send it again,
    or `in-doubt cancel ID --by NAME --reason TEXT` to end it unsent.
    """
    if ctx.invoked_subcommand is not None:
        return
    rt = ctx.obj.runtime()
    held = rt.store.actions(statuses=[ActionStatus.IN_DOUBT.value])
    if as_json:
        print_json([action_json(a) for a in held])
        return
    print_table([[a.id, a.case_id, a.step, a.channel or a.kind.value, a.key] for a in held],
           ["id", "case", "step", "channel", "key"])


@in_doubt.command(name="release")
@click.argument("action_id", type=int)
@click.option("--by", required=True, help="Who decided.")
@click.option("--reason", help="Why (kept with the evidence).")
@pass_state
def in_doubt_release(state: State, action_id: int, by: str, reason: str | None) -> None:
    """Send an action in doubt again, under the same key, on the next run."""
    action = operations.settle_in_doubt(state.runtime(), action_id, resend=True, by=by, now=state.now(),
                                        reason=reason)
    click.echo(f"action {action.id} ({action.step}) released; it goes out on the next run")


@in_doubt.command(name="cancel")
@click.argument("action_id", type=int)
@click.option("--by", required=True, help="Who decided.")
@click.option("--reason", required=True, help="Why it is not sent again (delivered after all, ...).")
@pass_state
def in_doubt_cancel(state: State, action_id: int, by: str, reason: str) -> None:
    """End an action in doubt without sending it."""
    action = operations.settle_in_doubt(state.runtime(), action_id, resend=False, by=by, now=state.now(),
                                        reason=reason)
    click.echo(f"action {action.id} ({action.step}) cancelled; it will not be sent")


def _decide(state: State, action_id: int, by: str, note: str | None, approve: bool) -> None:
    rt = state.runtime()
    action = operations.decide(rt, action_id, approve=approve, by=by, now=state.now(), note=note)
    if approve and action.status is ActionStatus.SKIPPED:  # a debtor's request from their page: done at once
        click.echo(f"action {action.id} ({action.step}) approved; the debtor's promise is recorded")
        return
    click.echo(
        f"action {action.id} ({action.step}) {'approved; it goes out on the next run' if approve else 'rejected'}"
    )


@click.command()
@click.argument("action_id", type=int)
@click.option("--by", required=True, help="Who approves.")
@click.option("--note", help="Kept with the approval.")
@pass_state
def approve(state: State, action_id: int, by: str, note: str | None) -> None:
    """Approve an action (it goes out on the next run)."""
    _decide(state, action_id, by, note, approve=True)


@click.command()
@click.argument("action_id", type=int)
@click.option("--by", required=True, help="Who rejects.")
@click.option("--note", help="Kept with the rejection.")
@pass_state
def reject(state: State, action_id: int, by: str, note: str | None) -> None:
    """Reject an action; it will not go out."""
    _decide(state, action_id, by, note, approve=False)
