"""What a collector found on site, recorded as evidence with everything it implies, in one transaction.

| outcome     | besides the ``visit:logged`` event                                      |
|-------------|-------------------------------------------------------------------------|
| met         | nothing                                                                 |
| not_found   | nothing (nobody there; the premises looked lived in or in business)     |
| moved       | a ``relocation`` signal; the postal address is marked bad               |
| refused     | nothing (met, but would neither pay nor promise)                        |
| promise     | a promise (``--promise``, ``--due``; ``--approved-by`` past the limit)   |
| paid        | a payment collected on site (``--amount``), reference ``visit:<task>``  |

``closed`` (shutters down, equipment gone) adds a ``business_closed`` signal
to any outcome. A signal can make the policy escalate at once; that is the
policy's business, this module only records it.
"""

from __future__ import annotations

import datetime as dt

import attrs

from dunning import PluginContext, operations
from dunning.operations import OperationError, PaymentOutcome
from dunning.plugins.visit import store
from dunning.plugins.visit.areas import UNKNOWN_AREA, area_of, one_line
from dunning.plugins.visit.settings import setting

SIGNAL_FOR_OUTCOME = {"moved": "relocation"}
# Outcomes where the collector spoke with the debtor.
MET = ("met", "refused", "promise", "paid")
CLOSED_SIGNAL = "business_closed"


@attrs.frozen
class VisitLog:
    """What ``log_visit`` wrote."""

    case_id: int
    outcome: str
    task_ids: tuple[int, ...]
    adhoc: bool
    area: str
    signals: tuple[tuple[str, int], ...] = ()
    promise_id: int | None = None
    payment: PaymentOutcome | None = None


def check_options(outcome: str, *, promise_amount: str | None = None, promise_due: dt.datetime | None = None,
                  amount: str | None = None, approved_by: str | None = None) -> None:
    """Refuse combinations that do not make sense, before anything is read or written."""
    if outcome not in store.OUTCOMES:
        raise OperationError(f"unknown outcome {outcome!r}; use one of {', '.join(store.OUTCOMES)}")
    if outcome == "promise" and (promise_amount is None or promise_due is None):
        raise OperationError("outcome 'promise' needs --promise AMOUNT and --due DATETIME")
    if outcome != "promise" and (promise_amount is not None or promise_due is not None or approved_by is not None):
        raise OperationError("--promise, --due and --approved-by go with --outcome promise")
    if outcome == "paid" and amount is None:
        raise OperationError("outcome 'paid' needs --amount, the sum collected on site")
    # A debtor who promises may also pay part there and then; other outcomes collect nothing.
    if amount is not None and outcome not in ("paid", "promise"):
        raise OperationError(f"--amount goes with --outcome paid or promise, not {outcome}")


def signals_for(outcome: str, closed: bool) -> list[str]:
    """The abnormal signals a visit's findings amount to."""
    return ([SIGNAL_FOR_OUTCOME[outcome]] if outcome in SIGNAL_FOR_OUTCOME else []) + (
        [CLOSED_SIGNAL] if closed else []
    )


def log_visit(rt: PluginContext, case_id: int, outcome: str, *, now: dt.datetime, note: str | None = None,
              closed: bool = False, promise_amount: str | None = None, promise_due: dt.datetime | None = None,
              amount: str | None = None, collector: str | None = None, approved_by: str | None = None) -> VisitLog:
    """Close the case's open visit tasks (or add an ad-hoc record) and record what the visit found.

    Everything happens in one transaction: if any part is refused (an unknown
    case, a payment larger than the balance, a promise due in the past),
    nothing is written.
    """
    check_options(outcome, promise_amount=promise_amount, promise_due=promise_due, amount=amount,
                  approved_by=approved_by)
    case = rt.store.case(case_id)  # NotFound for an unknown case, before any write
    today = rt.today(now)
    db = rt.db
    with rt.transaction():
        tasks = store.open_tasks(db, due_by=None, case_id=case.id)
        # One visit answers every request that is due (a first and a second
        # visit alike). Only when none is due yet does it answer the next one.
        due = [t for t in tasks if t.due_on <= today] or tasks[:1]
        if due:
            store.close_tasks(db, [t.id for t in due], outcome=outcome, note=note, collector=collector, now=now)
            first, adhoc = due[0], False
        else:
            address, area = _where(rt, case.debtor_id)
            first = store.add_record(db, case_id=case.id, debtor_id=case.debtor_id, address=address, area=area,
                                     day=today, outcome=outcome, note=note, collector=collector, now=now)
            adhoc = True
        task_ids = tuple(t.id for t in due) if due else (first.id,)
        rt.append_event("visit:logged", case, now, channel="visit",
                        step=None if adhoc else first.step, action_id=first.action_id, data={
            "outcome": outcome, "area": first.area, "note": note, "collector": collector or first.collector,
            "closed": closed, "task_id": first.id, "task_ids": list(task_ids), "adhoc": adhoc,
            "address": one_line(first.address)})
        # The visit is a contact attempt: a conversation when the debtor was met.
        connected = outcome in MET
        for task in due:
            if task.key:
                rt.update_attempt(task.key, connected=connected, outcome=outcome)
        if adhoc:
            rt.record_attempt(debtor_id=case.debtor_id, case_id=case.id, channel="visit", at=now,
                              source="visit", contact=first.address, connected=connected, outcome=outcome)
        if outcome == "moved":
            # Letters and visits to the old address would be wasted.
            for contact in rt.store.contacts(case.debtor_id):
                if contact.kind == "postal" and contact.role == "debtor" and not contact.bad and contact.id is not None:
                    operations.mark_contact_bad(rt, case.id, contact.id, "moved (visit)", now=now, source="visit")
        # Signals first: a case a full payment is about to resolve can still take them.
        signals = [(kind, operations.signal(rt, case.id, kind, now=now, source="visit", note=note))
                   for kind in signals_for(outcome, closed)]
        payment = None
        if amount is not None:
            payment = operations.pay(rt, case.id, amount, at=now, now=now, reference=f"visit:{first.id}")
        promise_id = None
        if outcome == "promise":
            assert promise_amount is not None and promise_due is not None
            promise_id = operations.promise(rt, case.id, promise_amount, promise_due, now=now, approved_by=approved_by)
    return VisitLog(case_id=case.id, outcome=outcome, task_ids=task_ids, adhoc=adhoc, area=first.area,
                    signals=tuple(signals), promise_id=promise_id, payment=payment)


def _where(rt: PluginContext, debtor_id: str) -> tuple[str | None, str]:
    """The debtor's first usable postal address and its area, for a visit nobody planned."""
    debtor = rt.store.debtor(debtor_id)
    postal = [c for c in rt.store.contacts(debtor_id) if c.kind == "postal" and c.role == "debtor" and not c.bad]
    if not postal:
        return None, UNKNOWN_AREA
    address = postal[0].value
    by = setting(rt.config.settings_for("visit"), "area_by")
    return address, area_of(address, by, debtor.country if debtor else None)
