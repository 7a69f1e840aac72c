"""A day's call list, in the order collectors work it.

Reads the plugin's tasks and the core's cases; scores each case through the
``case_priority`` hook with the facts the store works out (a first
instalment unpaid, a promise due today, ...), so a plugin that answers
``case_priority`` reorders the list.

Tasks whose case no longer wants a call drop off, as the core would drop
the action itself: the case was resolved, is on hold (a dispute, a cease
request; a represented debtor is called only through the attorney), the
debtor promised to pay on a later day (reminders wait for the promise), or
opted out of phone calls. A task whose number has since been marked bad or
opted out gets another of the debtor's numbers, chosen by the same rule as
at send time.

A promise due on the day puts its case at the top of the list, whether or
not the policy planned a call that day (its ordinary reminders are paused
by the promise): one row stands for the reminder an hour before the
promised time and the check after it (the compliance profile's
``promise_reminder_minutes`` and ``promise_grace_minutes``). A promise
already broken that day stays, to ask why; one kept leaves the list.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from dunning import ActionKey, money
from dunning.channels import usable_contacts
from dunning.compliance import slots
from dunning.compliance.zones import debtor_zones
from dunning.models import Case, Contact
from dunning.plugins.phone import calls, numbers
from dunning.plugins.phone.calls import CallRow, CallTask, PhoneSettings
from dunning.plugins.phone.store import CallStore
from dunning.policy import dpd_on
from dunning.priority import CaseFacts

PAGE = 1_000  # cases read (with their priority facts) per query


def call_list(rt: Any, day: dt.date, now: dt.datetime, settings: PhoneSettings,
              collector: str | None = None) -> list[CallRow]:
    """The open calls due on ``day`` (as things stand at ``now``), most urgent first."""
    store = CallStore(rt.db)
    rows: list[CallRow] = []
    scores: dict[int, tuple[float, CaseFacts]] = {}

    facts_read: dict[int, CaseFacts] = {}

    def scored(case: Case) -> tuple[float, CaseFacts]:
        if case.id not in scores:
            facts = facts_read.get(case.id) or rt.store.priority_facts(case, day, rt.config.zone)
            score = rt.case_priority(case, facts)
            scores[case.id] = (float(score or 0.0), facts)
        return scores[case.id]

    promised = _promise_rows(rt, store, day, now, settings, collector, scored)
    rows.extend(promised.values())
    tasks = store.open_on(day, collector)
    # A task whose occurrence was superseded or dropped before it was recorded as sent is not a call to make.
    ended = rt.store.ended_unsent(t.key for t in tasks)
    # The tasks' cases and their priority facts a page at a time, not a few queries per call.
    cases: dict[int, Case] = {}
    for position, task in enumerate(tasks):
        if position % PAGE == 0:  # the next page of tasks: its cases and their facts, held for that page only
            wanted = sorted({t.case_id for t in tasks[position:position + PAGE]} - set(promised) - set(scores))
            cases = rt.store.cases_by_id(wanted)
            facts_read.clear()
            facts_read |= rt.store.priority_facts_of(list(cases.values()), day, rt.config.zone)
        if task.case_id in promised:
            continue  # the promise's row stands for the case's calls today
        case = cases.get(task.case_id) or rt.store.case(task.case_id)
        if task.key in ended or not case.is_open or _held(rt, task, day):
            continue
        score, facts = scored(case)
        if rt.store.has_pending_promise(case.id, now):
            continue
        dial = _number_to_dial(rt, task, settings)
        if dial is None:
            continue
        number, kind, contact_name = dial
        fact_reasons = facts.reasons()
        debtor = rt.store.debtor(case.debtor_id)
        rows.append(CallRow(
            call_id=task.id or 0, key=task.key, case_id=case.id, debtor_id=case.debtor_id,
            debtor_name=debtor.name if debtor else case.debtor_id, number=number, kind=kind, slot=task.slot,
            priority=score, reasons=calls.reasons(fact_reasons, task.step, task.template, task.audience),
            step=task.step, template=task.template, audience=task.audience,
            balance=money.display(case.balance, case.currency), balance_minor=case.balance, currency=case.currency,
            dpd=dpd_on(case, day), collector=task.collector, contact_name=contact_name,
            slot_score=_slot_score(rt, debtor, day, task.slot),
        ))
    return calls.order(rows)


def _promise_rows(rt: Any, store: CallStore, day: dt.date, now: dt.datetime, settings: PhoneSettings,
                  collector: str | None, scored: Callable[[Case], tuple[float, CaseFacts]]) -> dict[int, CallRow]:
    """One row per case with a promise due on ``day`` (pending, or broken already), by case id."""
    profile = rt.config.compliance
    zone = rt.config.zone
    rows: dict[int, CallRow] = {}
    for promise in rt.store.promises_due_on(day, zone, statuses=("pending", "broken")):
        if promise.case_id in rows:
            continue  # the day's first promise of the case speaks for it
        case = rt.store.case(promise.case_id)
        who = calls.collector_for(case.id, settings.collectors)
        if not case.is_open or (collector is not None and who != collector):
            continue
        if rt.store.holds(case.id, active_on=day):
            continue  # any hold: a represented debtor is not called about a promise
        key = str(ActionKey(case.id, "promise-check", "phone", str(promise.id)))
        open_today = store.open_for_case(case.id, day)
        task = calls.first_task(open_today)
        stand_in = task or CallTask(key=key, case_id=case.id, debtor_id=case.debtor_id, due_on=day, number="",
                                    slot="")
        dial = _number_to_dial(rt, stand_in, settings)
        if dial is None:
            continue
        number, kind, contact_name = dial
        score, facts = scored(case)
        remind_at, check_at = calls.promise_call_times(promise.due_at, profile.promise_reminder_before,
                                                       profile.promise_grace, zone)
        broken = str(promise.status) == "broken"
        reason = calls.promise_reason(money.display(promise.amount, case.currency), promise.due_at.astimezone(zone),
                                      remind_at, check_at, broken)
        debtor = rt.store.debtor(case.debtor_id)
        slot = numbers.slot_of(check_at.time() if broken or now >= remind_at else remind_at.time())
        rows[case.id] = CallRow(
            call_id=(task.id or 0) if task else 0, key=task.key if task else key, case_id=case.id,
            debtor_id=case.debtor_id, debtor_name=debtor.name if debtor else case.debtor_id, number=number, kind=kind,
            slot=slot, priority=score, reasons=(*[r for r in facts.reasons() if r != "promise due today"], reason),
            step="promise-check", template=None, audience="debtor",
            balance=money.display(case.balance, case.currency), balance_minor=case.balance, currency=case.currency,
            dpd=dpd_on(case, day), collector=who, contact_name=contact_name, promise_id=promise.id,
            call_at=(f"{remind_at:%H:%M}", f"{check_at:%H:%M}") if not broken else (f"{check_at:%H:%M}",),
        )
    return rows


def _slot_score(rt: Any, debtor: Any, day: dt.date, slot: str) -> float:
    """How good ``slot`` is on ``day`` in the debtor's time (mornings, Mondays, not lunch or month-end)."""
    if debtor is None or slot not in slots.SLOTS:
        return 0.0
    zone = debtor_zones(debtor, rt.store.contacts(debtor.id), rt.config.zone)[0]
    return slots.preference(dt.datetime.combine(day, slots.SLOTS[slot], zone))


