"""The pure rules of a disputed item: where Reg F's verification binds the lift, and what the notice says."""

from __future__ import annotations

from dunning.action_key import ActionKey
from dunning.compliance.jurisdictions import choose_profile
from dunning.compliance.profiles import DEFAULT, UK, US_REGF, parse_compliance
from dunning.item_disputes import (NOTICE_STEP, notice_key, notice_why, verification_missing,
                                   verification_required)
from dunning.models import DebtorKind

JURISDICTIONS = {"US": US_REGF, "GB": UK}


def test_verification_binds_a_consumer_under_reg_f_only():
    person_in_us = choose_profile(DEFAULT, JURISDICTIONS, "US", "US-NY", DebtorKind.PERSON)
    company_in_us = choose_profile(DEFAULT, JURISDICTIONS, "US", None, DebtorKind.COMPANY)
    person_in_uk = choose_profile(DEFAULT, JURISDICTIONS, "GB", None, DebtorKind.PERSON)
    person_elsewhere = choose_profile(DEFAULT, JURISDICTIONS, "DE", None, DebtorKind.PERSON)
    assert verification_required(person_in_us) is True
    # Reg F is for a consumer's debt: a business debt is held to the fallback, and its lift stays as it was.
    assert verification_required(company_in_us) is False
    assert verification_required(person_in_uk) is False
    assert verification_required(person_elsewhere) is False


def test_reg_f_as_the_fallback_and_tuned_still_asks_for_verification():
    tuned = parse_compliance({"profile": "us-regf", "promise_max_days": 5}, "dunning.toml")
    assert verification_required(choose_profile(tuned, {}, None, None, DebtorKind.PERSON)) is True
    # An administrator who binds companies to Reg F as well gets its verification for them too.
    bound = parse_compliance({"profile": "us-regf", "binds_companies": True}, "dunning.toml")
    assert verification_required(choose_profile(bound, {}, "US", None, DebtorKind.COMPANY)) is True


def test_the_refusal_reads_as_the_case_level_rule_does():
    assert verification_missing("4/INV-1001") == (
        "4/INV-1001 is disputed: collection resumes only once verification of the debt was sent; "
        "say so with --verification-sent")


def test_each_dispute_has_its_own_notice_key_and_the_same_dispute_the_same_key():
    first = notice_key(4, 17, 120)
    assert first == notice_key(4, 17, 120)
    assert first != notice_key(4, 17, 131)  # disputed again after a lift: a new event, a new notice
    parsed = ActionKey.parse(first)
    assert (parsed.case_id, parsed.step, parsed.channel, parsed.occurrence) == (4, NOTICE_STEP, "notice", "17-120")


def test_the_notice_names_the_item_its_open_amount_the_reason_and_how_it_is_lifted():
    regf = notice_why("4/INV-1001", "USD 250.00", "never delivered", verification=True)
    assert regf == ("item 4/INV-1001 (USD 250.00 open) disputed: never delivered; held out of demands until "
                    "verification of the debt was sent (Reg F): dunning dispute 4/INV-1001 --lift --verification-sent")
    plain = notice_why("4/INV-1001", "EUR 250.00", "wrong price", verification=False)
    assert plain == ("item 4/INV-1001 (EUR 250.00 open) disputed: wrong price; held out of demands until the "
                     "dispute is settled: dunning dispute 4/INV-1001 --lift")
