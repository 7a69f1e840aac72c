"""What the debtor's page shows: the items overdue and due later, interest and fees, and the reference to pay with.

Read through ``dunning.owed`` and the ledger's figures, as demands state
them, so the page never shows an amount a letter would not. Items under
dispute are listed apart: held out of what is asked for, not forgotten.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import attrs

from dunning import creditor_reference
from dunning.ledger.figures import demand_figures
from dunning.owed import OwedItem, owed_on

if TYPE_CHECKING:
    from dunning.models import Obligation
    from dunning.runtime import Runtime


@attrs.frozen
class DisputedItem:
    reference: str
    due_on: dt.date
    open: int
    disputed_on: dt.date


@attrs.frozen
class Page:
    """One case as its debtor sees it on ``on`` (amounts in minor units of ``currency``)."""

    case_id: int
    debtor_name: str
    currency: str
    on: dt.date
    status: str
    overdue_items: tuple[OwedItem, ...]
    later_items: tuple[OwedItem, ...]
    disputed_items: tuple[DisputedItem, ...]
    overdue: int
    not_yet_due: int
    balance: int  # the principal still asked for (disputed items left out)
    interest: int
    fees: int
    total_due: int  # principal, interest and fees
    creditor_reference: str  # printed in groups of four; "" when the case has none
    promise_max_days: int  # how far out a promise may be without a supervisor


def disputed_items(obligations: list[Obligation]) -> tuple[DisputedItem, ...]:
    return tuple(DisputedItem(o.reference, o.due_on, o.open_amount, o.disputed_on)
                 for o in obligations
                 if o.disputed_on is not None and o.closed_reason is None and o.open_amount > 0)


def page(rt: Runtime, case_id: int, now: dt.datetime) -> Page:
    """The page of a case the caller has already found through ``links.case_for_token``."""
    case = rt.store.case(case_id)
    debtor = rt.store.debtor(case.debtor_id)
    today = rt.today(now)
    obligations = rt.store.obligations(case.id)
    owed = owed_on(obligations, today, case.currency)
    figures = demand_figures(rt.store.charges_owed(case.id), owed.balance, case.currency)
    reference = case.creditor_reference
    return Page(
        case_id=case.id, debtor_name=debtor.name if debtor else case.debtor_id, currency=case.currency, on=today,
        status=case.status.value, overdue_items=owed.overdue_items,
        later_items=tuple(i for i in owed.items if not i.overdue), disputed_items=disputed_items(obligations),
        overdue=owed.overdue, not_yet_due=owed.not_yet_due, balance=owed.balance,
        interest=figures["interest_minor"], fees=figures["fees_minor"], total_due=figures["total_due_minor"],
        creditor_reference=creditor_reference.printed(reference) if reference else "",
        promise_max_days=rt.config.profile_for(debtor).profile.promise_max_days)
