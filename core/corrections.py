"""Corrections by hand: a debtor's details, its contacts, an obligation's amount, a dispute of one item.

Each correction validates first (as an import would), then writes the change
and its evidence event, naming who (``by``) and why (``reason``), in one
transaction. Obligations are named ``CASE/REFERENCE`` (``4/INV-1001``) or by
the invoice reference alone when only one debtor has it.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import attrs

from dunning import item_disputes, log, money, operations, text_checks
from dunning.compliance.jurisdictions import is_country, subdivision_error
from dunning.importer import _other_contacts
from dunning.models import ActionKind, Case, Contact, DebtorKind, Obligation, Status
from dunning.runtime import Runtime
from dunning.store import NotFound
from dunning.sync import CREDITED, DEBTOR_FIELDS, DebtorSync, FieldChange, StoredContact
from dunning.sync_apply import debtor_change_data, record_debtor_change

OperationError = operations.OperationError
# A language tag as the templates know them: zh_CN, en, pt-BR.
_LOCALE = re.compile(r"^[a-z]{2,3}([_-][A-Za-z]{2}|[_-][0-9]{3})?$")
_CASE_REFERENCE = re.compile(r"^(\d+)/(.+)$")


def _who(by: str, reason: str) -> tuple[str, str]:
    if not by.strip():
        raise OperationError("--by must name who made the change")
    if not reason.strip():
        raise OperationError("--reason must say why (it is kept as evidence)")
    return by.strip(), reason.strip()


# --- debtors ------------------------------------------------------------------------


def checked_debtor_fields(fields: dict[str, str]) -> dict[str, str | None]:
    """The new values, checked as an import checks them; a blank value clears an optional field."""
    checked: dict[str, str | None] = {}
    for field, raw in fields.items():
        value = raw.strip()
        problem = text_checks.control_character(value)
        if problem:
            raise OperationError(f"--{field}: {problem}")
        if field == "name":
            if not value:
                raise OperationError("--name: a debtor needs a name")
            checked["name"] = value
        elif field == "kind":
            if value not in DebtorKind.__members__.values():
                raise OperationError(f"--kind: must be person or company, got {value!r}")
            checked["kind"] = value
        elif field == "timezone":
            if value:
                try:
                    text_checks.time_zone(value)
                except ValueError as exc:
                    raise OperationError(f"--timezone: {exc}") from None
            checked["timezone"] = value or None
        elif field == "locale":
            if value and not _LOCALE.match(value):
                raise OperationError(f"--locale: expected a language tag such as en, de or zh_CN, got {value!r}")
            checked["locale"] = value or None
        elif field == "country":
            if value and not is_country(value.upper()):
                raise OperationError(f"--country: must be an ISO 3166-1 two-letter country code, got {value!r}")
            checked["country"] = value.upper() or None
        elif field == "region":
            checked["region"] = value.upper() or None
        else:
            raise OperationError(f"cannot change {field!r} of a debtor")
    return checked


def edit_debtor(rt: Runtime, debtor_id: str, fields: dict[str, str], *, by: str, reason: str,
                now: dt.datetime) -> tuple[FieldChange, ...]:
    """Change a debtor's details; a ``debtor_changed`` event names each field before and after."""
    by, reason = _who(by, reason)
    debtor = rt.store.debtor(debtor_id)
    if debtor is None:
        raise OperationError(f"no debtor with id {debtor_id!r}")
    fields = dict(fields)
    address = fields.pop("address", None)
    if not fields and address is None:
        raise OperationError("nothing to change: give --name, --address, --timezone, --locale, --kind, --country "
                             "or --region")
    checked = checked_debtor_fields(fields)
    new_postal, old_postal = _new_address(rt, debtor_id, address)
    region = checked.get("region", debtor.region)
    if region:
        country = checked.get("country", debtor.country)
        problem = subdivision_error(country, region)
        if problem:
            raise OperationError(f"--region: {problem}")
    changes = tuple(FieldChange(f, _plain(getattr(debtor, f)), checked[f]) for f in DEBTOR_FIELDS
                    if f in checked and _plain(getattr(debtor, f)) != checked[f])
    if not changes and new_postal is None:
        raise OperationError(f"debtor {debtor_id!r} already has these details; nothing changed")
    with rt.store.transaction():
        rt.store.set_debtor_fields(debtor_id, {c.field: c.after for c in changes}, now)
        if new_postal is not None:
            rt.store.add_contact(new_postal, "operator")
            rt.store.set_contacts_active([c.id for c in old_postal], False)
        record_debtor_change(rt, debtor_id, now, debtor_change_data(
            DebtorSync(debtor_id, debtor.name, changes=changes,
                       contacts_added=(new_postal,) if new_postal else (), contacts_retired=tuple(old_postal)),
            by=by, reason=reason))
        _wake_debtor(rt, debtor_id, now)
    return changes


