"""Staff accounts (`dunning users`), signing in, the login limit, and the console's two languages."""

from __future__ import annotations

import json

import pytest
from starlette.testclient import TestClient

from dunning.web import strings
from dunning.web.login_limit import LoginLimit
from tests.conftest import Project, dump
from tests.web.conftest import NOW, PASSWORD, app_for
from tests.web.helpers import sign_in


def test_users_add_list_and_disable_each_an_event_and_the_hash_is_argon2(floor: Project):
    listed = json.loads(floor("users", "list", "--json").stdout)
    assert [(u["name"], u["role"], u["active"]) for u in listed] == [
        ("ada", "admin", True), ("ann", "collector", True), ("bob", "collector", True), ("sam", "supervisor", True)]
    [row] = floor.sql("SELECT password_hash FROM staff_users WHERE name = 'ann'")
    assert row[0].startswith("$argon2id$") and PASSWORD not in row[0]
    added = json.loads(floor("events", "--kind", "user_added", "--json").stdout)
    assert [(e["data"]["name"], e["data"]["role"], e["data"]["by"]) for e in added][:1] == [("ann", "collector",
                                                                                              "setup")]
    assert floor("users", "disable", "bob", "--by", "ada", now=NOW).stdout == "user bob disabled\n"
    [disabled] = json.loads(floor("events", "--kind", "user_disabled", "--json").stdout)
    assert disabled["data"] == {"name": "bob", "by": "ada"}
    assert "no (since 2026-06-01)" in floor("users", "list").stdout


@pytest.mark.parametrize(("args", "message"), [
    (["users", "add", "ann", "--role", "collector"], "user ann exists already"),
    (["users", "add", "new one", "--role", "collector"], "user name 'new one'"),
    (["users", "add", "eve", "--role", "collector", "--short"], "at least 10 characters"),
    (["users", "disable", "nobody"], "no user nobody"),
])
def test_users_refuses_bad_input_with_one_line_and_changes_nothing(floor: Project, args: list[str], message: str):
    password = floor.folder / ("short.txt" if "--short" in args else "password.txt")
    if "--short" in args:
        password.write_text("short\n", encoding="utf-8")
        args = [a for a in args if a != "--short"]
    if args[1] == "add":
        args = [*args, "--password-file", str(password)]
    before = dump(floor)
    result = floor(*args, expect=1)
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert dump(floor) == before


def test_a_disabled_account_cannot_sign_in_and_its_open_session_ends(floor: Project):
    client = TestClient(app_for(floor))
    assert sign_in(client, "bob").status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 200
    floor("users", "disable", "bob", now=NOW)
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"
    assert sign_in(client, "bob").status_code == 401


def test_failed_sign_ins_are_limited_per_address_and_name():
    moment = [0.0]
    limit = LoginLimit(failures=3, window_seconds=60, clock=lambda: moment[0])
    for _ in range(3):
        assert not limit.blocked("10.0.0.1", "ann")
        limit.failed("10.0.0.1", "ann")
    assert limit.blocked("10.0.0.1", "ann")
    assert limit.blocked("10.0.0.2", "ANN")  # the name, from anywhere
    assert limit.blocked("10.0.0.1", "bob")  # the address, for any name
    assert not limit.blocked("10.0.0.2", "bob")
    moment[0] = 61.0
    assert not limit.blocked("10.0.0.1", "ann")


def test_the_server_refuses_sign_in_after_five_failures_even_with_the_right_password(floor: Project):
    moment = [0.0]
    client = TestClient(app_for(floor, limit=LoginLimit(clock=lambda: moment[0])))
    for _ in range(5):
        answer = sign_in(client, "ann", "wrong password!")
        assert answer.status_code == 401 and "Wrong name or password." in answer.text
    answer = sign_in(client, "ann")
    assert answer.status_code == 429 and "Too many failed sign-ins" in answer.text
    moment[0] = 901.0  # the window has passed
    assert sign_in(client, "ann").status_code == 303


def test_the_console_speaks_chinese_when_the_browser_asks_and_the_switch_link_changes_it(floor: Project):
    client = TestClient(app_for(floor), headers={"accept-language": "zh-CN,zh;q=0.9,en;q=0.8"})
    assert "登录" in client.get("/login").text
    sign_in(client, "ann")
    page = client.get("/").text
    assert "我的今日" in page and "电话" in page and 'href="/lang/en?back=/"' in page
    client.get("/lang/en?back=/cases/2")
    assert "My day" in client.get("/").text
    # The switch goes back only to a path of ours.
    assert client.get("/lang/zh_CN?back=//evil.example/", follow_redirects=False).headers["location"] == "/"


def test_both_languages_have_every_label_and_accept_language_picks_the_first_we_speak():
    assert set(strings.EN) == set(strings.ZH_CN)
    assert strings.from_accept_language("zh-CN,zh;q=0.9") == "zh_CN"
    assert strings.from_accept_language("en-GB,zh;q=0.5") == "en"
    assert strings.from_accept_language("fr-FR,zh-TW;q=0.8,en;q=0.5") == "zh_CN"
    assert strings.from_accept_language(None) == "en"
