"""Settlement offers: settle a case for less than it owes if the debtor pays by a date.

``offer`` validates against the policy's ``max_discount_percent`` for the
case's stage (a larger discount needs ``approved_by``), records the offer,
pauses collection with a hold until the date, and queues the
``settlement-offer`` letter or email. ``review`` (every run) resolves the
case as settled once the settled amount is paid in time, with the
concession recorded, or lets the offer lapse the run after a missed date,
lifting the hold so collection resumes.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs

from dunning import calendar, money
from dunning.action_key import ActionKey
from dunning.compliance.media import medium_of
from dunning.ledger.policy_checks import WRITTEN_MEDIA
from dunning.models import ActionKind, HoldReason, Status
from dunning.runtime import Runtime
from dunning.store.settlements import SettlementOffer

TEMPLATE = "settlement-offer"
STEP = "settlement-offer"
MAX_INSTALMENTS = 12


class SettlementError(ValueError):
    """An offer refused; nothing was written. The text is the command line's; ``code`` and ``params`` let the
    browser console word the refusal in the reader's language (``dunning.web.strings``)."""

    def __init__(self, message: str, *, code: str | None = None, **params: object) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


@attrs.frozen
class Instalment:
    due_on: dt.date
    amount: int
    cumulative: int  # what must have been paid by ``due_on``