def _new_address(rt: Runtime, debtor_id: str, address: str | None) -> tuple[Contact | None, list[StoredContact]]:
    """The debtor's new postal address, and the active ones it replaces (they become inactive)."""
    if address is None:
        return None, []
    value = address.strip()
    problem = text_checks.control_character(value, multiline=True)
    if problem or not value:
        raise OperationError(f"--address: {problem or 'is empty'}")
    postal = [StoredContact(c.id or 0, c, active, source) for c, active, source in rt.store.all_contacts(debtor_id)
              if active and c.kind.value == "postal" and c.role.value == "debtor"]
    if any(c.contact.value == value for c in postal):
        return None, []
    return Contact(debtor_id=debtor_id, kind="postal", value=value), postal


def _plain(value: object) -> str | None:
    return None if value is None else str(getattr(value, "value", value))


def _wake_debtor(rt: Runtime, debtor_id: str, now: dt.datetime) -> None:
    for case in rt.store.open_cases_of(debtor_id):
        rt.store.wake(case.id, rt.today(now))


# --- contacts -----------------------------------------------------------------------


def add_contact(rt: Runtime, debtor_id: str, kind: str, value: str, *, role: str = "debtor", name: str | None = None,
                by: str, reason: str, now: dt.datetime) -> int:
    """Add a contact (checked as an import checks it: a real email address, a number in E.164); its id."""
    by, reason = _who(by, reason)
    debtor = rt.store.debtor(debtor_id)
    if debtor is None:
        raise OperationError(f"no debtor with id {debtor_id!r}")
    problems: list[str] = []
    found = _other_contacts([{"kind": kind, "value": value, "role": role, "name": name}], debtor_id,
                            lambda field, problem: problems.append(f"{field.replace('contacts[1].', '--')}: {problem}"),
                            debtor.country, 0, [])
    if problems:
        raise OperationError(problems[0])
    contact = found[0]
    if any(c.kind == contact.kind and c.value == contact.value and c.role == contact.role
           for c in rt.store.contacts(debtor_id)):
        raise OperationError(f"debtor {debtor_id!r} already has this {kind} contact")
    with rt.store.transaction():
        contact_id = rt.store.add_contact(contact, "operator")
        record_debtor_change(rt, debtor_id, now, debtor_change_data(
            DebtorSync(debtor_id, debtor.name, contacts_added=(contact,)), by=by, reason=reason))
        _wake_debtor(rt, debtor_id, now)
    return contact_id


def find_contact(rt: Runtime, debtor_id: str, given: str) -> tuple[Contact, bool, str]:
    """A debtor's active contact by its id or its value (a number in any notation); (contact, active, source)."""
    debtor = rt.store.debtor(debtor_id)
    if debtor is None:
        raise OperationError(f"no debtor with id {debtor_id!r}")
    known = [c for c in rt.store.all_contacts(debtor_id) if c[1]]
    if given.isdigit():
        for entry in known:
            if entry[0].id == int(given):
                return entry
    value = operations._known_contact(rt, debtor_id, debtor.country, given)
    for entry in known:
        if entry[0].value == value:
            return entry
    raise OperationError(f"debtor {debtor_id!r} has no active contact {log.mask(given)!r}")


