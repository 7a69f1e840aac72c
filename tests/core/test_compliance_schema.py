"""[compliance] refused through its schema: one line, the key's full path, and the key meant when one is close."""

from __future__ import annotations

import datetime as dt

import pytest

from dunning.compliance.profiles import DEFAULT, ComplianceError, parse_compliance


def refusal(table: dict[str, object]) -> str:
    with pytest.raises(ComplianceError) as refused:
        parse_compliance(table, "x.toml")
    return str(refused.value)


@pytest.mark.parametrize(("table", "message"), [
    ({"caps": [{"max": 2}]}, "x.toml: 'compliance.caps[0].channel' is required"),
    ({"caps": [{"channel": "sms", "max": -1}]},
     "x.toml: 'compliance.caps[0].max' must be a whole number of at least 0, got -1"),
    ({"caps": {"x": 1}}, "x.toml: 'compliance.caps' must be a list of tables ([[compliance.caps]]), got {'x': 1}"),
    ({"working_days_only": "call"}, "x.toml: 'compliance.working_days_only' must be a list of names, got 'call'"),
    ({"days_off": ["sat", "sunday"]}, "x.toml: 'compliance.days_off' must be a list of mon, tue, wed, thu, fri, sat, "
                                      "sun, got ['sat', 'sunday']"),
    ({"third_party_debt_from_dpd": True}, "x.toml: 'compliance.third_party_debt_from_dpd' must be a whole number of "
                                          "at least 0, got True"),
    ({"jurisdictions": {"US": 3}}, "x.toml: 'compliance.jurisdictions.US' must be a string, got 3"),
])
def test_a_wrong_value_names_its_path(table: dict[str, object], message: str):
    assert refusal(table) == message


def test_a_misspelt_rule_names_the_one_meant():
    assert refusal({"promise_max_day": 3}).startswith(
        "x.toml: 'compliance.promise_max_day' is not a known key; did you mean 'promise_max_days'? (allowed: ")


def test_only_the_rules_given_change_the_profile():
    tuned = parse_compliance({"third_party_debt_from_dpd": False, "days_off": ["fri"], "windows": {"email": False},
                              "promise_grace_minutes": 5, "caps": [{"channel": "sms", "max": 2}]}, "x.toml")
    assert tuned.third_party_debt_from_dpd is None and tuned.days_off == (4,)
    assert tuned.windows["email"] is None and tuned.windows["call"] == DEFAULT.windows["call"]
    assert tuned.promise_grace == dt.timedelta(minutes=5)
    assert [(c.name, c.channel, c.max, c.per) for c in tuned.caps] == [("cap:sms:attempts:2/day", "sms", 2, "day")]
    assert tuned.promise_max_days == DEFAULT.promise_max_days and tuned.caps != DEFAULT.caps
