"""The built-in channels' settings refused through their schemas: the key's path, its type, the key meant."""

from __future__ import annotations

import pytest

from dunning.plugins.agency.settings import parse_settings as agency_settings
from dunning.plugins.email.settings import parse_settings as email_settings
from dunning.plugins.legal.settings import parse_settings as legal_settings
from dunning.plugins.letter.settings import check_settings as letter_settings
from dunning.plugins.phone.calls import phone_settings
from dunning.plugins.phone.sms import sms_settings
from dunning.plugins.visit.settings import check_settings as visit_settings

EMAIL = {"host": "smtp.example.com", "sender": "credit@acme.example"}
NORTHWIND = {"name": "Northwind", "commission": "25"}
LETTER = {"sender_name": "Acme", "sender_address": "1 Road, Town"}
SMS = {"url": "https://sms.example.com/v1/messages", "sender_id": "Northwind", "token": "t"}


def agencies(**northwind: object) -> dict[str, object]:
    return {"folder": "out", "agencies": {"northwind": NORTHWIND | northwind}}


def refusal(check, table) -> str:
    with pytest.raises(ValueError) as refused:
        check(table)
    return str(refused.value)


def test_a_misspelt_key_is_named_with_the_one_meant():
    assert refusal(email_settings, EMAIL | {"hots": "x"}).startswith(
        "unknown key 'hots'; did you mean 'host'? (allowed: bcc, ca_file, ")
    assert refusal(legal_settings, {"firm_name": "F", "jurisdictions": {"DE": {"limitaton_years": 3}}}) == (
        "unknown key 'jurisdictions.DE.limitaton_years'; did you mean 'limitation_years'? "
        "(allowed: limitation_years, restarted_by)")
    assert refusal(visit_settings, {"colectors": {}}).startswith("unknown key 'colectors'; did you mean 'collectors'?")
    assert refusal(letter_settings, LETTER | {"pay_within_day": 7}).startswith(
        "unknown key 'pay_within_day'; did you mean 'pay_within_days'? (allowed: cjk_font, ")
    assert refusal(sms_settings, SMS | {"sender": "N"}).startswith(
        "unknown key 'sender'; did you mean 'sender_id'? (allowed: password, ")
    assert refusal(agency_settings, agencies(capacty=3)).startswith(
        "unknown key 'agencies.northwind.capacty'; did you mean 'capacity'? (allowed: capacity, commission, ")


@pytest.mark.parametrize(("check", "table", "message"), [
    (email_settings, EMAIL | {"bcc": ["a@acme.example", 3]}, "'bcc[1]' must be a string, got 3"),
    (email_settings, EMAIL | {"port": "25"}, "'port' must be a whole number from 1 to 65535, got '25'"),
    # A key another check quotes is shown as written, never taken for the place of the key's name.
    (email_settings, EMAIL | {"pay_link": "https://pay.example/{x}"},
     "'pay_link' refers to {x}; it may use {case_id}, {debtor_id}, {key}, {balance}, {overdue}, {reference}, "
     "{currency}"),
    (legal_settings, {"firm_name": "F", "jurisdictions": {"de": {}}},
     "'jurisdictions.de' must be an upper-case country code such as \"GB\" or \"US-NY\", got 'de'"),
    (legal_settings, {"firm_name": "F", "jurisdictions": {"DE": 3}},
     "'jurisdictions.DE' must be a table, got 3"),
    (visit_settings, {"collectors": {"SW1A": 7}}, "'collectors.SW1A' must be a string, got 7"),
    (agency_settings, agencies(commission={"by": "age", "bands": [{"from_days": "3", "percent": 20}]}),
     "'agencies.northwind.commission.bands[0].from_days' must be a whole number, got '3'"),
    (letter_settings, LETTER | {"sender_address": ["1 Road", 2]}, "'sender_address[1]' must be a string, got 2"),
    (letter_settings, {"sender_name": "Acme"}, "missing 'sender_address'"),
    (phone_settings, {"mix": {"mobile": "lots"}}, "'mix.mobile' must be a number, got 'lots'"),
    (phone_settings, {"collectors": ["ann", 7]}, "'collectors[1]' must be a string, got 7"),
    (sms_settings, SMS | {"timeout": "5"}, "'timeout' must be a positive number of seconds, got '5'"),
    (agency_settings, agencies(commission=[25]),
     "'agencies.northwind.commission' must be a percentage such as \"25\", or a sliding scale, got [25]"),
    (agency_settings, agencies(commission={"by": "flat"}),
     "'agencies.northwind.commission.percent' is required: a percentage such as \"25\""),
])
def test_a_wrong_value_names_its_path(check, table, message: str):
    assert refusal(check, table) == message
