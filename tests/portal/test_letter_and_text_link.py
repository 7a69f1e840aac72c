"""The link to the debtor's page in a real letter (read back from the PDF) and a real text message."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import dunning.plugins.letter as letter_plugin
import dunning.plugins.phone as phone_plugin
from dunning import dispatch
from dunning.portal import links
from tests.plugins.test_letter import SETTINGS, add_case, policy, sent_events, text_of
from tests.plugins.test_phone import add_case as add_loan
from tests.plugins.test_sms import DPD1, LOAN_DUE, Gateway, settings
from tests.portal.conftest import BASE_URL, PORTAL_TOML
from tests import runtime_on_both

# Every runtime this module's tests open: on a SQLite file, then on a PostgreSQL database.
dunning_runtime = runtime_on_both.dunning_runtime

DAY1 = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)


def test_a_formal_demand_letter_prints_the_link_to_its_case(dunning_runtime):
    rt = dunning_runtime(plugins=[letter_plugin], policy=policy("formal-demand"), enabled=["letter"],
                         channel_settings={"letter": SETTINGS}, toml=PORTAL_TOML)
    case = add_case(rt)
    dispatch.run(rt, DAY1)
    [event] = sent_events(rt)
    text = re.sub(r"\s+", "", text_of(event.data["path"]))  # a long address may be broken over two lines
    [url] = re.findall(re.escape(BASE_URL) + r"/[0-9]+\.[0-9]+\.[A-Za-z0-9_-]{43}", text)
    assert links.case_for_token(rt, links.token_of(url), DAY1) == case.id


def test_without_a_base_url_the_letter_has_no_link(dunning_runtime):
    rt = dunning_runtime(plugins=[letter_plugin], policy=policy("formal-demand"), enabled=["letter"],
                         channel_settings={"letter": SETTINGS})
    add_case(rt)
    dispatch.run(rt, DAY1)
    [event] = sent_events(rt)
    assert "online" not in text_of(event.data["path"])


def test_a_reminder_by_text_carries_the_link(dunning_runtime: Any):
    gateway = Gateway()
    try:
        rt = dunning_runtime(plugins=[phone_plugin], policy="consumer-loans", enabled=["sms"],
                             channel_settings={"sms": settings(gateway)}, toml=PORTAL_TOML)
        case = add_loan(rt, "L1", due_on=LOAN_DUE, name="Lee Chan", phones=[("mobile", "07700 900123")])
        dispatch.run(rt, DPD1)
    finally:
        gateway.close()
    [request] = gateway.requests
    text = request.json()["text"]
    [url] = re.findall(r"Your account: (\S+) Reply STOP to opt out$", text)
    assert url.startswith(BASE_URL + "/")
    assert links.case_for_token(rt, links.token_of(url), DPD1) == case.id
