"""Every route of the console, unauthenticated and as each role: what is refused, and that refusing (or
a form that fails its checks) changes nothing."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from tests.conftest import Project, dump
from tests.web.conftest import app_for
from tests.web.helpers import sign_in, token

# (method, path, what each role gets): "ok" is 200 for a page, 422 for a form sent empty (its checks
# ran and refused it); "no" is 403. Case 2 is ann's (collectors ann and bob: the case id modulo 2).
ROUTES = [
    ("GET", "/", {"ann": "ok", "bob": "ok", "sam": "ok", "ada": "ok"}),
    ("GET", "/cases/2", {"ann": "ok", "bob": "no", "sam": "ok", "ada": "ok"}),
    ("POST", "/cases/2/call", {"ann": "ok", "bob": "no", "sam": "ok", "ada": "ok"}),
    ("POST", "/cases/2/payment", {"ann": "ok", "bob": "no", "sam": "ok", "ada": "ok"}),
    ("POST", "/cases/2/hold", {"ann": "ok", "bob": "no", "sam": "ok", "ada": "ok"}),
    ("POST", "/cases/2/release", {"ann": "ok", "bob": "no", "sam": "ok", "ada": "ok"}),
    ("POST", "/cases/2/settle", {"ann": "ok", "bob": "no", "sam": "ok", "ada": "ok"}),
    ("POST", "/cases/2/dispute", {"ann": "ok", "bob": "no", "sam": "ok", "ada": "ok"}),
    ("POST", "/cases/2/lift-dispute", {"ann": "ok", "bob": "no", "sam": "ok", "ada": "ok"}),
    ("GET", "/approvals", {"ann": "no", "bob": "no", "sam": "ok", "ada": "ok"}),
    ("POST", "/approvals/999", {"ann": "no", "bob": "no", "sam": "ok", "ada": "ok"}),
    ("GET", "/users", {"ann": "no", "bob": "no", "sam": "no", "ada": "ok"}),
    ("POST", "/users/add", {"ann": "no", "bob": "no", "sam": "no", "ada": "ok"}),
    ("POST", "/users/nobody/disable", {"ann": "no", "bob": "no", "sam": "no", "ada": "ok"}),
]


def _call(client: TestClient, method: str, path: str, csrf: str) -> int:
    if method == "GET":
        return client.get(path, follow_redirects=False).status_code
    return client.post(path, data={"csrf": csrf}, follow_redirects=False).status_code


@pytest.mark.parametrize("who", ["anonymous", "ann", "bob", "sam", "ada"])
def test_every_route_refuses_whom_it_should_and_changes_nothing(floor: Project, who: str):
    before = dump(floor.db)
    client = TestClient(app_for(floor))
    if who != "anonymous":
        assert sign_in(client, who).status_code == 303
    csrf = token(client, "/login" if who == "anonymous" else "/")
    for method, path, allowed in ROUTES:
        status = _call(client, method, path, csrf)
        if who == "anonymous":
            assert status == 303, (method, path)
            continue
        expected = 403 if allowed[who] == "no" else 200 if method == "GET" else 422
        assert status == expected, (who, method, path, status)
    assert dump(floor.db) == before


def test_an_unknown_case_is_not_found_and_a_collector_sees_only_their_calls(floor: Project):
    client = TestClient(app_for(floor))
    sign_in(client, "ann")
    assert client.get("/cases/99").status_code == 404
    day = client.get("/").text
    # ann works the even case ids: Quay Bakers (2) and Palace Cafe (4), not bob's Mall Florists (3).
    assert "Quay Bakers" in day and "Palace Cafe" in day and "Mall Florists" not in day
    sign_in(client, "sam")
    everyone = client.get("/").text
    assert all(name in everyone for name in ("Quay Bakers", "Palace Cafe", "Mall Florists", "Deansgate Books"))


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(floor: Project):
    client = TestClient(app_for(floor))
    sign_in(client, "sam")
    before = dump(floor.db)
    assert client.post("/cases/2/payment", data={"amount": "10.00"}, follow_redirects=False).status_code == 403
    assert client.post("/cases/2/payment", data={"amount": "10.00", "csrf": "forged"},
                       follow_redirects=False).status_code == 403
    assert client.post("/logout", data={}, follow_redirects=False).status_code == 403
    assert dump(floor.db) == before
    # The same form with the session's token goes through, as the `pay` command would, with who did it.
    answer = client.post("/cases/2/payment", data={"amount": "10.00", "csrf": token(client, "/")},
                         follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/cases/2"
    events = floor("events", "--kind", "payment", "--json").stdout
    assert '"by": "sam"' in events and '"amount": 1000' in events


def test_a_token_from_another_session_is_refused(floor: Project):
    app = app_for(floor)
    first, second = TestClient(app), TestClient(app)
    sign_in(first, "sam")
    sign_in(second, "ann")
    stolen = token(first, "/")
    assert second.post("/cases/2/hold", data={"reason": "other", "csrf": stolen},
                       follow_redirects=False).status_code == 403


def test_every_response_carries_the_security_headers_and_the_cookie_is_httponly_and_samesite(floor: Project):
    client = TestClient(app_for(floor))
    login = client.get("/login")
    answer = sign_in(client, "ann")
    for response in (login, answer, client.get("/"), client.get("/static/console.css")):
        headers = response.headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert "script-src" not in headers["content-security-policy"]  # default-src 'none': no script at all
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    assert "<script" not in client.get("/").text and "style=" not in client.get("/cases/2").text


def test_behind_tls_the_cookie_is_secure_and_hsts_is_sent(floor: Project):
    client = TestClient(app_for(floor, https=True), base_url="https://testserver")
    answer = sign_in(client, "ann")
    assert "secure" in answer.headers["set-cookie"].lower()
    assert answer.headers["strict-transport-security"].startswith("max-age=")
