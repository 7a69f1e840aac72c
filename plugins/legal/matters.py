"""Legal matters and what is recorded on a case: milestones, costs, acknowledgements, the limitation period."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any


from dunning import PluginContext, calendar, money, operations
from dunning.compliance.limitation import Limitation, limitation
from dunning.models import Case
from dunning.operations import OperationError
from dunning.plugins.legal import records
from dunning.plugins.legal.milestones import check_milestone
from dunning.plugins.legal.records import Matter
from dunning.plugins.legal.settings import Jurisdiction, LegalSettings

if TYPE_CHECKING:
    import sqlite_utils  # for annotations: imported at run time only by the core, when needed


def open_matter(db: sqlite_utils.Database, settings: LegalSettings, case: Case, now: dt.datetime, today: dt.date,
                record: Callable[..., None]) -> int | None:
    """Open the case's matter with the configured firm; None if one is already open."""
    current = records.matter_of(db, case.id)
    if current is not None and current.is_open:
        return None
    matter_id = records.add_matter(db, case_id=case.id, opened_at=calendar.to_text(now), opened_on=today,
                                   firm=settings.firm_name, lawyer=settings.lawyer, currency=case.currency)
    record("legal:matter_opened", matter_id=matter_id, firm=settings.firm_name, lawyer=settings.lawyer,
           balance=case.balance, currency=case.currency)
    return matter_id


def case_limitation(store: Any, db: sqlite_utils.Database, settings: LegalSettings, case: Case, today: dt.date,
                    zone: dt.tzinfo) -> tuple[Limitation | None, Jurisdiction]:
    """The limitation period of ``case`` on ``today`` (None when nothing is unpaid) and the jurisdiction used."""
    debtor = store.debtor(case.debtor_id)
    jurisdiction = settings.jurisdiction_for(debtor.country if debtor else None)
    unpaid = [o.due_on for o in store.obligations(case.id) if o.open_amount > 0]
    if not unpaid:
        return None, jurisdiction
    period = limitation(
        min(unpaid), jurisdiction.limitation_years, today=today,
        payments=[calendar.local_date(p.at, zone) for p in store.payments(case.id)],
        acknowledgements=records.acknowledgements(db, case.id),
        restarted_by=jurisdiction.restarted_by,
    )
    return period, jurisdiction


def acknowledge(rt: PluginContext, case_id: int, on: dt.date, note: str | None, now: dt.datetime) -> int:
    """Record the debtor's written acknowledgement of the debt (it may restart the limitation period)."""
    case = rt.store.case(case_id)
    if on > rt.today(now):
        raise OperationError(f"--date {on} is in the future")
    with rt.transaction():
        ack_id = records.add_acknowledgement(rt.db, case.id, on, note, calendar.to_text(now))
        # The core keeps the latest acknowledgement on the case (the risk class, the contact rules).
        operations.acknowledge(rt, case.id, on, now=now, note=note, source="legal", channel="legal",
                               acknowledgement_id=ack_id)
    return ack_id


def log_milestone(rt: PluginContext, case_id: int, milestone: str, *, on: dt.date, now: dt.datetime,
                  amount_text: str | None = None, cost_text: str | None = None, note: str | None = None,
                  court: str | None = None, case_number: str | None = None) -> Matter:
    """Record a milestone (and any cost) on the case's open matter; returns the matter as it now is."""
    case = rt.store.case(case_id)
    matter = records.matter_of(rt.db, case.id)
    if matter is None:
        raise OperationError(f"case {case.id} has no legal matter; one opens when the case enters litigation")
    amount = _amount(amount_text, case.currency, "--amount")
    cost = _amount(cost_text, case.currency, "--cost")
    if on > rt.today(now):
        raise OperationError(f"--date {on} is in the future")
    if on < matter.opened_on and milestone not in ("preservation_requested", "preservation_granted", "cost"):
        raise OperationError(f"--date {on} is before the matter was opened ({matter.opened_on})")
    earlier = [m.milestone for m in records.milestones(rt.db, matter.id)]
    try:
        check_milestone(earlier, milestone, amount=amount, cost=cost)
    except ValueError as exc:
        raise OperationError(f"case {case.id}: {exc}") from None
    changes: dict[str, Any] = {}
    if court:
        changes["court"] = court
    if case_number:
        changes["case_number"] = case_number
    if milestone == "judgment":
        changes["awarded"] = amount
    if milestone == "closed":
        changes |= {"status": "closed", "closed_on": on}
    with rt.transaction():
        milestone_id = records.add_milestone(rt.db, matter_id=matter.id, case_id=case.id, milestone=milestone,
                                             on=on, amount=amount, cost=cost, note=note, court=court,
                                             case_number=case_number, recorded_at=calendar.to_text(now))
        if changes:
            records.update_matter(rt.db, matter.id, **changes)
        data: dict[str, Any] = {"matter_id": matter.id, "milestone_id": milestone_id, "milestone": milestone,
                                "on": on.isoformat(), "currency": case.currency}
        for key, value in (("amount", amount), ("cost", cost), ("note", note), ("court", court),
                           ("case_number", case_number)):
            if value is not None:
                data[key] = value
        rt.append_event("legal:milestone", case, now, channel="legal", data=data)
    updated = records.matter_of(rt.db, case.id)
    assert updated is not None
    return updated


def costs_of(db: sqlite_utils.Database, matter_id: int) -> int:
    return sum(m.cost or 0 for m in records.milestones(db, matter_id))


def _amount(text: str | None, currency: str, option: str) -> int | None:
    if text is None:
        return None
    try:
        return money.parse(text, currency)
    except money.MoneyError as exc:
        raise OperationError(f"{option}: {exc}") from None
