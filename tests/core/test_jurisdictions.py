"""Choosing each debtor's contact rules by jurisdiction and kind, and the config that maps them. Pure."""

from __future__ import annotations

import pytest

from dunning.compliance.jurisdictions import choose_profile, parse_jurisdictions, subdivision_error
from dunning.compliance.media import declared_medium, medium_of
from dunning.compliance.profiles import CN, DEFAULT, PROFILES, UK, US_REGF, ComplianceError, caps_for, \
    parse_compliance, strictest, window_for
from dunning.config import ConfigError, parse_config
from dunning.models import DebtorKind

PERSON, COMPANY = DebtorKind.PERSON, DebtorKind.COMPANY
MAPPED = {"US": US_REGF, "CN": CN, "GB": UK, "US-NY": DEFAULT}


def test_a_subdivision_beats_its_country_and_the_fallback_takes_the_rest() -> None:
    assert choose_profile(DEFAULT, MAPPED, "US", None, PERSON).profile is US_REGF
    ny = choose_profile(DEFAULT, MAPPED, "US", "US-NY", PERSON)
    assert (ny.profile, ny.jurisdiction, ny.by) == (DEFAULT, "US-NY", "compliance.jurisdictions.US-NY")
    ca = choose_profile(DEFAULT, MAPPED, "US", "US-CA", PERSON)  # a state of its own is not mapped: its country
    assert (ca.profile, ca.jurisdiction, ca.by) == (US_REGF, "US-CA", "compliance.jurisdictions.US")
    de = choose_profile(CN, MAPPED, "DE", None, PERSON)
    assert (de.profile, de.jurisdiction, de.by) == (CN, "DE", "compliance.profile")
    unknown = choose_profile(DEFAULT, MAPPED, None, None, PERSON)
    assert (unknown.profile, unknown.jurisdiction) == (DEFAULT, None)


def test_consumer_rules_do_not_bind_companies_unless_the_profile_says_so() -> None:
    us_company = choose_profile(DEFAULT, MAPPED, "US", None, COMPANY)
    assert us_company.profile is DEFAULT and us_company.jurisdiction == "US"
    assert us_company.by == "us-regf binds consumer debts only; companies: default"
    assert choose_profile(DEFAULT, MAPPED, "GB", None, COMPANY).profile is DEFAULT
    assert choose_profile(DEFAULT, MAPPED, "CN", None, COMPANY).profile is CN  # binds companies
    # A fallback that binds consumers only: companies get the default profile.
    assert choose_profile(US_REGF, {}, "US", None, COMPANY).profile is DEFAULT
    bound = parse_compliance({"profile": "us-regf", "binds_companies": True}, "x.toml")
    assert choose_profile(bound, {"US": bound}, "US", None, COMPANY).profile is bound


def test_jurisdiction_codes_and_profile_names_are_checked() -> None:
    tuned = parse_compliance({"profile": "uk", "promise_max_days": 5}, "x.toml")
    mapped = parse_jurisdictions({"GB": "uk", "US-NY": "us-regf", "CN": "cn"}, "x.toml", tuned)
    assert mapped["GB"] is tuned and mapped["US-NY"] is US_REGF and mapped["CN"] is CN
    for table, message in [({"UK": "uk"}, "'compliance.jurisdictions.UK' is not an ISO 3166-1 country"),
                           ({"US-XX": "us-regf"}, "'compliance.jurisdictions.US-XX' is not an ISO 3166-1"),
                           ({"us": "us-regf"}, "'compliance.jurisdictions.us' is not"),
                           ({"US": "regf"}, "'compliance.jurisdictions.US' must be one of " + ", ".join(PROFILES))]:
        with pytest.raises(ComplianceError) as info:
            parse_jurisdictions(table, "x.toml", DEFAULT)
        assert message in str(info.value)
    assert subdivision_error("US", "US-NY") is None
    assert subdivision_error("GB", "US-NY") == "US-NY is not in the debtor's country GB"
    assert "not an ISO 3166-2 subdivision" in (subdivision_error("US", "US-ZZ") or "")


