"""``dunning users``: the staff accounts that sign in to the web console (``dunning serve``)."""

from __future__ import annotations

from pathlib import Path

import click

from dunning.cli_support import State, fail, json_option, pass_state
from dunning.output import print_json, print_table

ROLE_CHOICES = ("collector", "supervisor", "admin")  # dunning.web.accounts.ROLES, without importing argon2 here


@click.group(name="users")
def users() -> None:
    """Staff accounts for the web console: add, list, disable.

    A collector works the cases assigned to them on the call list
    (`[channels.phone] collectors`, by the same name); a supervisor works
    every case and approves; an admin also manages the accounts.
    """


@users.command(name="add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(ROLE_CHOICES), help="What the person may do.")
@click.option("--password-file", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Read the password from this file's first line (default: ask for it, twice).")
@click.option("--by", default="admin", show_default=True, help="Who adds the account (kept as evidence).")
@pass_state
def add(state: State, name: str, role: str, password_file: Path | None, by: str) -> None:
    """Add a staff account; its password is stored as an argon2 hash."""
    from dunning.web.accounts import AccountError, add_user, check_name

    try:
        check_name(name)
    except AccountError as exc:
        fail(str(exc))
    if password_file is not None:
        lines = password_file.read_text(encoding="utf-8").splitlines()
        password = lines[0] if lines else ""
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    rt = state.runtime()
    try:
        user = add_user(rt, name, role, password, by=by, now=state.now())
    except AccountError as exc:
        fail(str(exc))
    click.echo(f"user {user.name} added ({user.role})")


@users.command(name="list")
@json_option
@pass_state
def list_(state: State, as_json: bool) -> None:
    """List the staff accounts: name, role, since when, and whether disabled."""
    from dunning import calendar

    accounts = state.runtime().store.staff_users()
    if as_json:
        print_json([{"name": u.name, "role": u.role, "created_at": calendar.to_text(u.created_at),
                     "created_by": u.created_by, "active": u.active,
                     "disabled_at": calendar.to_text(u.disabled_at) if u.disabled_at else None,
                     "disabled_by": u.disabled_by} for u in accounts])
        return
    print_table([[u.name, u.role, u.created_at.date().isoformat(), u.created_by,
                  "yes" if u.active else f"no (since {u.disabled_at.date().isoformat() if u.disabled_at else ''})"]
                 for u in accounts], ["name", "role", "added", "by", "active"])


@users.command(name="disable")
@click.argument("name")
@click.option("--by", default="admin", show_default=True, help="Who disables the account (kept as evidence).")
@pass_state
def disable(state: State, name: str, by: str) -> None:
    """Disable a staff account: it can no longer sign in (its name stays in the evidence)."""
    from dunning.web.accounts import AccountError, disable_user

    try:
        disable_user(state.runtime(), name, by=by, now=state.now())
    except AccountError as exc:
        fail(str(exc))
    click.echo(f"user {name} disabled")
