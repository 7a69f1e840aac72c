"""``dunning notices``: each role's worklist of the policy's notices to staff, and marking one handled."""

from __future__ import annotations

import datetime as dt
from typing import Any

import click

from dunning import money, operations
from dunning.config import NOTIFY_ROLES
from dunning.models import ActionStatus
from dunning.output import print_json, print_table
from dunning.owed import owed_on
from dunning.runtime import Runtime
from dunning.staff import NoticeRow
from dunning.staff_delivery import why_notified


def notice_rows(rt: Runtime, role: str | None, today: dt.date) -> list[NoticeRow]:
    """The notices that went out to ``role`` (every role when None), with the case as it stands ``today``."""
    handled = rt.store.notices_handled()
    rows: list[NoticeRow] = []
    for action in rt.store.notices(role):
        assert action.id is not None
        case = rt.store.case(action.case_id)
        debtor = rt.store.debtor(case.debtor_id)
        owed = owed_on(rt.store.obligations(case.id), today, case.currency)
        by, at = handled.get(action.id, (None, None))
        target = action.target or "supervisor"
        rows.append(NoticeRow(
            id=action.id, role=target, case_id=case.id, debtor_name=debtor.name if debtor else case.debtor_id,
            sent_on=action.planned_for, balance=case.balance, overdue=owed.overdue, currency=case.currency,
            why=why_notified(rt, action, case), to=rt.config.notify.get(target),
            emailed=action.status is ActionStatus.SENT and bool(action.reference)
            and not str(action.reference).startswith("notice:"),
            handled_by=by, handled_at=at))
    return rows


def _role(value: str | None) -> str | None:
    if value is not None and value not in NOTIFY_ROLES:
        raise click.ClickException(f"unknown role {value!r}; roles are {', '.join(NOTIFY_ROLES)}")
    return value


@click.group(name="notices", invoke_without_command=True)
@click.option("--role", metavar="ROLE", help=f"Only this role's notices ({', '.join(NOTIFY_ROLES)}).")
@click.option("--open", "only_open", is_flag=True, help="Only the notices nobody has marked handled yet.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def notices(ctx: click.Context, role: str | None, only_open: bool, as_json: bool) -> None:
    """The policy's notices to the supervisor, manager and general manager: each role's worklist.

    Each line is one notice: its id, the role, the case, the debtor, the
    balance and the overdue amount as they stand today, the day it went
    out, why the policy asked for it, and who handled it (or "open").
    With the email channel enabled each notice is also emailed to the
    role's address in [notify]. `dunning notices done ID --by NAME`
    marks one handled.
    """
    if ctx.invoked_subcommand is not None:
        return
    state = ctx.obj
    wanted = _role(role)
    rt: Runtime = state.runtime()
    rows = notice_rows(rt, wanted, rt.today(state.now()))
    if only_open:
        rows = [r for r in rows if r.open]
    if as_json:
        print_json([r.as_json() for r in rows])
        return
    print_table([[r.id, r.role, r.case_id, r.debtor_name, money.display(r.balance, r.currency),
                  money.display(r.overdue, r.currency), r.sent_on.isoformat(), "yes" if r.emailed else "no", r.why,
                  "open" if r.open else f"done by {r.handled_by}"] for r in rows],
                ["id", "role", "case", "debtor", "balance", "overdue", "sent", "emailed", "why", "handled"],
                empty="(no notices)")


@notices.command(name="done")
@click.argument("notice_id", metavar="ID")
@click.option("--by", required=True, metavar="NAME", help="Who handled the notice (kept as evidence).")
@click.option("--note", help="What was done about it (kept as evidence).")
@click.pass_obj
def done(state: Any, notice_id: str, by: str, note: str | None) -> None:
    """Mark notice ID handled: a notice_handled event records who, when and the note.

    ID is the number in the first column of `dunning notices`. A notice is
    handled once; marking it again is refused.
    """
    if not notice_id.isdigit():
        raise click.ClickException(f"a notice id is a number, got {notice_id!r}")
    rt: Runtime = state.runtime()
    action = operations.notice_done(rt, int(notice_id), by=by, now=state.now(), note=note)
    click.echo(f"notice {action.id} ({action.target}, case {action.case_id}) marked handled by {by.strip()}")
