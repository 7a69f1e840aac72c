"""What a run posts to the charges ledger: interest up to yesterday, fixed compensation, step fees.

Nothing is charged before the written notice of interest went out (the
policy step with ``notice_of_interest = true``; its send day is kept per
case). Interest then runs on each obligation from the later of its first
day late and the notice day, up to yesterday. Every posting has a key
(``interest:<obligation>:<from>:<to>``, ``compensation:<obligation>``,
``fee:<action key>``), and how far interest was worked out is kept per
obligation in the same transaction, so a rerun posts nothing twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any


from dunning import money
from dunning.ledger.interest_rules import Debt, parse_contract_rate, round_minor, rule_for
from dunning.ledger.rates import REFERENCE_RATES, RateMissing, RatePoint
from dunning.models import Action, Case, Debtor, DebtorKind
from dunning.runtime import Runtime
from dunning.log import get_logger

log = get_logger("dunning")
_DAY = dt.timedelta(days=1)


def charges_allowed(rt: Runtime, debtor: Debtor | None) -> bool:
    """A company's debt may carry charges; a consumer's only where the profile that binds the debtor allows it."""
    if debtor is None or debtor.kind is DebtorKind.COMPANY:
        return True
    return rt.config.profile_for(debtor).profile.charges_on_consumer_debts


def record_sent(rt: Runtime, action: Action, case: Case, now: dt.datetime) -> None:
    """Inside the transaction that records ``action`` as sent: the notice of interest it gives, and its step's fee."""
    step = rt.policy_for(case).step(action.step)
    if step is None or not (step.notice_of_interest or step.fee):
        return
    today = rt.today(now)
    events = []
    if step.notice_of_interest and rt.store.record_interest_notice(case.id, today, action.id, step.name):
        events.append(rt.event("interest_notice", case, now, step=step.name, action_id=action.id,
                               channel=action.channel, data={"sent_on": today.isoformat()}))
    debtor = rt.store.debtor(case.debtor_id)
    if step.fee and rt.store.interest_notice(case.id) is not None and charges_allowed(rt, debtor):
        oldest = next((o for o in rt.store.obligations_for_interest(case.id) if o[3] > 0), None)
        try:
            amount = money.parse(step.fee, case.currency)
        except money.MoneyError as exc:
            log.warning("step fee not charged", step=step.name, error=str(exc))
            oldest = None
        key = f"fee:{action.key}"
        if oldest is not None and rt.store.post_charge(case.id, oldest[0], "fee", amount, f"step-fee:{step.name}",
                                                       key, now):
            events.append(rt.event("charge_posted", case, now, step=step.name, action_id=action.id, data={
                "kind": "fee", "amount": amount, "currency": case.currency, "reference": oldest[1], "key": key}))
    rt.store.append_events(events)


def accrue(rt: Runtime, now: dt.datetime) -> int:
    """Post interest up to yesterday and fixed compensation on every open case whose notice went out.

    Returns how many postings were made. Safe to repeat: a second run on the same day posts nothing.
    """
    yesterday = rt.today(now) - _DAY
    stored = rt.store.rate_histories()
    rates: dict[str, Sequence[RatePoint]] = {name: stored.get(name, []) for name in REFERENCE_RATES}
    rates.update(stored)
    posted = 0
    for case_id, notice_on in rt.store.noticed_open_cases():
        case = rt.store.case(case_id)
        debtor = rt.store.debtor(case.debtor_id)
        if not charges_allowed(rt, debtor):
            continue
        rule_name, chosen_by = rt.config.interest.rule_for(debtor)
        try:
            with rt.store.transaction():
                postings = _accrue_case(rt, case, debtor, rule_name, notice_on, yesterday, rates, now)
                if postings:
                    rt.store.append_events([rt.event("charges_accrued", case, now, data={
                        "rule": rule_name, "rule_by": chosen_by, "currency": case.currency, "postings": postings})])
        except RateMissing as exc:
            log.warning("interest not accrued", case_id=case_id, error=str(exc))
            continue
        posted += len(postings)
    return posted


def _accrue_case(rt: Runtime, case: Case, debtor: Debtor | None, rule_name: str, notice_on: dt.date,
                 yesterday: dt.date, rates: Mapping[str, Sequence[RatePoint]], now: dt.datetime
                 ) -> list[dict[str, Any]]:
    consumer = debtor is not None and debtor.kind is DebtorKind.PERSON
    postings: list[dict[str, Any]] = []
    for obligation_id, reference, amount, open_amount, currency, due_on, agreed in \
            rt.store.obligations_for_interest(case.id):
        debt = Debt(principal=open_amount, amount=amount, currency=currency, late_from=due_on + _DAY,
                    consumer=consumer, contract_rate=parse_contract_rate(agreed) if agreed else None)
        rule = rule_for(rule_name, debt)
        if rule is None or (consumer and not rule.consumers):
            continue
        first = max(debt.late_from, notice_on)
        if first > yesterday:
            continue  # not late yet, or the notice went out only today
        compensation = rule.compensation(debt) if open_amount > 0 else 0
        key = f"compensation:{obligation_id}"
        if compensation and rt.store.post_charge(case.id, obligation_id, "compensation", compensation, rule.name,
                                                 key, now):
            postings.append({"kind": "compensation", "reference": reference, "amount": compensation, "key": key})
        state = rt.store.accrual_state(obligation_id)
        start, before = (state[0] + _DAY, state[1]) if state else (first, Decimal(0))
        if start > yesterday:
            continue  # worked out already today
        accrual = rule.interest(debt, start, yesterday, rates)
        total = before + accrual.exact
        rt.store.save_accrual_state(obligation_id, yesterday, total)
        interest = round_minor(total) - round_minor(before)
        if interest <= 0:
            continue
        key = f"interest:{obligation_id}:{start.isoformat()}:{yesterday.isoformat()}"
        if rt.store.post_charge(case.id, obligation_id, "interest", interest, rule.name, key, now,
                                accrued_from=start, accrued_to=yesterday):
            postings.append({"kind": "interest", "reference": reference, "amount": interest, "key": key,
                             "from": start.isoformat(), "to": yesterday.isoformat(), "principal": open_amount,
                             "rates": [f"{s.percent}%/{s.per} {s.first.isoformat()}..{s.last.isoformat()}"
                                       for s in accrual.segments]})
    return postings
