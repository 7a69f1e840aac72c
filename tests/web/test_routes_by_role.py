"""Every route of the console, unauthenticated and as each role: what is refused, and that refusing (or
a form that fails its checks) changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

from dunning.web.accounts import rank
from dunning.web.console import ROLE_OF
from dunning.web.portal_forms import FORMS
from tests.conftest import Project, dump
from tests.web.conftest import STAFF, app_for
from tests.web.helpers import sign_in, token

# What each path parameter is filled with. Case 2 is ann's and not bob's (collectors ann and bob: the case
# id modulo 2); the others name nothing that exists, so a form sent empty is refused by its own checks.
SAMPLES = {"case_id": "2", "action_id": "999", "name": "nobody", "code": "en", "token": "not-a-link",
           "form": sorted(FORMS)[0], "provider": "nobody"}
NOT_ASSIGNED = {"bob"}  # collectors to whom case 2 is refused

# The routes no sign-in guards, each with why: the test below holds them to what they do.
PUBLIC = {
    ("GET", "/login"), ("POST", "/login"), ("POST", "/logout"), ("GET", "/lang/{code}"),
    ("GET", "/portal/{token}"), ("POST", "/portal/{token}/{form}"),  # the debtors' page: the link's token guards it
    ("POST", "/portal/payments/{provider}"),  # a payment provider's webhook: its signature guards it, not a session
}


def every_route(app: Any) -> list[tuple[str, str, Any]]:
    """(method, path template, endpoint) for every route of the app itself; static files are a Mount."""
    found = []
    for route in app.routes:
        if isinstance(route, Mount):
            continue
        assert isinstance(route, Route), route
        found += [(method, route.path, route.endpoint) for method in sorted(route.methods or ()) if method != "HEAD"]
    return found


def concrete(path: str) -> str:
    for name, value in SAMPLES.items():
        path = path.replace("{" + name + "}", value)
    assert "{" not in path, f"no sample value for a parameter of {path}"
    return path


def expected(who: str, method: str, path: str, role: str) -> int:
    """A page's answer: the sign-in page for a visitor, 403 below its role or on a case not theirs, else 200 for
    a page and 422 for a form sent empty (its checks ran and refused it)."""
    if who == "anonymous":
        return 303
    if rank(STAFF[who]) < rank(role) or ("{case_id}" in path and who in NOT_ASSIGNED):
        return 403
    return 200 if method == "GET" else 422


def test_every_route_of_the_app_is_a_page_with_a_role_or_a_known_public_route(floor: Project):
    app = app_for(floor)
    routes = every_route(app)
    public = {(method, path) for method, path, endpoint in routes if endpoint not in ROLE_OF}
    assert public == PUBLIC  # a new route is either a page(role) or is added here with what guards it
    assert len(routes) > len(PUBLIC) + 10


@pytest.mark.parametrize("who", ["anonymous", "ann", "bob", "sam", "ada"])
def test_every_route_refuses_whom_it_should_and_changes_nothing(floor: Project, who: str):
    before = dump(floor)
    app = app_for(floor)
    client = TestClient(app)
    if who != "anonymous":
        assert sign_in(client, who).status_code == 303
    csrf = token(client, "/login" if who == "anonymous" else "/")
    pages = [(method, path, ROLE_OF[endpoint]) for method, path, endpoint in every_route(app) if endpoint in ROLE_OF]
    for method, path, role in pages:
        url = concrete(path)
        if method == "GET":
            status = client.get(url, follow_redirects=False).status_code
        else:
            status = client.post(url, data={"csrf": csrf}, follow_redirects=False).status_code
        assert status == expected(who, method, path, role), (who, method, path, status)
    assert dump(floor) == before


@pytest.mark.parametrize("who", ["anonymous", "ann", "ada"])
def test_every_post_route_refuses_a_form_without_the_csrf_token_and_changes_nothing(floor: Project, who: str):
    app = app_for(floor)
    client = TestClient(app)
    if who != "anonymous":
        assert sign_in(client, who).status_code == 303
    before = dump(floor)
    posts = [path for method, path, _ in every_route(app) if method == "POST" and "{provider}" not in path]
    assert "/cases/{case_id}/call" in posts and "/logout" in posts and "/portal/{token}/{form}" in posts
    for path in posts:
        for sent in ({}, {"csrf": "forged"}):
            answer = client.post(concrete(path), data={**sent, "name": "ann", "amount": "1.00"},
                                 follow_redirects=False)
            assert answer.status_code == 403, (who, path, sent, answer.status_code)
    assert dump(floor) == before
    # The webhook has no session and no form: a post without the provider's signature is refused all the same.
    assert client.post(concrete("/portal/payments/{provider}"), content=b"{}").status_code in (400, 404)
    assert dump(floor) == before


def test_the_public_routes_answer_as_they_should(floor: Project):
    client = TestClient(app_for(floor))
    assert client.get("/login").status_code == 200
    assert client.post("/login", data={"name": "ann", "password": "wrong", "csrf": token(client)}).status_code == 401
    assert client.get("/lang/zh_CN", follow_redirects=False).status_code == 303
    assert client.get("/lang/xx", follow_redirects=False).status_code == 404
    assert client.get(concrete("/portal/{token}")).status_code == 404  # a wrong link: the plain page
    sign_in(client, "ann")
    assert client.get("/login", follow_redirects=False).status_code == 303  # signed in already
    answer = client.post("/logout", data={"csrf": token(client, "/")}, follow_redirects=False)
    assert answer.status_code == 303 and client.get("/", follow_redirects=False).headers["location"] == "/login"


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
    before = dump(floor)
    assert client.post("/cases/2/payment", data={"amount": "10.00"}, follow_redirects=False).status_code == 403
    assert client.post("/cases/2/payment", data={"amount": "10.00", "csrf": "forged"},
                       follow_redirects=False).status_code == 403
    assert client.post("/logout", data={}, follow_redirects=False).status_code == 403
    assert dump(floor) == before
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