def schedule(amount: int, instalments: int, offered_on: dt.date, until: dt.date) -> tuple[Instalment, ...]:
    """``amount`` in equal parts (the last takes the remainder) falling due evenly up to ``until``. Pure."""
    span = (until - offered_on).days
    part = amount // instalments
    items, paid = [], 0
    for i in range(1, instalments + 1):
        due = until if i == instalments else offered_on + dt.timedelta(days=span * i // instalments)
        share = amount - paid if i == instalments else part
        paid += share
        items.append(Instalment(due, share, paid))
    return tuple(items)


def discount_percent(owed: int, amount: int) -> Decimal:
    return (Decimal(owed - amount) * 100 / Decimal(owed)).quantize(Decimal("0.01"))


def owed_now(rt: Runtime, case_id: int) -> tuple[int, dict[str, int]]:
    """What the case owes in all: its principal balance, and its open interest, fees and compensation."""
    case = rt.store.case(case_id)
    charges = rt.store.charges_owed(case_id)
    return case.balance + sum(charges.values()), charges


def offer(rt: Runtime, case_id: int, amount_text: str, until: dt.date, *, now: dt.datetime, by: str,
          instalments: int = 1, approved_by: str | None = None, channel: str | None = None) -> int:
    """Record and send a settlement offer; returns its id. Refuses (writing nothing) what the policy does not allow."""
    case = rt.store.case(case_id)
    if not case.is_open:
        raise SettlementError(f"case {case_id} is {case.status}, not open", code="case_not_open", case_id=case_id,
                              status=str(case.status))
    if rt.store.open_settlement(case_id) is not None:
        raise SettlementError(f"case {case_id} already has an open settlement offer", code="settlement_open",
                              case_id=case_id)
    try:
        amount = money.parse(amount_text, case.currency)
    except money.MoneyError as exc:
        raise SettlementError(f"--settle: {exc}", code="not_an_amount", text=amount_text,
                              currency=case.currency) from None
    owed, charges = owed_now(rt, case_id)
    if amount <= 0 or amount >= owed:
        raise SettlementError(f"--settle must be more than 0 and less than the {money.display(owed, case.currency)} "
                              f"the case owes, got {amount_text}", code="settlement_amount",
                              owed=money.display(owed, case.currency), amount=amount_text)
    today = rt.today(now)
    if until <= today:
        raise SettlementError(f"--until {until} is not in the future", code="date_not_future", until=str(until))
    if not 1 <= instalments <= min(MAX_INSTALMENTS, (until - today).days):
        raise SettlementError(f"--instalments must be from 1 to {min(MAX_INSTALMENTS, (until - today).days)} "
                              f"(one a day at most, {MAX_INSTALMENTS} at most), got {instalments}",
                              code="settlement_instalments", most=min(MAX_INSTALMENTS, (until - today).days),
                              got=instalments)
    discount = discount_percent(owed, amount)
    rule = rt.policy_for(case).stages.get(case.stage)
    limit = rule.max_discount_percent if rule is not None else None
    if (limit is None or discount > limit) and not approved_by:
        allowed = f"at most {limit}%" if limit is not None else "no discount"
        raise SettlementError(f"a discount of {discount}% is beyond what the policy allows at {case.stage} "
                              f"({allowed} without approval): a supervisor must approve it with --approved-by NAME",
                              code="settlement_discount", discount=discount, stage=str(case.stage), limit=limit)
    if approved_by is not None and approved_by == by:
        raise SettlementError("--approved-by must name someone other than --by")
    chosen = channel or next((c for c in ("email", "letter") if c in rt.plugins.enabled), None)
    if chosen is None or chosen not in rt.plugins.enabled:
        raise SettlementError(f"the offer goes by letter or email: enable one of them (--channel {chosen or 'letter'} "
                              "is not enabled)", code="settlement_no_written_channel")
    if medium_of(chosen, rt.plugins.media) not in WRITTEN_MEDIA:
        raise SettlementError(f"--channel {chosen} is not a letter or an email")
    parts = schedule(amount, instalments, today, until)
    with rt.store.transaction():
        hold_id = rt.store.add_hold(case_id, HoldReason.OTHER.value, now, until + dt.timedelta(days=1),
                                    f"settlement offer until {until.isoformat()}")
        offer_id = rt.store.add_settlement(case_id, amount, owed, today, until, instalments, by, approved_by, hold_id,
                                           now)
        rt.store.add_action(
            key=str(ActionKey(case_id, STEP, chosen, str(offer_id))), case_id=case_id, kind=ActionKind.OUTREACH,
            step=STEP, channel=chosen, template=TEMPLATE, planned_for=today, not_before=now, now=now,
            dpd=rt.dpd(case, now), options={"settlement": {
                "id": offer_id, "hold_id": hold_id, "amount": money.display(amount, case.currency),
                "owed": money.display(owed, case.currency),
                "concession": money.display(owed - amount, case.currency), "until": until.isoformat(),
                "instalments": [{"due_on": p.due_on.isoformat(), "amount": money.display(p.amount, case.currency),
                                 "amount_minor": p.amount} for p in parts],
                # The figures as numbers too, so a letter can write them the debtor's way.
                "amount_minor": amount, "owed_minor": owed, "concession_minor": owed - amount}})
        rt.store.append_events([rt.event("settlement_offered", case, now, data={
            "settlement_id": offer_id, "amount": amount, "owed": owed, "concession": owed - amount,
            "discount_percent": str(discount), "max_discount_percent": str(limit) if limit is not None else None,
            "charges": charges, "currency": case.currency, "until": until.isoformat(), "instalments": instalments,
            "channel": chosen, "by": by, "approved_by": approved_by, "hold_id": hold_id})])
    return offer_id


def review(rt: Runtime, now: dt.datetime) -> tuple[int, int]:
    """Settle offers paid in time, let missed ones lapse; (settled, lapsed) counts. Safe to repeat."""
    settled = lapsed = 0
    today = rt.today(now)
    for item in rt.store.open_settlements():
        case = rt.store.case(item.case_id)
        if not case.is_open:
            # Resolved meanwhile (paid in full, written off): the offer ends with the case; it counts as
            # taken up when the settled amount came in time.
            taken = _paid_by(rt, item, item.until) >= item.amount
            with rt.store.transaction():
                if rt.store.close_settlement(item.id, "settled" if taken else "lapsed", now):
                    rt.store.append_events([rt.event("settlement_settled" if taken else "settlement_lapsed", case,
                                                     now, data={"settlement_id": item.id,
                                                                "reason": f"case resolved as {case.status}"})])
            continue
        parts = schedule(item.amount, item.instalments, item.offered_on, item.until)
        if _paid_by(rt, item, item.until) >= item.amount:
            _settle(rt, item, now)
            settled += 1
            continue
        missed = next((p for p in parts if today > p.due_on and _paid_by(rt, item, p.due_on) < p.cumulative), None)
        if missed is not None:
            _lapse(rt, item, missed, now)
            lapsed += 1
    return settled, lapsed


def _paid_by(rt: Runtime, item: SettlementOffer, day: dt.date) -> int:
    """Paid on the case since the offer, up to the end of ``day`` (the business's time zone)."""
    end = calendar.local_moment(day + dt.timedelta(days=1), None, rt.config.zone) - dt.timedelta(seconds=1)
    return rt.store.paid_on_case(item.case_id, until=end) - item.paid_before


def _settle(rt: Runtime, item: SettlementOffer, now: dt.datetime) -> None:
    # Here, not at the top: operations imports dispatch, whose runner calls ``review``.
    from dunning import operations

    case = rt.store.case(item.case_id)
    with rt.store.transaction():
        if not rt.store.close_settlement(item.id, "settled", now):
            return
        waived = rt.store.waive_charges(case.id, ("interest", "fee", "compensation"))
        forgone = {"principal": case.balance, **{k: sum(a for _, kind, a in waived if kind == k)
                                                 for k in ("interest", "fee", "compensation")}}
        rt.store.append_events([rt.event("settlement_settled", case, now, data={
            "settlement_id": item.id, "amount": item.amount, "paid": _paid_by(rt, item, item.until),
            "currency": case.currency, "concession": sum(forgone.values()), "forgone": forgone,
            "offered_by": item.offered_by, "approved_by": item.approved_by})])
        operations.resolve(rt, case.id, Status.SETTLED.value, now=now,
                           reason=f"settlement {item.id}: {money.display(item.amount, case.currency)} paid by "
                                  f"{item.until.isoformat()}")


def _lapse(rt: Runtime, item: SettlementOffer, missed: Instalment, now: dt.datetime) -> None:
    case = rt.store.case(item.case_id)
    with rt.store.transaction():
        if not rt.store.close_settlement(item.id, "lapsed", now):
            return
        if item.hold_id is not None:
            rt.store.expire_hold(item.hold_id, now)
        rt.store.wake(case.id, rt.today(now))
        rt.store.append_events([rt.event("settlement_lapsed", case, now, data={
            "settlement_id": item.id, "amount": item.amount, "currency": case.currency,
            "missed": {"due_on": missed.due_on.isoformat(), "owed_by_then": missed.cumulative,
                       "paid_by_then": _paid_by(rt, item, missed.due_on)},
            "reason": "not paid in time; collection resumes"})])
