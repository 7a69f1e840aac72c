"""Notices to the staff named in ``[notify]``: their addresses, what a notice says, and its worklist row.

Pure: no database, no network. The dispatcher builds a ``StaffNotice`` when
a policy step notifies a role and hands it to a channel that offers
``notify_staff`` (the email channel does); ``dunning notices`` lists the
notices by role with ``NoticeRow``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import attrs

from dunning import calendar, money, text_checks

# The roles ``[notify]`` may name and a policy step's ``notify`` may ask for; here, not in the config
# loader, so the pure policy module can check a step without importing the loader.
NOTIFY_ROLES = ("supervisor", "manager", "general_manager")

# Enough to keep spaces, brackets and line breaks out of an SMTP envelope; the server judges the rest.
_ADDRESS = re.compile(r"^[^\s<>()\[\],;:\"\\@]+@[^\s<>()\[\],;:\"\\@.]+(\.[^\s<>()\[\],;:\"\\@.]+)+\Z")


def staff_address(text: str) -> tuple[str, str] | None:
    """``"Ann Lee <ann@example.com>"`` or ``"ann@example.com"`` as (name, address); None if it is neither."""
    text = text.strip()
    if "\n" in text or "\r" in text:
        return None
    from email.utils import parseaddr  # not at the top: the config imports this module for every command

    name, address = parseaddr(text)
    if not address or not _ADDRESS.match(address):
        return None
    # parseaddr forgives a great deal ("Sam" parses as an address "Sam"); accept the two plain forms only.
    if text != address and not text.endswith(f"<{address}>"):
        return None
    try:
        text_checks.email_address(address)  # the same check as the importer's, so one rule for an address
    except ValueError:
        return None
    return name, address


@attrs.frozen
class StaffNotice:
    """One notice to a member of staff, as a channel's ``notify_staff`` receives it."""

    key: str  # the action's idempotency key: a re-send after a crash carries the same
    role: str
    to_name: str
    to_address: str
    subject: str
    text: str
    case_id: int


def notice_why(step_name: str, description: str, dpd: int | None) -> str:
    """Why the policy asks for the notice: the step's description, else its name and the day."""
    if description:
        return description
    when = f" at {dpd} days past due" if dpd is not None else ""
    return f"policy step {step_name}{when}"


def notice_message(*, notice_id: int, role: str, case_id: int, debtor_name: str, stage: str, dpd: int | None,
                   balance: int, overdue: int, currency: str, why: str) -> tuple[str, str]:
    """The subject and plain text of a notice: which case, whose, how much is overdue, and why."""
    who = role.replace("_", " ")
    days = f"{dpd} days past due" if dpd is not None else "no due date yet"
    subject = f"Case {case_id} ({debtor_name}): {money.display(overdue, currency)} overdue, {days}"
    text = "\n".join([
        f"To the {who}:",
        "",
        f"Case {case_id}, {debtor_name}, needs your attention.",
        "",
        f"Overdue:  {money.display(overdue, currency)}",
        f"Balance:  {money.display(balance, currency)}",
        f"Stage:    {stage}, {days}",
        f"Why:      {why}",
        "",
        f"When it is dealt with: dunning notices done {notice_id} --by <your name>",
        f"Your open notices: dunning notices --role {role} --open",
    ])
    return subject, text + "\n"


@attrs.frozen
class NoticeRow:
    """One line of a role's worklist."""

    id: int  # the notice action's id
    role: str
    case_id: int
    debtor_name: str
    sent_on: dt.date
    balance: int
    overdue: int
    currency: str
    why: str
    to: str | None
    emailed: bool
    handled_by: str | None = None
    handled_at: dt.datetime | None = None

    @property
    def open(self) -> bool:
        return self.handled_by is None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "role": self.role, "case_id": self.case_id, "debtor_name": self.debtor_name,
            "sent_on": self.sent_on.isoformat(),
            "balance": money.format_minor(self.balance, self.currency), "balance_minor": self.balance,
            "overdue": money.format_minor(self.overdue, self.currency), "overdue_minor": self.overdue,
            "currency": self.currency, "why": self.why, "to": self.to, "emailed": self.emailed,
            "open": self.open, "handled_by": self.handled_by,
            "handled_at": calendar.to_text(self.handled_at) if self.handled_at else None,
        }
