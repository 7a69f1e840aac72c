"""Paying from the page through a provider: the loopback provider posts its signed webhook back over real HTTP."""

from __future__ import annotations

import datetime as dt
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from dunning import hookimpl
from dunning.config import load_config
from dunning.portal import payments
from dunning.portal.actions import PortalError
from dunning.portal.loopback_provider import SIGNATURE_HEADER, LoopbackProvider
from dunning.portal.providers import payment_providers
from dunning.runtime import Runtime
from tests.conftest import Project, dump


NOW = dt.datetime(2026, 3, 10, 10, tzinfo=dt.UTC)


class Providers:
    """Registers the given providers, as a plugin would."""

    def __init__(self, *providers: Any, plugin_name: str = "test-providers"):
        self.providers = providers
        self.plugin_name = plugin_name

    @hookimpl
    def register_payment_providers(self, register: Any) -> None:
        for provider in self.providers:
            register(provider)


class Merchant:
    """The webhook endpoint the web app will mount: a real HTTP server calling ``payments.webhook_answer``."""

    def __init__(self, config: Path, plugin: Providers):
        self.config, self.plugin = config, plugin
        self.answers: list[tuple[int, str]] = []
        merchant = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                rt = Runtime(load_config(merchant.config, required=True), extra_plugins=[merchant.plugin])
                try:
                    status, text = payments.webhook_answer(rt, payment_providers(rt), self.path.rsplit("/", 1)[-1],
                                                           body, dict(self.headers), NOW)
                finally:
                    rt.close()
                merchant.answers.append((status, text))
                self.send_response(status)
                self.end_headers()
                self.wfile.write(text.encode())

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/portal/payments/loopback"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def paying(portal_project: Project) -> Iterator[tuple[Project, LoopbackProvider, Merchant, Runtime]]:
    provider = LoopbackProvider(webhook_url="")
    plugin = Providers(provider)
    merchant = Merchant(portal_project.config, plugin)
    provider.webhook_url = merchant.url
    rt = Runtime(load_config(portal_project.config, required=True), extra_plugins=[plugin])
    with provider:
        yield portal_project, provider, merchant, rt
    rt.close()
    merchant.close()


def _payments(project: Project) -> list[dict[str, Any]]:
    return json.loads(project("events", "--kind", "payment", "--json").stdout)


def test_a_payment_through_the_provider_is_recorded_once_though_the_webhook_comes_twice(paying):
    project, provider, merchant, rt = paying
    [name] = payment_providers(rt)
    url = payments.start_payment(rt, payment_providers(rt)[name], 1, "1200.00", NOW,
                                 return_url="https://pay.acme.example/portal/x")
    assert url.startswith(provider.base_url + "/pay/lp_")
    with urllib.request.urlopen(url) as page:  # the debtor's browser on the provider's page
        assert "Pay EUR 1,200.00" in page.read().decode()
    with urllib.request.urlopen(urllib.request.Request(url, data=b"", method="POST")) as paid:
        assert "The merchant answered 200" in paid.read().decode()
    payment_id = url.rsplit("/", 1)[-1]
    assert provider.post_confirmation(payment_id) == 200  # the provider was not sure: it posts again
    assert [text for _, text in merchant.answers] == [f"recorded loopback:{payment_id}",
                                                      f"already recorded loopback:{payment_id}"]
    [payment] = _payments(project)
    assert (payment["data"]["amount"], payment["data"]["reference"]) == (120000, f"loopback:{payment_id}")
    shown = json.loads(project("cases", "show", "1", "--json").stdout)
    assert shown["balance_minor"] == 30000
    assert [e["data"]["action"] for e in json.loads(project("events", "--kind", "portal", "--json").stdout)] == [
        "payment_started", "payment_confirmed"]
    project("verify")


def test_a_confirmation_with_a_bad_signature_is_refused_and_changes_nothing(paying):
    project, provider, merchant, rt = paying
    url = payments.start_payment(rt, provider, 1, "300.00", NOW)
    payment_id = url.rsplit("/", 1)[-1]
    body = json.dumps({"payment_id": payment_id, "case_id": 1, "amount": 150000, "currency": "EUR",
                       "paid_at": "2026-03-10T10:00:00Z"}).encode()
    before = dump(project)
    forged = urllib.request.Request(merchant.url, data=body, method="POST", headers={
        SIGNATURE_HEADER: "sha256=" + "0" * 64, "Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(forged)
    assert refused.value.code == 400
    # Signed with another key: refused the same way.
    other = LoopbackProvider(webhook_url="")
    resigned = urllib.request.Request(merchant.url, data=body, method="POST",
                                      headers={SIGNATURE_HEADER: other.signature(body)})
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(resigned)
    assert merchant.answers == [(400, "refused"), (400, "refused")]
    assert dump(project) == before


@pytest.mark.parametrize("amount, message", [
    ("0", r"^the amount must be more than nothing, got 0$"),
    ("1600.00", r"^the amount \(EUR 1,600.00\) is more than the balance \(EUR 1,500.00\)$"),
    ("ten", r"ten"),
])
def test_a_payment_the_rules_refuse_never_reaches_the_provider(paying, amount, message):
    project, provider, _merchant, rt = paying
    before = dump(project)
    with pytest.raises(PortalError, match=message):
        payments.start_payment(rt, provider, 1, amount, NOW)
    assert provider.payments == {}
    assert dump(project) == before


def test_a_provider_whose_plugin_fails_is_left_out(portal_project, open_runtime):
    class Broken:
        plugin_name = "broken-provider"

        @hookimpl
        def register_payment_providers(self, register: Any) -> None:
            raise RuntimeError("no API key")

    good = LoopbackProvider(webhook_url="", name="good")
    rt = open_runtime(portal_project, plugins=(Broken(), Providers(good),
                                               Providers(object(), plugin_name="not-a-provider")))
    assert payment_providers(rt) == {"good": good}
