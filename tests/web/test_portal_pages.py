"""The debtors' page in the web app: refused links, the CSRF lock, each form's success and error, the webhook."""

# The Chinese messages are written with full-width punctuation, which the ambiguous-character rule flags.
# ruff: noqa: RUF001

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from dunning import hookimpl
from dunning.config import load_config
from dunning.portal import links
from dunning.portal.loopback_provider import SIGNATURE_HEADER, LoopbackProvider
from dunning.web import portal_strings
from dunning.web.app import create_app
from tests.conftest import Project, dump, row, write_csv
from tests.portal.conftest import PORTAL_TOML


NOW = dt.datetime(2026, 3, 10, 10, tzinfo=dt.UTC)  # INV-1 and INV-3 are overdue (1 March), INV-2 due 30 April
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class Providers:
    def __init__(self, *providers: Any):
        self.providers = providers

    @hookimpl
    def register_payment_providers(self, register: Any) -> None:
        for provider in self.providers:
            register(provider)


@pytest.fixture
def debtor_site(project: Project) -> Iterator[tuple[Project, LoopbackProvider]]:
    project.write_config(extra=PORTAL_TOML)
    rows = [row("C001", "INV-1", "1200.00", name="Trading Co", email="ap@trading.example"),
            row("C001", "INV-3", "250.00", name="Trading Co", email="ap@trading.example"),
            row("C001", "INV-2", "300.00", due_on="2026-04-30", name="Trading Co", email="ap@trading.example")]
    project("import", str(write_csv(project.folder / "in.csv", rows)), now="2026-02-20T08:00:00Z")
    # Its webhook is posted by the tests themselves here; the browser test lets it post for real.
    with LoopbackProvider(webhook_url="http://127.0.0.1:9/unused", secret=b"k" * 32) as provider:
        yield project, provider


def _client(project: Project, provider: LoopbackProvider) -> TestClient:
    config = load_config(Path(project.config), required=True)
    return TestClient(create_app(config, db_path=None, clock=lambda: NOW, secret="s" * 48,
                                 plugins=[Providers(provider)]))


def _path(project: Project, made: dt.datetime = NOW, case_id: int = 1) -> str:
    url = links.link(load_config(Path(project.config), required=True), case_id, made)
    assert url is not None
    return "/portal/" + links.token_of(url)


def _events(project: Project, kind: str) -> list[dict[str, Any]]:
    return json.loads(project("events", "--kind", kind, "--json").stdout)


def _portal_actions(project: Project) -> list[str]:
    return [e["data"]["action"] for e in _events(project, "portal")]


def _csrf(client: TestClient, path: str) -> str:
    match = CSRF.search(client.get(path).text)
    assert match
    return match.group(1)


def test_wrong_tampered_expired_links_and_unknown_cases_get_the_same_page(debtor_site):
    project, provider = debtor_site
    client = _client(project, provider)
    good = _path(project)
    before = dump(project)
    signature = good.rsplit(".", 1)[1]
    tampered = good[:-1] + ("A" if signature[-1] != "A" else "B")
    expired = _path(project, made=NOW - dt.timedelta(days=15))  # link_days = 14
    no_case = _path(project, case_id=99)
    answers = [client.get(path) for path in ("/portal/not-a-token", tampered, expired, no_case)]
    assert {a.status_code for a in answers} == {404}
    assert len({a.text for a in answers}) == 1
    assert "This link cannot be opened" in answers[0].text and "Trading" not in answers[0].text
    assert answers[0].headers["content-security-policy"].startswith("default-src 'none'")
    assert answers[0].headers["x-frame-options"] == "DENY"
    assert "set-cookie" not in answers[0].headers  # the page keeps nothing about a stranger
    assert dump(project) == before  # and writes nothing


def test_opening_the_page_shows_what_is_owed_and_is_an_event(debtor_site):
    project, provider = debtor_site
    client = _client(project, provider)
    page = client.get(_path(project), headers={"Accept-Language": "en-GB"})
    assert page.status_code == 200
    assert re.search(r'<dd class="overdue">EUR 1,450.00</dd>', page.text)
    assert "INV-1" in page.text and "INV-2" in page.text and "EUR 300.00" in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    client.get(_path(project))
    [first, again] = _events(project, "portal")
    assert (first["data"]["action"], first["data"]["first"], again["data"]["first"]) == ("opened", True, False)
    assert first["data"]["by"] == "portal"