def remove_contact(rt: Runtime, debtor_id: str, given: str, *, by: str, reason: str, now: dt.datetime) -> Contact:
    """Make a contact inactive: never used again for outreach, kept for the evidence that names it."""
    by, reason = _who(by, reason)
    contact, _active, source = find_contact(rt, debtor_id, given)
    assert contact.id is not None
    debtor = rt.store.debtor(debtor_id)
    assert debtor is not None
    with rt.store.transaction():
        rt.store.set_contacts_active([contact.id], False)
        record_debtor_change(rt, debtor_id, now, debtor_change_data(
            DebtorSync(debtor_id, debtor.name, contacts_retired=(StoredContact(contact.id, contact, True, source),)),
            by=by, reason=reason))
    return contact


def mark_bad(rt: Runtime, debtor_id: str, given: str, *, by: str, reason: str, now: dt.datetime) -> Contact:
    """A wrong number or a returned letter: the contact is kept but no longer used (``contact_marked_bad``)."""
    by, reason = _who(by, reason)
    contact, _active, _source = find_contact(rt, debtor_id, given)
    assert contact.id is not None
    if contact.bad:
        raise OperationError(f"contact {contact.id} is already marked bad")
    cases = rt.store.open_cases_of(debtor_id)
    with rt.store.transaction():
        rt.store.mark_contact_bad(contact.id, reason)
        data = {"debtor_id": debtor_id, "contact_id": contact.id, "kind": contact.kind.value,
                "role": contact.role.value, "value": log.mask(contact.value), "reason": reason, "by": by}
        rt.store.append_events([rt.event("contact_marked_bad", case, now, data=data) for case in cases]
                               or [rt.event("contact_marked_bad", None, now, data=data)])
    return contact


# --- obligations --------------------------------------------------------------------


def find_obligation(rt: Runtime, given: str) -> Obligation:
    """``CASE/REFERENCE`` (4/INV-1001), or an invoice reference only one debtor has."""
    match = _CASE_REFERENCE.match(given)
    if match:
        try:
            return rt.store.obligation_in_case(int(match.group(1)), match.group(2))
        except NotFound:
            pass  # a reference with a slash in it ("2026/17"): look it up whole
    found = rt.store.obligations_with_reference(given)
    if len(found) == 1:
        return found[0][1]
    if found:
        named = ", ".join(f"{o.case_id}/{o.reference}" for _, o in found)
        raise OperationError(f"{given!r} is the reference of several debtors' obligations; name one as CASE/REFERENCE: "
                             f"{named}")
    raise OperationError(f"no obligation {given!r}: name it as CASE/REFERENCE (4/INV-1001) or by its invoice "
                         "reference")


@attrs.frozen
class Adjusted:
    obligation: Obligation
    before: int
    after: int
    balance: int
    resolved: bool


def adjust(rt: Runtime, given: str, amount_text: str, *, by: str, reason: str, now: dt.datetime) -> Adjusted:
    """A credit note or a settled price dispute: the obligation's new amount (0 credits it in full).

    The balance is recomputed; a case left owing nothing resolves as paid.
    """
    by, reason = _who(by, reason)
    obligation = find_obligation(rt, given)
    assert obligation.id is not None
    case = rt.store.case(obligation.case_id)
    if not case.is_open:
        raise OperationError(f"case {case.id} is {case.status}; its obligations can no longer be adjusted")
    if obligation.closed_reason:
        raise OperationError(f"{case.id}/{obligation.reference} was closed as {obligation.closed_reason}")
    try:
        amount = money.parse(amount_text, obligation.currency)
    except money.MoneyError as exc:
        raise OperationError(f"--amount: {exc}") from None
    if amount < 0:
        raise OperationError("--amount must not be negative")
    if amount == obligation.amount:
        raise OperationError(f"{case.id}/{obligation.reference} already is "
                             f"{money.display(amount, obligation.currency)}; nothing changed")
    if 0 < amount < obligation.paid:
        raise OperationError(f"{money.display(amount, obligation.currency)} is less than the "
                             f"{money.display(obligation.paid, obligation.currency)} already paid on it")
    today = rt.today(now)
    with rt.store.transaction():
        if amount == 0:
            rt.store.close_obligation(obligation.id, CREDITED, today)
        else:
            rt.store.set_obligation_figures(obligation.id, amount=amount, open_amount=amount - obligation.paid)
        rt.store.append_events([rt.event("adjusted", case, now, data={
            "reference": obligation.reference, "currency": obligation.currency,
            "before": {"amount": obligation.amount, "open": obligation.open_amount},
            "after": {"amount": amount, "open": max(amount - obligation.paid, 0)},
            "reason": reason, "by": by, **({"closed": CREDITED} if amount == 0 else {})})])
        balance = rt.store.refresh_case(case.id, wake_on=today)
        resolved = balance == 0
        if resolved:
            operations.resolve(rt, case.id, Status.PAID.value, now=now, reason=f"adjusted by {by}: {reason}")
    return Adjusted(obligation, obligation.amount, amount, balance, resolved)


