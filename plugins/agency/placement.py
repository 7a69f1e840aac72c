"""Placing a case with an agency, and ending a placement.

Called from ``stage_entered`` (inside the stage change's transaction) and
from the ``dunning agency`` commands (inside their own). ``record`` adds
an event to the case's evidence log in the same transaction.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any


from dunning import calendar, money
from dunning.models import Case, Contact, Debtor, Obligation, Stage
from dunning.owed import owed_on
from dunning.plugins.agency import records
from dunning.plugins.agency.choice import Choice, choose
from dunning.plugins.agency.records import Placement
from dunning.plugins.agency.settings import AgencySettings

if TYPE_CHECKING:
    import sqlite_utils  # for annotations: imported at run time only by the core, when needed

Record = Callable[..., object]

# What the agency receives about a case, in the placement file's column
# order (placement_id and case_id come first, from the placement itself).
# Only what an agency needs to collect: no notes, no call history, no
# third parties.
FILE_FIELDS = ("debtor_id", "debtor_name", "debtor_kind", "country", "email", "phone", "other_phones",
               "postal_address", "currency", "balance", "overdue", "not_yet_due", "creditor_reference",
               "oldest_due_on", "days_past_due", "invoices", "placed_on",
               "expires_on")


# How the placement ending in the current stage change ends, when a command
# knows better than the hook ("expiry" rather than "recall").
ending_kind: contextvars.ContextVar[str | None] = contextvars.ContextVar("agency_ending_kind", default=None)


@contextlib.contextmanager
def ending_as(kind: str) -> Iterator[None]:
    token = ending_kind.set(kind)
    try:
        yield
    finally:
        ending_kind.reset(token)


def file_row(case: Case, debtor: Debtor, obligations: Sequence[Obligation], contacts: Sequence[Contact],
             placed_on: dt.date, expires_on: dt.date | None, dpd: int | None) -> dict[str, str]:
    """The case as it is at placement, for the placement file (kept, so a rewritten file is the same)."""
    own = [c for c in contacts if c.role.value == "debtor" and not c.bad]
    phones = [c.value for kind in ("mobile", "work", "home") for c in own if c.kind.value == kind]
    emails = [c.value for c in own if c.kind.value == "email"]
    postal = [c.value for c in own if c.kind.value == "postal"]
    open_items = [o for o in obligations if o.open_amount > 0]
    # The agency collects what is overdue; what falls due later it must not call overdue.
    owed = owed_on(obligations, placed_on, case.currency)
    return {
        "debtor_id": debtor.id,
        "debtor_name": debtor.name,
        "debtor_kind": debtor.kind.value,
        "country": debtor.country or "",
        "email": emails[0] if emails else "",
        "phone": phones[0] if phones else "",
        "other_phones": "; ".join(phones[1:]),
        "postal_address": postal[0] if postal else "",
        "currency": case.currency,
        "balance": money.format_minor(case.balance, case.currency),
        "overdue": money.format_minor(owed.overdue, case.currency),
        "not_yet_due": money.format_minor(owed.not_yet_due, case.currency),
        "creditor_reference": case.creditor_reference or "",
        "oldest_due_on": open_items[0].due_on.isoformat() if open_items else "",
        "days_past_due": "" if dpd is None else str(dpd),
        "invoices": "; ".join(f"{o.reference} {o.due_on.isoformat()} {money.format_minor(o.open_amount, o.currency)}"
                              for o in open_items),
        "placed_on": placed_on.isoformat(),
        "expires_on": expires_on.isoformat() if expires_on else "",
    }


def place(db: sqlite_utils.Database, settings: AgencySettings, *, case: Case, debtor: Debtor,
          obligations: Sequence[Obligation], contacts: Sequence[Contact], now: dt.datetime, today: dt.date,
          record: Record, only: str | None = None) -> tuple[Choice, int | None]:
    """Choose an agency by rule (or only ``only``) and place the case; returns the choice and the placement id.

    When no agency can take the case, an ``agency:not_placed`` event says
    why for each agency and nothing else is written.
    """
    known = records.agency_records(db, settings.recovery_window)
    candidates = settings.agencies if only is None else tuple(a for a in settings.agencies if a.id == only)
    choice = choose(candidates, case.balance, case.currency, known)
    if choice.agency is None:
        record("agency:not_placed", reasons=dict(choice.refused), balance=case.balance, currency=case.currency,
               detail="no agency can take the case; it waits for a person (dunning agency place, or dunning escalate)")
        return choice, None
    agency = choice.agency
    expires_on = today + dt.timedelta(days=agency.placement_days) if agency.placement_days else None
    dpd = (today - case.anchor_due_on).days if case.anchor_due_on else None
    placement_id = records.add_placement(
        db, case_id=case.id, agency=agency.id, placed_at=calendar.to_text(now), placed_on=today, expires_on=expires_on,
        currency=case.currency, balance=case.balance, dpd=dpd,
        file_row=file_row(case, debtor, obligations, contacts, today, expires_on, dpd))
    record("agency:placed", placement_id=placement_id, agency=agency.id, agency_name=agency.name,
           balance=case.balance, currency=case.currency, expires_on=expires_on.isoformat() if expires_on else None,
           commission=agency.commission.describe(),
           recovery_rate=None if choice.rate is None else f"{choice.rate * 100:.1f}%",
           passed_over=dict(choice.refused))
    return choice, placement_id


def end_on_leaving(db: sqlite_utils.Database, case: Case, to_stage: Stage, *, now: dt.datetime, today: dt.date,
                   reason: str, record: Record) -> Placement | None:
    """The case left the agency stage: end its placement and list it in today's recall file."""
    current = records.open_placement(db, case.id)
    if current is None:
        return None
    # Expiry recalls come through the outbox with their reason (see upkeep.queue_expiry_recalls).
    expired = reason.startswith("placement period ended")
    kind = ending_kind.get() or ("escalated" if to_stage is Stage.LITIGATION else "expiry" if expired else "recall")
    records.end_placement(db, current.id, ended_at=calendar.to_text(now), ended_on=today, kind=kind, reason=reason,
                          balance=case.balance, listed=True)
    record("agency:recalled", placement_id=current.id, agency=current.agency, how=kind, reason=reason,
           balance=case.balance, currency=case.currency, to=to_stage.value)
    return current


def stale(placement: Placement, case: Case) -> Mapping[str, Any] | None:
    """Why an open placement should end although no stage change ended it (the case was resolved), or None."""
    if not case.is_open:
        return {"how": "resolved", "reason": f"case {case.status.value}"}
    if case.stage is not Stage.AGENCY:
        return {"how": "recall", "reason": f"case moved to {case.stage.value}"}
    return None
