"""Cases share a plan by the side of each balance threshold they are on (policy.evaluation.balance_side).

Planning and ``evaluate`` key a case whose rules read its balance by
``balance_side`` rather than the balance itself. That is right only if two
balances on the same sides of every threshold pass and fail every balance
condition of the policy alike, and if the plans ``evaluate`` shares are
those it works out case by case; both are checked here around each
threshold, in a currency with cents and one without.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs
import pytest

from dunning.models import Case, Stage
from dunning.policy import Policy, evaluate, load_policy
from dunning.policy import evaluation
from dunning.policy.model import Conditions

TODAY = dt.date(2026, 3, 2)


def _conditions(policy: Policy) -> list[Conditions]:
    found = [step.when for steps in policy.steps_at.values() for step in steps]
    found += [rule.when for rule in policy.stages.values() if rule.entry_dpd is not None]
    return [c for c in found if c.min_balance is not None or c.max_balance is not None]


def _balances_around(policy: Policy, currency: str) -> list[int]:
    exp = 0 if currency == "JPY" else 2
    minor = [int(Decimal(a.replace(",", "")).scaleb(exp)) for c in _conditions(policy)
             for a in (c.min_balance, c.max_balance) if a is not None]
    return sorted({b + d for b in minor for d in (-101, -1, 0, 1, 99) if b + d >= 0} | {0, 1, 10**9})


def _case(balance: int, currency: str, **fields: object) -> Case:
    return Case(id=1, debtor_id="D1", currency=currency, balance=balance, stage=Stage.INTERNAL,
                anchor_due_on=TODAY - dt.timedelta(days=91), opened_on=dt.date(2025, 1, 1),
                planned_through=TODAY - dt.timedelta(days=1), **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize("preset", ["trade-receivables", "consumer-loans"])
@pytest.mark.parametrize("currency", ["EUR", "JPY"])
def test_balances_on_the_same_sides_pass_every_balance_condition_alike(preset: str, currency: str) -> None:
    policy = load_policy(preset)
    conditions = _conditions(policy)
    assert conditions, "the preset has balance conditions to test against"
    by_side: dict[tuple[object, ...], list[tuple[bool, ...]]] = {}
    for balance in _balances_around(policy, currency):
        case = _case(balance, currency)
        answers = tuple(c.hold(case, Stage.ONSITE, TODAY) for c in conditions)
        by_side.setdefault(evaluation.balance_side(policy, balance, currency), []).append(answers)
    assert all(len(set(answers)) == 1 for answers in by_side.values())
    assert len(by_side) > 1  # the thresholds do tell balances apart


def test_the_shared_plans_are_those_worked_out_case_by_case() -> None:
    policy = load_policy("trade-receivables")
    balances = _balances_around(policy, "EUR")
    for days in range(85, 100):  # around the agency entry at 91 days past due, for 500.00 or more
        for balance in balances:
            case = attrs.evolve(_case(balance, "EUR"), anchor_due_on=TODAY - dt.timedelta(days=days),
                                stage=Stage.ONSITE)
            evaluation._PLANS.clear()
            alone = evaluate(policy, case, TODAY)
            shared = evaluate(policy, attrs.evolve(case, balance=balance), TODAY)
            assert shared == alone
        # Now with the cache warm from other balances on the same sides.
        expected = {}
        for balance in balances:
            case = attrs.evolve(_case(balance, "EUR"), anchor_due_on=TODAY - dt.timedelta(days=days),
                                stage=Stage.ONSITE)
            evaluation._PLANS.clear()
            expected[balance] = evaluate(policy, case, TODAY)
        for balance in reversed(balances):
            case = attrs.evolve(_case(balance, "EUR"), anchor_due_on=TODAY - dt.timedelta(days=days),
                                stage=Stage.ONSITE)
            assert evaluate(policy, case, TODAY) == expected[balance]


def test_an_unknown_currency_keys_on_the_balance_itself() -> None:
    policy = load_policy("trade-receivables")
    assert evaluation.balance_side(policy, 123, "XXX") == ("XXX", 123)
