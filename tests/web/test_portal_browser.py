"""A debtor in a real browser: headless Chromium (Debian's) opens the link from a real email, sees what is
overdue, disputes one item, promises the rest and pays through the loopback provider, whose signed webhook
comes back over real HTTP. The evidence then shows each step and `dunning verify` passes. With
DUNNING_SCREENSHOTS=FOLDER the page is saved at desktop and phone widths there (docs/img holds the ones in the
docs).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from dunning.config import load_config
from dunning.plugins.email.loopback import LoopbackSMTP
from dunning.portal.loopback_provider import LoopbackProvider
from dunning.web.app import create_app
from tests.conftest import Project, row, write_csv
from tests.web.test_browser import CHROMIUM, DESKTOP, LAUNCH_ARGS, PHONE, _free_port
from tests.web.helpers import screenshot_taker
from tests.web.test_portal_pages import Providers


SENDER = "Acme Credit Control <credit@acme.example>"
RUN = "2026-03-02T09:00:00Z"  # the day after INV-1 and INV-3 fell due: the first demand goes out
NOW = dt.datetime(2026, 3, 3, 10, tzinfo=dt.UTC)  # the debtor opens the link the next morning


@contextlib.contextmanager
def _serve(app: Any, port: int) -> Iterator[None]:
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, name="dunning-serve", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (.ci/run installs it)")
def test_a_debtor_disputes_an_item_promises_the_rest_and_pays_in_a_real_browser(project: Project,
                                                                                 monkeypatch: pytest.MonkeyPatch):
    from playwright.sync_api import sync_playwright

    snap = screenshot_taker()

    monkeypatch.setenv("DUNNING_LOAD_PLUGINS", "email")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with LoopbackSMTP() as smtp, LoopbackProvider(webhook_url=f"{url}/portal/payments/loopback") as provider:
        portal = f'[portal]\nbase_url = "{url}/portal"\nlink_days = 14\n'
        project.write_config(enabled=["email"], extra=smtp.settings_toml(SENDER) + portal)
        rows = [row("C001", "INV-1", "1200.00", name="Trading Co", email="ap@trading.example"),
                row("C001", "INV-3", "250.00", name="Trading Co", email="ap@trading.example"),
                row("C001", "INV-2", "300.00", due_on="2026-04-30", name="Trading Co", email="ap@trading.example")]
        project("import", str(write_csv(project.folder / "in.csv", rows)), now="2026-02-20T08:00:00Z")
        project("run", now=RUN)
        [demand] = [m for m in smtp.messages if m.rcpt_tos == ("ap@trading.example",)]
        text = demand.parsed().get_body(("plain",)).get_content()
        [link] = set(re.findall(re.escape(url) + r"/portal/[0-9A-Za-z._-]+", text))

        config = load_config(project.config, required=True)
        app = create_app(config, db_path=None, clock=lambda: NOW, secret="s" * 48, plugins=[Providers(provider)])
        with _serve(app, port), sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
            try:
                desk = browser.new_context(viewport=DESKTOP, locale="en-GB").new_page()
                desk.goto(link)
                assert desk.inner_text("dd.overdue") == "EUR 1,450.00"
                snap(desk, "portal-desktop")
                phone = browser.new_context(viewport=PHONE, locale="zh-CN",
                                            extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"}).new_page()
                phone.goto(link)
                assert "您的欠款" in phone.inner_text("#owed")
                snap(phone, "portal-phone-zh")

                # Dispute one item; what is asked for drops by it.
                desk.select_option("#dispute select[name=reference]", "INV-3")
                desk.fill("#dispute textarea[name=reason]", "never delivered")
                desk.click("#dispute button")
                desk.wait_for_selector(".flash")
                assert desk.inner_text("dd.overdue") == "EUR 1,200.00"
                assert "INV-3" in desk.inner_text("table.disputed")

                # Promise the rest: first too far out (refused beside the date), then within the limit.
                desk.fill("#promise input[name=amount]", "1200.00")
                desk.fill("#promise input[name=due]", "2026-03-20")
                desk.click("#promise button")
                assert "at most 2 days out" in desk.inner_text("#promise-due-error")
                snap(desk, "portal-error-desktop")
                desk.fill("#promise input[name=due]", "2026-03-05")
                desk.click("#promise button")
                desk.wait_for_selector(".flash")
                assert "your promise is recorded" in desk.inner_text(".flash")

                # Pay through the provider: its page, its button, its signed webhook, back to the page.
                desk.fill("#pay input[name=amount]", "1200.00")
                desk.click("#pay button")
                desk.wait_for_url(f"{provider.base_url}/pay/*")
                assert "EUR 1,200.00" in desk.inner_text("h1")
                desk.click("button")
                desk.wait_for_selector("text=The merchant answered 200")
                desk.click("a")
                desk.wait_for_selector(".flash")
                assert desk.inner_text("dd.overdue") == "EUR 0.00"
                snap(desk, "portal-paid-desktop")
            finally:
                browser.close()

    steps = [e["data"]["action"] for e in json.loads(project("events", "--kind", "portal", "--json").stdout)]
    assert steps == ["opened", "opened", "dispute", "promise", "payment_started", "payment_confirmed"]
    [disputed] = json.loads(project("events", "--kind", "obligation_disputed", "--json").stdout)
    assert (disputed["data"]["reference"], disputed["data"]["reason"]) == ("INV-3", "never delivered")
    [promise] = json.loads(project("events", "--kind", "promise", "--json").stdout)
    assert promise["data"]["amount"] == 120000
    [paid] = json.loads(project("events", "--kind", "payment", "--json").stdout)
    assert (paid["data"]["amount"], paid["data"]["reference"]) == (120000, f"loopback:{next(iter(provider.payments))}")
    assert provider.webhooks[0][0] == 200
    assert project("verify").exit_code == 0
