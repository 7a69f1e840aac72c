"""The case page's forms check what the command line checks, show the rule's message beside the field, and
change nothing when they refuse; what they do is the same evidence as the commands', with who did it."""

from __future__ import annotations

import json
import re

from starlette.testclient import TestClient

from tests.conftest import Project, dump
from tests.web.conftest import app_for
from tests.web.helpers import sign_in, token


def _events(project: Project, kind: str) -> list[dict]:
    return json.loads(project("events", "--kind", kind, "--json").stdout)


def test_a_collector_cannot_promise_beyond_the_limit_and_the_error_stands_beside_the_date(floor: Project):
    client = TestClient(app_for(floor))
    sign_in(client, "ann")
    before = dump(floor)
    answer = client.post("/cases/2/call", data={"outcome": "promise", "amount": "450.00", "due": "2026-06-20T10:00",
                                                "csrf": token(client, "/cases/2")})
    assert answer.status_code == 422
    beside = re.search(r'id="call-due-error">([^<]+)<', answer.text)
    assert beside and "a promise may be at most 2 days out" in beside.group(1)
    assert 'value="2026-06-20T10:00"' in answer.text  # what was typed is kept
    # A supervisor ticking the approval is refused to a collector, even when sent by hand.
    answer = client.post("/cases/2/call", data={"outcome": "promise", "amount": "450.00", "due": "2026-06-20T10:00",
                                                "approve": "1", "csrf": token(client, "/cases/2")})
    assert re.search(r'id="call-approve-error">only a supervisor approves', answer.text)
    assert dump(floor) == before


def test_a_promise_logged_on_a_call_is_the_same_evidence_as_calls_log(floor: Project):
    client = TestClient(app_for(floor))
    sign_in(client, "ann")
    answer = client.post("/cases/2/call", data={"outcome": "promise", "amount": "450.00", "due": "2026-06-02T16:00",
                                                "note": "pays tomorrow", "csrf": token(client, "/cases/2")},
                         follow_redirects=False)
    assert answer.status_code == 303
    page = client.get("/cases/2").text
    assert "call 1 logged as promise; promise 1 recorded" in page
    [logged] = _events(floor, "phone:call_logged")
    assert (logged["case_id"], logged["data"]["outcome"], logged["data"]["collector"]) == (2, "promise", "ann")
    [promise] = _events(floor, "promise")
    assert (promise["data"]["amount"], promise["data"]["due_at"]) == (45000, "2026-06-02T15:00:00Z")


def test_a_supervisor_may_approve_a_later_promise_and_is_named_as_approver(floor: Project):
    client = TestClient(app_for(floor))
    sign_in(client, "sam")
    answer = client.post("/cases/3/call", data={"outcome": "promise", "amount": "3600.00", "due": "2026-06-20T10:00",
                                                "approve": "1", "csrf": token(client, "/cases/3")},
                         follow_redirects=False)
    assert answer.status_code == 303
    [promise] = _events(floor, "promise")
    assert promise["data"]["approved_by"] == "sam"


def test_a_dispute_on_a_call_holds_the_case_and_release_needs_verification(floor: Project):
    client = TestClient(app_for(floor))
    sign_in(client, "bob")
    client.post("/cases/3/call", data={"outcome": "disputed", "note": "never ordered", "csrf": token(client, "/")})
    [hold] = _events(floor, "hold")
    assert (hold["case_id"], hold["data"]["reason"]) == (3, "dispute")
    before = dump(floor)
    answer = client.post("/cases/3/release", data={"csrf": token(client, "/")})
    assert answer.status_code == 422
    assert re.search(r'id="release-verification_sent-error">case 3 is disputed', answer.text)
    assert dump(floor) == before
    answer = client.post("/cases/3/release", data={"verification_sent": "1", "note": "sent the invoice copy",
                                                   "csrf": token(client, "/")}, follow_redirects=False)
    assert answer.status_code == 303
    [released] = _events(floor, "hold_released")
    assert (released["data"]["by"], released["data"]["verification_sent"]) == ("bob", True)


def test_payments_and_holds_refuse_bad_input_beside_the_field(floor: Project):
    client = TestClient(app_for(floor))
    sign_in(client, "ann")
    before = dump(floor)
    bad = [
        ("/cases/2/payment", {"amount": "12.345"}, "payment-amount"),
        ("/cases/2/payment", {"amount": "10", "at": "yesterday"}, "payment-at"),
        ("/cases/2/hold", {"reason": "dispute", "until": "2026-07-01"}, "hold-until"),
        ("/cases/2/hold", {"reason": "holiday"}, "hold-reason"),
        ("/cases/2/hold", {"reason": "other", "until": "2026-05-01"}, "hold-until"),
    ]
    for path, data, field in bad:
        answer = client.post(path, data=data | {"csrf": token(client, "/")})
        assert answer.status_code == 422, (path, data)
        assert f'id="{field}-error"' in answer.text, (path, data, answer.text[-800:])
    assert dump(floor) == before
    client.post("/cases/2/hold", data={"reason": "other", "until": "2026-06-10", "note": "on holiday",
                                       "csrf": token(client, "/")})
    [hold] = _events(floor, "hold")
    assert (hold["data"]["by"], hold["data"]["until"], hold["data"]["note"]) == ("ann", "2026-06-10", "on holiday")


def test_the_case_page_shows_what_is_owed_the_evidence_and_the_script(floor: Project):
    client = TestClient(app_for(floor))
    sign_in(client, "ann")
    page = client.get("/cases/2").text
    assert "Quay Bakers" in page and "INV-2" in page and "GBP 450.00" in page
    assert "case_opened" in page and "+447700900102" in page
    assert "Northwind Credit" in page  # the call script, as `dunning calls script 2` renders it
