"""What a case owes on a given day: the overdue amount, what falls due later, and the balance.

Pure: obligations and a date in, figures out. Every message, listing and
worklist states these three figures from here, so "overdue" means the same
thing everywhere: an obligation is overdue from the day after its due date
(on the due date itself it is due, not late), and only what is still open
on it counts. Items the books closed and items under dispute are left out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import attrs

from dunning.models import Obligation


@attrs.frozen
class OwedItem:
    """One open obligation as a debtor should read it."""

    reference: str
    due_on: dt.date
    amount: int  # as invoiced or scheduled
    paid: int
    open: int  # what is still owed on it
    overdue: bool  # past its due date on the day asked about
    days_overdue: int  # 0 when not overdue


@attrs.frozen
class Owed:
    """A case's open items on one day, with their totals in minor units."""

    currency: str
    on: dt.date
    items: tuple[OwedItem, ...]

    @property
    def overdue(self) -> int:
        """Open amounts of obligations past their due date."""
        return sum(i.open for i in self.items if i.overdue)

    @property
    def not_yet_due(self) -> int:
        """Open amounts of obligations whose due date is today or later."""
        return sum(i.open for i in self.items if not i.overdue)

    @property
    def balance(self) -> int:
        return self.overdue + self.not_yet_due

    @property
    def overdue_items(self) -> tuple[OwedItem, ...]:
        return tuple(i for i in self.items if i.overdue)

    @property
    def later_items(self) -> tuple[OwedItem, ...]:
        return tuple(i for i in self.items if not i.overdue)

    @property
    def next_due_on(self) -> dt.date | None:
        """The earliest due date among the items not yet due."""
        return min((i.due_on for i in self.later_items), default=None)


def is_overdue(due_on: dt.date, on: dt.date) -> bool:
    return due_on < on


def owed_on(obligations: Iterable[Obligation], on: dt.date, currency: str) -> Owed:
    """The open obligations on ``on``, oldest due date first, split into overdue and not yet due."""
    items = sorted(
        (
            OwedItem(
                reference=o.reference,
                due_on=o.due_on,
                amount=o.amount,
                paid=o.paid,
                open=o.open_amount,
                overdue=is_overdue(o.due_on, on),
                days_overdue=max((on - o.due_on).days, 0),
            )
            for o in obligations
            # Closed items owe nothing; a disputed one is held out of every demand until the dispute is lifted.
            if o.collectable
        ),
        key=lambda i: (i.due_on, i.reference),
    )
    return Owed(currency=currency, on=on, items=tuple(items))