@pytest.mark.parametrize("toml, key", [
    ({"compliance": {"windows": {"phon": ["09:00", "20:00"]}}}, "compliance.windows.phon"),
    ({"compliance": {"windows": {"call": ["25:00", "20:00"]}}}, "compliance.windows.call"),
    ({"compliance": {"caps": [{"channel": "whatsapp", "max": 2}]}}, "compliance.caps[0].channel"),
    ({"compliance": {"jurisdictions": {"XX": "cn"}}}, "compliance.jurisdictions.XX"),
    ({"compliance": {"promise_reminder_channels": ["text"]}}, "compliance.promise_reminder_channels[0]"),
])
def test_config_typos_under_compliance_are_errors_naming_the_key(toml: dict, key: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(toml, path=None, source="dunning.toml")
    assert str(info.value).startswith(f"dunning.toml: '{key}'")


def test_a_window_or_cap_may_name_an_enabled_channel_of_the_integrators() -> None:
    config = parse_config({"channels": {"enabled": ["whatsapp"]},
                           "compliance": {"windows": {"whatsapp": ["10:00", "18:00"]},
                                          "caps": [{"channel": "whatsapp", "max": 1}],
                                          "jurisdictions": {"US": "us-regf"}}}, path=None, source="dunning.toml")
    assert str(config.compliance.windows["whatsapp"]) == "10:00-18:00"
    assert window_for(config.compliance, "whatsapp", "text") == parse_compliance(
        {"windows": {"text": ["10:00", "18:00"]}}, "x").windows["text"]
    # [[compliance.caps]] replaces the profile's caps
    assert [c.channel for c in caps_for(config.compliance, "whatsapp", "text")] == ["whatsapp"]
    assert config.jurisdictions == {"US": US_REGF}


def test_media_bind_by_kind_and_no_medium_gets_the_strictest_window_and_other_caps() -> None:
    class WhatsApp:
        name, medium = "whatsapp", "text"

    class Pigeon:
        name = "pigeon"

    assert declared_medium(WhatsApp()) == "text" and declared_medium(Pigeon()) is None
    assert medium_of("sms", {}) == "text" and medium_of("pigeon", {"pigeon": None}) is None
    assert window_for(CN, "whatsapp", "text") == CN.windows["text"]
    assert window_for(CN, "letter", "letter") is None  # letters have no hours
    evening = parse_compliance({"windows": {"email": ["06:00", "23:00"], "text": ["09:00", "20:00"]}}, "x")
    assert window_for(evening, "pigeon", None) == strictest([w for w in evening.windows.values() if w])
    assert str(window_for(evening, "pigeon", None)) == "09:00-20:00"
    assert [c.name for c in caps_for(DEFAULT, "pigeon", None)] == ["daily_attempts:other"]
    assert [c.name for c in caps_for(US_REGF, "whatsapp", "text")] == []
    assert [c.name for c in caps_for(US_REGF, "phone", "call")] == ["regf_7_in_7"]


def test_the_import_takes_a_region_checked_against_the_country() -> None:
    from dunning.importer import validate

    base = {"debtor_id": "D1", "name": "Ann Doe", "kind": "person", "reference": "L-1", "amount": "100.00",
            "currency": "USD", "due_on": "2026-03-01", "country": "US"}
    items, errors = validate([(2, base | {"region": "us-ny"}), (3, base | {"debtor_id": "D2", "region": "US-NY",
                                                                               "country": ""})], None)
    assert not errors
    assert [(i.debtor.country, i.debtor.region) for i in items] == [("US", "US-NY"), ("US", "US-NY")]
    _, errors = validate([(2, base | {"region": "GB-LND"}), (3, base | {"debtor_id": "D2", "region": "NY"})], None)
    assert [(e.line, e.field, e.problem) for e in errors] == [
        (2, "region", "GB-LND is not in the debtor's country US"),
        (3, "region", "is not an ISO 3166-2 subdivision code (like US-NY), got 'NY'")]
