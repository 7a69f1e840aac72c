"""Taking a policy's notice to the person in ``[notify]``, through a channel that offers staff notices.

The core imports no plugin. A channel says it can carry notices to staff
by having a ``notify_staff(notice, ctx)`` method (the email channel sends
them as email through its SMTP server); the first enabled channel that has
one carries every notice, email first when several do. Without such a
channel, or without an address for the role, the notice is recorded and
waits on the role's worklist (``dunning notices``) all the same.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import attrs
from dunning.log import get_logger

from dunning.channels import Delivery, RunContext
from dunning.models import Action, Case, Debtor, Obligation
from dunning.owed import owed_on
from dunning.runtime import Runtime
from dunning.staff import StaffNotice, notice_message, notice_why, staff_address

log = get_logger("dunning")


@attrs.frozen
class StaffSend:
    """What became of one notice: the delivery (None when nothing carried it) and the facts for its event."""

    delivery: Delivery | None
    facts: dict[str, Any]
    via: str | None = None


def staff_channel(rt: Runtime) -> Any | None:
    """The enabled channel that carries notices to staff, if any (email first, then by name)."""
    for name in sorted(rt.plugins.enabled, key=lambda n: (n != "email", n)):
        channel = rt.channel(name)
        if channel is not None and callable(getattr(channel, "notify_staff", None)):
            return channel
    return None


def why_notified(rt: Runtime, action: Action, case: Case) -> str:
    if action.options.get("why"):
        return str(action.options["why"])  # a notice queued by an operation (a disputed item) says why itself
    step = rt.policy_for(case).step(action.step)  # the step of the policy the case runs under
    return notice_why(action.step, step.description if step else "", action.dpd)


def send_notice(rt: Runtime, action: Action, case: Case, now: dt.datetime, run_id: str, *,
                known: tuple[Debtor | None, Sequence[Obligation]] | None = None) -> StaffSend:
    """Build the notice for ``action`` and hand it to the staff channel; never raises for a channel's failure.

    ``known``: the case's debtor and obligations when the caller has read them already (delivery's round facts).
    """
    role = action.target or "supervisor"
    to = rt.config.notify.get(role)
    debtor, obligations = known if known is not None else (rt.store.debtor(case.debtor_id),
                                                           rt.store.obligations(case.id))
    debtor_name = debtor.name if debtor else case.debtor_id
    owed = owed_on(obligations, rt.today(now), case.currency)
    why = why_notified(rt, action, case)
    facts: dict[str, Any] = {"role": role, "to": to, "debtor_name": debtor_name, "balance": case.balance,
                             "overdue": owed.overdue, "currency": case.currency, "why": why}
    parsed = staff_address(to) if to else None
    channel = staff_channel(rt)
    if parsed is None or channel is None:
        facts["emailed"] = False
        facts["not_sent"] = (f"no address for the {role} in [notify]" if parsed is None
                             else "no enabled channel carries notices to staff (enable email)")
        return StaffSend(None, facts)
    subject, text = notice_message(
        notice_id=action.id or 0,
        role=role,
        case_id=case.id,
        debtor_name=debtor_name,
        stage=case.stage.value,
        dpd=rt.dpd(case, now),
        balance=case.balance,
        overdue=owed.overdue,
        currency=case.currency,
        why=why,
    )
    notice = StaffNotice(key=action.key, role=role, to_name=parsed[0], to_address=parsed[1], subject=subject,
                         text=text, case_id=case.id)
    ctx = RunContext(now=now, run_id=run_id, settings=rt.config.settings_for(channel.name), config=rt.config,
                     db=rt.store.db, log=log.bind(case_id=case.id, channel=channel.name), store=rt.store)
    try:
        delivery = channel.notify_staff(notice, ctx)
    except Exception as exc:  # a plugin failure never stops a run
        delivery = Delivery.failed(f"{type(exc).__name__}: {exc}", plugin_error=True)
    if not isinstance(delivery, Delivery):
        delivery = Delivery.failed(f"channel '{channel.name}' returned {type(delivery).__name__}, not a Delivery")
    facts["emailed"] = delivery.status == "sent" and channel.name == "email"
    facts["via"] = channel.name
    # The channel's own facts (Message-ID, the server's reply) go in first: they cannot overwrite the core's.
    return StaffSend(delivery, {**dict(delivery.data), **facts}, via=channel.name)