def test_the_page_speaks_chinese_when_the_browser_asks(debtor_site):
    project, provider = debtor_site
    page = _client(project, provider).get(_path(project), headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert "您的欠款" in page.text and 'lang="zh-CN"' in page.text
    assert set(portal_strings.EN) == set(portal_strings.ZH_CN)


def test_a_form_without_the_links_csrf_token_is_refused_and_changes_nothing(debtor_site):
    project, provider = debtor_site
    client = _client(project, provider)
    path = _path(project)
    other = _path(project, made=NOW - dt.timedelta(days=1))  # another good link to the same case
    token = _csrf(client, path)
    before = dump(project)
    form = {"amount": "1450.00", "due": "2026-03-11"}
    assert client.post(f"{path}/promise", data=form).status_code == 403
    assert client.post(f"{other}/promise", data={**form, "csrf": token}).status_code == 403
    assert "This form has expired" in client.post(f"{path}/promise", data={**form, "csrf": "x" * 64}).text
    assert dump(project) == before


def _post(client: TestClient, path: str, form: str, **fields: str) -> Any:
    return client.post(f"{path}/{form}", data={"csrf": _csrf(client, path), **fields}, follow_redirects=False)


def _refused_beside(project: Project, client: TestClient, path: str, form: str, field: str, words: str,
                    **fields: str) -> None:
    _csrf(client, path)  # the visit's own event first, so the dump below is after it
    before = dump(project)
    answer = client.post(f"{path}/{form}", data={"csrf": _csrf(client, path), **fields}, follow_redirects=False)
    assert answer.status_code == 422, answer.text
    beside = re.search(rf'id="{form}-{field}-error">([^<]*)<', answer.text)
    assert beside and words in beside.group(1), answer.text
    assert "Nothing was changed." in answer.text
    # Only the two visits' events (the page was opened to read its token) were written.
    assert [line for line in dump(project) if line not in before and "portal" not in line
            and "attempt" not in line.lower()] == []


def test_a_promise_within_the_limit_is_recorded_and_one_too_far_is_refused_beside_its_date(debtor_site):
    project, provider = debtor_site
    client = _client(project, provider)
    path = _path(project)
    _refused_beside(project, client, path, "promise", "due", "days out", amount="1450.00", due="2026-06-01")
    _refused_beside(project, client, path, "promise", "amount", "required", amount="", due="2026-03-11")
    answer = _post(client, path, "promise", amount="1450.00", due="2026-03-11")
    assert answer.status_code == 303 and "done=done_promise" in answer.headers["location"]
    assert "your promise is recorded" in client.get(answer.headers["location"]).text
    [promise] = _events(project, "promise")
    assert promise["data"]["amount"] == 145000
    assert _portal_actions(project)[-1] == "promise"


def test_more_time_goes_to_the_supervisors_queue_and_too_much_is_refused(debtor_site):
    project, provider = debtor_site
    client = _client(project, provider)
    path = _path(project)
    _refused_beside(project, client, path, "more-time", "due", "days", amount="1450.00", due="2026-09-01")
    answer = _post(client, path, "more-time", amount="1450.00", due="2026-04-20", reason="payday is late")
    assert answer.status_code == 303 and "done=done_more_time&" in answer.headers["location"]
    [asked] = _events(project, "approval_requested")
    assert "payday is late" in asked["data"]["reason"]


def test_a_plan_of_two_payments_is_recorded_and_a_plan_of_one_is_refused(debtor_site):
    project, provider = debtor_site
    client = _client(project, provider)
    path = _path(project)
    _refused_beside(project, client, path, "plan", "instalments", "at least two", amount_1="1450.00",
                    due_1="2026-03-11")
    _refused_beside(project, client, path, "plan", "amount_2", "required", amount_1="700.00", due_1="2026-03-11",
                    due_2="2026-03-12")
    # The last payment ends past the 2-day promise limit: the plan waits for a supervisor.
    answer = _post(client, path, "plan", amount_1="700.00", due_1="2026-03-11", amount_2="750.00",
                   due_2="2026-03-20")
    assert answer.status_code == 303 and "done=done_plan&" in answer.headers["location"]
    assert _portal_actions(project)[-1] == "plan"
    [asked] = _events(project, "approval_requested")
    assert "in 2 instalments" in asked["data"]["reason"]


def test_disputing_one_item_holds_it_and_a_dispute_without_a_reason_is_refused(debtor_site):
    project, provider = debtor_site
    client = _client(project, provider)
    path = _path(project)
    _refused_beside(project, client, path, "dispute", "reason", "say why", reference="INV-3", reason=" ")
    _refused_beside(project, client, path, "dispute", "reference", "INV-9", reference="INV-9", reason="never ordered")
    answer = _post(client, path, "dispute", reference="INV-3", reason="never delivered")
    assert answer.status_code == 303
    [disputed] = _events(project, "obligation_disputed")
    assert (disputed["data"]["reference"], disputed["data"]["by"]) == ("INV-3", "portal")
    page = client.get(answer.headers["location"]).text
    assert re.search(r'<dd class="overdue">EUR 1,200.00</dd>', page)  # held out of what is asked for
    assert re.search(r'class="disputed">.*INV-3', page, re.S)


def test_opting_out_of_email_is_recorded_and_an_unknown_way_is_refused(debtor_site):
    project, provider = debtor_site
    client = _client(project, provider)
    path = _path(project)
    _refused_beside(project, client, path, "opt-out", "channel", "pigeon", channel="pigeon")
    answer = _post(client, path, "opt-out", channel="email")
    assert answer.status_code == 303
    [opted] = _events(project, "opt_out")
    assert (opted["data"]["channel"], opted["data"]["source"]) == ("email", "portal")


def test_paying_sends_the_debtor_to_the_provider_and_its_signed_webhook_records_the_payment_once(debtor_site):
    project, provider = debtor_site
    client = _client(project, provider)
    path = _path(project)
    _refused_beside(project, client, path, "pay", "amount", "more than the balance", amount="5000.00",
                    provider="loopback")
    _refused_beside(project, client, path, "pay", "provider", "no payment provider", amount="10.00",
                    provider="cash")
    answer = _post(client, path, "pay", amount="1200.00", provider="loopback")
    [payment_id] = list(provider.payments)
    # On to the provider by a page that refreshes to it (a form's redirect elsewhere is what the CSP forbids).
    assert answer.status_code == 200
    assert f'<meta http-equiv="refresh" content="0; url={provider.base_url}/pay/{payment_id}">' in answer.text
    assert provider.payments[payment_id].return_url.endswith(f"{path}?done=done_paid&lang=en")
    body = json.dumps({"payment_id": payment_id, "case_id": 1, "amount": 120000, "currency": "EUR",
                       "paid_at": "2026-03-10T10:05:00Z"}).encode()
    forged = client.post("/portal/payments/loopback", content=body, headers={SIGNATURE_HEADER: "sha256=00"})
    assert forged.status_code == 400 and _events(project, "payment") == []
    signed = {SIGNATURE_HEADER: provider.signature(body), "Content-Type": "application/json"}
    first = client.post("/portal/payments/loopback", content=body, headers=signed)
    again = client.post("/portal/payments/loopback", content=body, headers=signed)
    assert (first.status_code, again.status_code) == (200, 200)
    assert first.text.startswith("recorded") and again.text.startswith("already recorded")
    [paid] = _events(project, "payment")
    assert paid["data"]["amount"] == 120000
    assert client.post("/portal/payments/nobody", content=body, headers=signed).status_code == 404


def test_wrong_links_from_one_address_are_limited_even_for_a_good_link_afterwards(debtor_site):
    project, provider = debtor_site
    client = _client(project, provider)
    good = _path(project)
    assert client.get(good).status_code == 200
    for n in range(10):
        assert client.get(f"/portal/1.9999999999.{'A' * 42}{n}").status_code == 404
    assert client.get(good).status_code == 429
    assert project("verify").exit_code == 0


# (form, field, fields sent, the Chinese beside the field): the rules' refusals worded for a debtor reading Chinese.
ZH_REFUSALS = [
    ("promise", "due", {"amount": "1450.00", "due": "2026-06-01"}, "还款承诺最多只能在 2 天内（2026-03-12 之前）"),
    ("promise", "amount", {"amount": "", "due": "2026-03-11"}, "必填。"),
    ("promise", "due", {"amount": "10.00", "due": "soon"}, "不是日期（YYYY-MM-DD）：soon"),
    ("plan", "instalments", {"amount_1": "1450.00", "due_1": "2026-03-11"}, "分期方案至少需要两期。"),
    ("dispute", "reason", {"reference": "INV-3", "reason": " "}, "请说明理由"),
    ("pay", "amount", {"amount": "5000.00", "provider": "loopback"}, "付款金额（EUR 5,000.00）超过了欠款余额"),
    ("pay", "amount", {"amount": "0", "provider": "loopback"}, "付款金额必须大于零"),
    ("pay", "provider", {"amount": "10.00", "provider": "cash"}, "没有名为 cash 的付款方式"),
]


@pytest.mark.parametrize(("form", "field", "fields", "chinese"), ZH_REFUSALS,
                         ids=[f"{r[0]}-{r[1]}-{i}" for i, r in enumerate(ZH_REFUSALS)])
def test_a_refusal_on_the_debtors_page_is_worded_in_chinese_when_the_browser_asks(
        debtor_site, form: str, field: str, fields: dict[str, str], chinese: str):
    project, provider = debtor_site
    client = _client(project, provider)
    client.headers["Accept-Language"] = "zh-CN,zh;q=0.9"
    path = _path(project)
    _csrf(client, path)  # the visit's own event first, so the dump below is after it
    before = dump(project)
    answer = client.post(f"{path}/{form}", data={"csrf": _csrf(client, path), **fields}, follow_redirects=False)
    assert answer.status_code == 422, answer.text
    beside = re.search(rf'id="{form}-{field}-error">([^<]*)<', answer.text)
    assert beside and chinese in beside.group(1), answer.text
    assert portal_strings.words("zh_CN")["error"] in answer.text
    assert [line for line in dump(project) if line not in before and "portal" not in line
            and "attempt" not in line.lower()] == []