def dispute(rt: Runtime, given: str, *, reason: str, by: str, now: dt.datetime, lift: bool = False,
            verification_sent: bool = False) -> Obligation:
    """Hold one obligation out of demands (or, ``lift``, bring it back); the case's other items are still collected.

    A dispute queues a notice to the supervisor naming the item, its open
    amount and the reason. Where Reg F binds the debtor, the lift needs
    ``verification_sent`` (see ``dunning.item_disputes``).
    """
    by, reason = _who(by, reason)
    obligation = find_obligation(rt, given)
    assert obligation.id is not None
    case = rt.store.case(obligation.case_id)
    name = f"{case.id}/{obligation.reference}"
    if verification_sent and not lift:
        raise OperationError("--verification-sent goes with --lift: it says why the dispute ends")
    if lift and obligation.disputed_on is None:
        raise OperationError(f"{name} is not disputed", code="item_not_disputed", item=name)
    verification = item_disputes.verification_required(rt.config.profile_for(rt.store.debtor(case.debtor_id)))
    if lift and verification and not verification_sent:
        raise OperationError(item_disputes.verification_missing(name), code="item_needs_verification", item=name)
    if not lift:
        if obligation.disputed_on is not None:
            raise OperationError(f"{name} is already disputed (since {obligation.disputed_on})",
                                 code="item_already_disputed", item=name, since=str(obligation.disputed_on))
        if not case.is_open or obligation.open_amount == 0:
            raise OperationError(f"{name} owes nothing; there is nothing to dispute", code="item_owes_nothing",
                                 item=name)
    today = rt.today(now)
    with rt.store.transaction():
        rt.store.set_dispute(obligation.id, None if lift else today, None if lift else reason)
        data: dict[str, Any] = {"reference": obligation.reference, "open": obligation.open_amount,
                                "currency": obligation.currency, "reason": reason, "by": by,
                                **({"verification_sent": True} if verification_sent else {})}
        [event] = rt.store.append_events([rt.event("dispute_lifted" if lift else "obligation_disputed", case, now,
                                                   data=data)])
        if not lift:
            _notify_supervisor(rt, case, obligation, event.seq, reason, now, verification=verification)
        rt.store.wake(case.id, today)
    return rt.store.obligation_in_case(case.id, obligation.reference)


def _notify_supervisor(rt: Runtime, case: Case, obligation: Obligation, dispute_seq: int | None, reason: str,
                       now: dt.datetime, *, verification: bool) -> None:
    """Queue the supervisor's notice of a dispute (inside the dispute's transaction); the next run delivers it."""
    assert obligation.id is not None and dispute_seq is not None
    name = f"{case.id}/{obligation.reference}"
    why = item_disputes.notice_why(name, money.display(obligation.open_amount, obligation.currency), reason,
                                   verification=verification)
    rt.store.add_action(key=item_disputes.notice_key(case.id, obligation.id, dispute_seq), case_id=case.id,
                        kind=ActionKind.NOTICE, step=item_disputes.NOTICE_STEP, target=item_disputes.NOTICE_ROLE,
                        planned_for=rt.today(now), not_before=now, now=now, dpd=rt.dpd(case, now),
                        options={"why": why, "reference": obligation.reference, "open": obligation.open_amount,
                                 "currency": obligation.currency, "reason": reason,
                                 "verification_required": verification})