def _held(rt: Any, task: CallTask, day: dt.date) -> bool:
    reasons = {str(h.reason) for h in rt.store.holds(task.case_id, active_on=day)}
    if reasons - {"attorney"}:
        return True
    return "attorney" in reasons and task.audience != "attorney"


def _number_to_dial(rt: Any, task: CallTask, settings: PhoneSettings) -> tuple[str, str | None, str | None] | None:
    """The task's number, or a replacement if it went bad since; None if the debtor cannot be called."""
    # An opt-out of calls as a medium stops the phone channel as surely as one of "phone".
    opt_outs = [o for o in rt.store.opt_outs(task.debtor_id) if o[0] in ("phone", "call")]
    if any(contact is None for _, contact in opt_outs):
        return None
    opted_out = frozenset(contact for _, contact in opt_outs if contact)
    usable = usable_contacts(rt.store.contacts(task.debtor_id), numbers.PHONE_KINDS, task.audience, opted_out)
    if task.number and (task.contact_id is None or any(c.id == task.contact_id for c in usable)):
        return task.number, task.number_kind, task.contact_name
    replacement: Contact | None = numbers.choose_number(usable, task.key, settings.mix)
    if replacement is None:
        return None
    debtor = rt.store.debtor(task.debtor_id)
    region = debtor.country if debtor else None
    return numbers.dial_form(replacement.value, region), replacement.kind.value, replacement.name
