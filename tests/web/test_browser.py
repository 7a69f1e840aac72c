"""One real browser: headless Chromium (Debian's) against `dunning serve` on a loopback port.

A collector's morning (sign in, open the first call, log a promise) and a
supervisor approving; the evidence then shows both, with who, and
`dunning verify` passes. With DUNNING_SCREENSHOTS=FOLDER the test saves the
pages at desktop and phone widths there (docs/img holds the ones in the docs).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Project
from tests.web.conftest import NOW, PASSWORD
from tests.web.helpers import screenshot_taker

CHROMIUM = shutil.which("chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run"]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def _server(project: Project) -> Iterator[str]:
    port = _free_port()
    dunning = Path(sys.executable).with_name("dunning")
    env = {**os.environ, "DUNNING_LOAD_PLUGINS": "phone"}
    process = subprocess.Popen([str(dunning), "--config", str(project.config), "--now", NOW, "serve",
                                "--port", str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/login", timeout=2) as answer:
                    assert answer.status == 200
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    output = process.stdout.read().decode() if process.stdout else ""
                    raise AssertionError(f"dunning serve did not start:\n{output}") from None
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=15)


def _sign_in(page: object, url: str, name: str) -> None:
    page.goto(f"{url}/login")  # type: ignore[attr-defined]
    page.fill("input[name=name]", name)  # type: ignore[attr-defined]
    page.fill("input[name=password]", PASSWORD)  # type: ignore[attr-defined]
    page.click("button.primary")  # type: ignore[attr-defined]
    page.wait_for_url(f"{url}/")  # type: ignore[attr-defined]


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (.ci/run installs it)")
def test_a_collectors_morning_and_a_supervisor_approving_in_a_real_browser(floor: Project):
    from playwright.sync_api import sync_playwright

    snap = screenshot_taker()

    with _server(floor) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            # The collector's morning, on a phone.
            ann = browser.new_context(viewport=PHONE, locale="en-GB").new_page()
            _sign_in(ann, url, "ann")
            titles = ann.locator(".worklist .title").all_inner_texts()
            assert titles == ["Case 4 · Palace Cafe", "Case 2 · Quay Bakers"]
            snap(ann, "console-day-phone")
            ann.click(".worklist .title >> nth=0")
            ann.wait_for_url(f"{url}/cases/4")
            assert "GBP 800.00" in ann.inner_text("dl.figures")
            ann.select_option("select[name=outcome]", "promise")
            ann.fill("form[action$='/call'] input[name=amount]", "800.00")
            ann.fill("form[action$='/call'] input[name=due]", "2026-06-09T16:00")  # too far for a collector
            ann.click("form[action$='/call'] button")
            assert "a promise may be at most 2 days out" in ann.inner_text("#call-due-error")
            snap(ann, "console-case-error-phone")
            ann.fill("form[action$='/call'] input[name=due]", "2026-06-02T16:00")
            ann.click("form[action$='/call'] button")
            ann.wait_for_selector(".flash")
            assert "promise 1 recorded" in ann.inner_text(".flash")
            # The promise is on the case, and today's list drops the case until the promise falls due.
            assert "GBP 800.00" in ann.inner_text("section.card:has(h2:text('Promises'))")
            # A settlement offered for more than the case owes is refused beside the amount.
            ann.goto(f"{url}/cases/4")
            ann.fill("#settle input[name=amount]", "900.00")
            ann.fill("#settle input[name=until]", "2026-06-20")
            ann.click("#settle button")
            assert "less than the GBP 800.00 the case owes" in ann.inner_text("#settle-amount-error")
            snap(ann, "console-settle-error-phone", part="#settle")
            ann.goto(f"{url}/")
            assert ann.locator(".worklist .title").all_inner_texts() == ["Case 2 · Quay Bakers"]

            # The supervisor's approvals on a phone, in English.
            sam_phone = browser.new_context(viewport=PHONE, locale="en-GB").new_page()
            _sign_in(sam_phone, url, "sam")
            sam_phone.goto(f"{url}/approvals")
            assert "Harbour Stores" in sam_phone.inner_text(".worklist")
            snap(sam_phone, "console-approvals-phone")

            # The supervisor at a desk, in Chinese.
            sam = browser.new_context(viewport=DESKTOP, locale="zh-CN",
                                      extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"}).new_page()
            _sign_in(sam, url, "sam")
            snap(sam, "console-day-desktop-zh")
            sam.click("nav a[href='/approvals']")
            assert "Harbour Stores" in sam.inner_text(".worklist")
            snap(sam, "console-approvals-desktop-zh")
            sam.fill(".decide input[name=note]", "agreed with legal")
            sam.click(".decide button[value=approve]")
            sam.wait_for_selector(".flash")
            assert "已批准" in sam.inner_text(".flash")  # approved, in the console's language
            # The same case page at a desk, in English, for the docs.
            sam.click("a[href^='/lang/en']")
            sam.goto(f"{url}/cases/4")
            snap(sam, "console-case-desktop")
            sam.fill("#settle input[name=amount]", "700.00")
            sam.fill("#settle input[name=until]", "2026-06-20")
            sam.fill("#settle input[name=instalments]", "2")
            snap(sam, "console-settle-desktop", part="#settle")
        finally:
            browser.close()

    promise = json.loads(floor("events", "--kind", "promise", "--json").stdout)
    assert [(e["case_id"], e["data"]["amount"]) for e in promise] == [(4, 80000)]
    [logged] = json.loads(floor("events", "--kind", "phone:call_logged", "--json").stdout)
    assert (logged["data"]["collector"], logged["data"]["outcome"]) == ("ann", "promise")
    [approved] = json.loads(floor("events", "--kind", "approved", "--json").stdout)
    assert (approved["case_id"], approved["data"]["by"]) == (1, "sam")
    assert floor("verify").exit_code == 0
