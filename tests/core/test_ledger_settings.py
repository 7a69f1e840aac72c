"""The [ledger] interest keys, the policy's ledger keys and the settlement schedule: pure, no database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from dunning.config import Config, ConfigError, parse_config
from dunning.ledger.settlement import Instalment, discount_percent, schedule
from dunning.models import Debtor, DebtorKind
from dunning.policy import PolicyError, load_policy_text


def config(ledger: str) -> Config:
    import tomllib

    return parse_config(tomllib.loads(ledger), path=Path("/x/dunning.toml"), source="dunning.toml")


def test_the_rule_by_jurisdiction_then_the_default():
    settings = config('[ledger]\ninterest = "uk-late-payment"\nwaive_approval_above = "25"\n'
                      '[ledger.jurisdictions]\nDE = "de-bgb"\nUS-NY = "contract"\n').interest
    de = Debtor("D1", "Acme GmbH", DebtorKind.COMPANY, country="DE")
    ny = Debtor("D2", "Acme Inc", DebtorKind.COMPANY, country="US", region="US-NY")
    fr = Debtor("D3", "Acme SA", DebtorKind.COMPANY, country="FR")
    assert settings.rule_for(de) == ("de-bgb", "ledger.jurisdictions.DE")
    assert settings.rule_for(ny) == ("contract", "ledger.jurisdictions.US-NY")
    assert settings.rule_for(fr) == ("uk-late-payment", "ledger.interest")
    assert settings.waive_approval_above == Decimal(25)
    assert settings.waiver_needs_approval(2_501, "EUR") and not settings.waiver_needs_approval(2_500, "EUR")
    assert config("").interest.rule == "none"


@pytest.mark.parametrize(("text", "message"), [
    ('[ledger]\ninterest = "uk"', "'ledger.interest' must be one of uk-late-payment, eu-late-payment, de-bgb, "
                                  "contract, none, got 'uk'"),
    ('[ledger]\nallocaton = "fees"', "unknown key 'ledger.allocaton'"),
    ('[ledger.jurisdictions]\nde = "de-bgb"', "'ledger.jurisdictions.de' is not an ISO 3166-1 country"),
    ('[ledger]\nwaive_approval_above = "lots"', "'ledger.waive_approval_above' must be an amount"),
    ('[ledger]\nwaive_approval_above = -1', "'ledger.waive_approval_above' must be an amount of at least 0"),
    ('[compliance]\ncharges_on_consumer_debts = "yes"', "'compliance.charges_on_consumer_debts' must be true or false"),
])
def test_a_bad_ledger_key_names_itself(text: str, message: str):
    with pytest.raises(ConfigError, match=r"^dunning\.toml: ") as raised:
        config(text)
    assert message in str(raised.value)


def test_consumer_charges_are_off_unless_the_profile_says_so():
    assert config("").compliance.charges_on_consumer_debts is False
    allowed = config("[compliance]\ncharges_on_consumer_debts = true")
    assert allowed.compliance.charges_on_consumer_debts is True


STEP = '''name = "p"
[stages.internal]
max_discount_percent = {discount}
[[steps]]
name = "notice"
dpd = 1
{what}
notice_of_interest = true
fee = {fee}
'''


def test_the_policy_reads_notice_fee_and_discount():
    policy = load_policy_text(STEP.format(discount=12.5, what='channels = ["letter"]\ntemplate = "warning"',
                                          fee='"5.00"'), "p.toml")
    step = policy.step("notice")
    assert step is not None and step.notice_of_interest and step.fee == "5.00"
    assert policy.stages[next(iter(policy.stages))].max_discount_percent == Decimal("12.5")


@pytest.mark.parametrize(("discount", "what", "fee", "message"), [
    (10, 'notify = "supervisor"', '"5.00"', "'notice_of_interest' marks a letter or email step"),
    (10, 'channels = ["letter"]\ntemplate = "warning"', "5", "'fee' must be an amount such as \"5.00\""),
    (10, 'channels = ["letter"]\ntemplate = "warning"', '"-1"', "'fee' must be positive"),
    (120, 'channels = ["letter"]\ntemplate = "warning"', '"5"',
     "'max_discount_percent' must be a number from 0 to 100"),
])
def test_bad_ledger_keys_in_a_policy(discount: object, what: str, fee: str, message: str):
    with pytest.raises(PolicyError) as raised:
        load_policy_text(STEP.format(discount=discount, what=what, fee=fee), "p.toml")
    assert message in str(raised.value)


def test_instalments_fall_due_evenly_and_the_last_takes_the_remainder():
    assert schedule(100_000, 3, dt.date(2026, 3, 1), dt.date(2026, 3, 31)) == (
        Instalment(dt.date(2026, 3, 11), 33_333, 33_333),
        Instalment(dt.date(2026, 3, 21), 33_333, 66_666),
        Instalment(dt.date(2026, 3, 31), 33_334, 100_000),
    )
    assert schedule(95_000, 1, dt.date(2026, 3, 3), dt.date(2026, 3, 20)) == (
        Instalment(dt.date(2026, 3, 20), 95_000, 95_000),)
    assert discount_percent(107_532, 80_000) == Decimal("25.60")
