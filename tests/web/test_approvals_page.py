"""Supervisors approve or reject from the approvals page, as `dunning approve` / `reject` do."""

from __future__ import annotations

import json

from starlette.testclient import TestClient

from tests.conftest import Project, dump
from tests.web.conftest import NOW, app_for
from tests.web.helpers import sign_in, token


def test_the_approvals_page_shows_debtor_amount_and_reason_and_approving_is_the_approved_event(floor: Project):
    client = TestClient(app_for(floor))
    sign_in(client, "sam")
    page = client.get("/approvals").text
    assert "Harbour Stores" in page and "GBP 1,200.00" in page
    assert "step &#39;lock-account&#39; requires approval" in page
    [waiting] = json.loads(floor("approvals", "--json", now=NOW).stdout)
    before = dump(floor)
    assert client.post(f"/approvals/{waiting['id']}", data={"decision": "maybe", "csrf": token(client, "/")}
                       ).status_code == 422
    assert dump(floor) == before
    answer = client.post(f"/approvals/{waiting['id']}", data={"decision": "approve", "note": "agreed with legal",
                                                              "csrf": token(client, "/")}, follow_redirects=False)
    assert answer.status_code == 303
    [approved] = json.loads(floor("events", "--kind", "approved", "--json").stdout)
    assert (approved["action_id"], approved["data"]["by"], approved["data"]["note"]) == (
        waiting["id"], "sam", "agreed with legal")
    assert json.loads(floor("approvals", "--json", now=NOW).stdout) == []
    # Deciding twice is refused by the operation's own check, beside the action.
    again = client.post(f"/approvals/{waiting['id']}", data={"decision": "reject", "csrf": token(client, "/")})
    assert again.status_code == 422 and "not awaiting approval" in again.text
