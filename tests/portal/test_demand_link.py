"""Demands carry the link to the debtor's page when [portal] base_url is set, and not otherwise."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest

from dunning.plugins.email.loopback import LoopbackSMTP
from dunning.portal import links
from tests.conftest import Project
from tests.portal.conftest import BASE_URL, PORTAL_TOML, import_two_items


SENDER = "Acme Credit Control <credit@acme.example>"
RUN = "2026-03-02T09:00:00Z"  # the day after INV-1 fell due: the first demand


@pytest.fixture
def smtp() -> Iterator[LoopbackSMTP]:
    with LoopbackSMTP() as server:
        yield server


def _demand(project: Project, smtp: LoopbackSMTP, portal: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DUNNING_LOAD_PLUGINS", "email")
    project.write_config(enabled=["email"], extra=smtp.settings_toml(SENDER) + portal)
    import_two_items(project)
    project("run", now=RUN)
    [message] = [m for m in smtp.messages if m.rcpt_tos == ("ap@trading.example",)]
    mail = message.parsed()
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    return text + html


def test_the_email_demand_carries_a_link_that_opens_its_case(project: Project, smtp: LoopbackSMTP,
                                                             monkeypatch: pytest.MonkeyPatch, open_runtime):
    body = _demand(project, smtp, PORTAL_TOML, monkeypatch)
    found = set(re.findall(re.escape(BASE_URL) + r"/[0-9A-Za-z._-]+", body))
    assert len(found) == 1, body  # the same link in the text and the HTML part
    [url] = found
    assert "on your own page: " + url in body
    rt = open_runtime(project)
    sent = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
    assert links.case_for_token(rt, links.token_of(url), sent + dt.timedelta(days=13)) == 1
    assert links.case_for_token(rt, links.token_of(url), sent + dt.timedelta(days=14)) is None  # link_days = 14


def test_without_a_base_url_the_demand_has_no_link(project: Project, smtp: LoopbackSMTP,
                                                   monkeypatch: pytest.MonkeyPatch):
    body = _demand(project, smtp, "", monkeypatch)
    assert "your own page" not in body and "/portal/" not in body
    assert not (project.folder / links.DEFAULT_SECRET_NAME).exists()
