"""Recording what came of a call, with its effect on the case, in one transaction.

Every call leaves a ``phone:call_logged`` event. A promise, a dispute and a wrong
number go further, through the core's operations, which write their own
evidence: a promise to pay, a dispute hold, a number marked bad. If any
part is refused (the case is closed, the amount is more than the balance)
nothing is written at all.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import attrs

from dunning import ActionKey, calendar, operations
from dunning.models import Contact
from dunning.plugins.phone import calls, numbers
from dunning.plugins.phone.calls import CallTask, PhoneSettings
from dunning.plugins.phone.store import CallStore


@attrs.frozen
class Logged:
    call: CallTask
    planned: bool
    promise_id: int | None = None
    hold_id: int | None = None
    marked_bad: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "call_id": self.call.id, "key": self.call.key, "case_id": self.call.case_id, "outcome": self.call.outcome,
            "number": self.call.number or None, "collector": self.call.collector, "planned": self.planned,
            "promise_id": self.promise_id, "hold_id": self.hold_id, "contact_marked_bad": self.marked_bad,
        }


def record_call(rt: Any, case_id: int, outcome: str, *, now: dt.datetime, settings: PhoneSettings,
                note: str | None = None, number: str | None = None, collector: str | None = None,
                promise_amount: str | None = None, due_at: dt.datetime | None = None,
                approved_by: str | None = None) -> Logged:
    """Close the case's call task for today with ``outcome`` (or record a call nobody planned)."""
    case = rt.store.case(case_id)
    debtor = rt.store.debtor(case.debtor_id)
    region = debtor.country if debtor else None
    store = CallStore(rt.db)
    today = rt.today(now)

    dialled: str | None = None
    contact: Contact | None = None
    if number:
        dialled = numbers.dial_form(number, region)
        contact = next((c for c in rt.store.contacts(case.debtor_id)
                        if c.kind.value in numbers.PHONE_KINDS and numbers.same_number(c.value, number, region)), None)
    open_tasks = store.open_for_case(case.id, today)
    if dialled:
        open_tasks = [t for t in open_tasks if numbers.same_number(t.number, dialled, region)] or open_tasks
    task = calls.first_task(open_tasks)

    bad_contact: int | None = None
    if outcome == "wrong_number":
        if number and contact is None:
            raise operations.OperationError(f"debtor {case.debtor_id!r} has no number {number!r}")
        bad_contact = contact.id if contact else (task.contact_id if task else None)
        if bad_contact is None:
            raise operations.OperationError("--outcome wrong_number needs --number: no call task today says "
                                            "which number was dialled")
    with rt.transaction():
        if task is not None:
            who = collector or task.collector
            store.record_outcome(task.id or 0, outcome, now, note, who, dialled)
            call = store.get(task.id or 0)
        else:
            who = collector or calls.collector_for(case.id, settings.collectors)
            call = store.add_logged_call(
                CallTask(
                    key=str(ActionKey(case.id, "call-log", "phone", uuid.uuid4().hex[:12])),
                    case_id=case.id,
                    debtor_id=case.debtor_id,
                    due_on=today,
                    number=dialled or "",
                    slot=numbers.slot_of(now.astimezone(rt.config.zone).time()),
                    contact_id=contact.id if contact else None,
                    number_kind=contact.kind.value if contact else None,
                    contact_name=contact.name if contact else None,
                    contact_role=contact.role.value if contact else None,
                    collector=who,
                    outcome=outcome,
                    logged_at=now,
                    note=note,
                ),
                now,
            )
        assert call is not None
        rt.append_event("phone:call_logged", case, now, channel="phone", step=call.step, data={
            "call_id": call.id, "key": call.key, "outcome": outcome, "number": call.number or None,
            "collector": who, "note": note, "planned": task is not None, "logged_at": calendar.to_text(now)})
        _count_attempt(rt, call, outcome, now, contact, planned=task is not None)
        promise_id = hold_id = None
        if outcome == "promise":
            assert promise_amount is not None and due_at is not None
            promise_id = operations.promise(rt, case.id, promise_amount, due_at, now=now, approved_by=approved_by)
        elif outcome == "disputed":
            hold_id = operations.hold(rt, case.id, "dispute", now=now, note=note or f"disputed on call {call.id}")
        elif outcome == "wrong_number":
            assert bad_contact is not None
            operations.mark_contact_bad(rt, case.id, bad_contact, "wrong number", now=now,
                                        source=f"call {call.id}" + (f" by {who}" if who else ""))
    return Logged(call=call, planned=task is not None, promise_id=promise_id, hold_id=hold_id,
                  marked_bad=bad_contact)


def _count_attempt(rt: Any, call: CallTask, outcome: str, now: dt.datetime, contact: Contact | None,
                   *, planned: bool) -> None:
    """Tell the core's contact rules how the call went (caps on conversations and unanswered calls).

    A planned call was counted as an attempt when its task was written; now
    its outcome is known. A call nobody planned is one more attempt.
    """
    reached = calls.connected(outcome, call.audience)
    if planned:
        rt.update_attempt(call.key, contact=contact.value if contact else None, connected=reached,
                          outcome=outcome)
        return
    rt.record_attempt(debtor_id=call.debtor_id, case_id=call.case_id, channel="phone", at=now, source="phone",
                      key=call.key, contact=contact.value if contact else None,
                      role="debtor" if contact is None or contact.role.value == "debtor" else "contacts",
                      connected=reached, outcome=outcome)
