"""Risk classes of collection practice: not yet due, in collection, doubtful, bad debt, dormant. Pure.

The class sets how hard a case is worked; it is shown in ``cases list/show``
and a policy step or stage can require it (``risk = ["doubtful"]``).
"""

from __future__ import annotations

import datetime as dt
import enum

from dunning.models import Case


class Risk(enum.StrEnum):
    NOT_YET_DUE = "not_yet_due"
    IN_COLLECTION = "in_collection"
    DOUBTFUL = "doubtful"
    BAD_DEBT = "bad_debt"
    DORMANT = "dormant"


# Signals that, once seen, make recovery unlikely without legal means.
BAD_SIGNALS = frozenset({"business_closed", "bankruptcy", "fraud"})
DOUBTFUL_AFTER_DPD = 90
BAD_DEBT_AFTER_DPD = 180
# No conversation and no payment for this long: nobody is working the account any more.
DORMANT_AFTER_DAYS = 180
LOST_CONTACT_DAYS = 30


def _days_since(day: dt.date | None, today: dt.date) -> int | None:
    return None if day is None else (today - day).days


def risk_class(case: Case, today: dt.date) -> Risk:
    """Classify ``case`` on ``today`` from days past due, promises, contact, payments and signals."""
    if case.anchor_due_on is None or today <= case.anchor_due_on:
        return Risk.NOT_YET_DUE
    dpd = (today - case.anchor_due_on).days
    since_contact = _days_since(case.last_contact_on, today)
    since_payment = _days_since(case.last_payment_on, today)
    quiet = min(d for d in (since_contact, since_payment, dpd) if d is not None)
    if dpd > DORMANT_AFTER_DAYS and quiet > DORMANT_AFTER_DAYS:
        return Risk.DORMANT
    if dpd > BAD_DEBT_AFTER_DPD or BAD_SIGNALS & set(case.signals):
        return Risk.BAD_DEBT
    lost = since_contact is None or since_contact > LOST_CONTACT_DAYS
    if dpd > DOUBTFUL_AFTER_DPD or case.broken_promises >= 2 or (lost and dpd > LOST_CONTACT_DAYS):
        return Risk.DOUBTFUL
    return Risk.IN_COLLECTION
