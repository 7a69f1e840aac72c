"""An email that sets a deadline quotes the engine's date, and the engine keeps it (real SMTP on loopback)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

import dunning.plugins.email as email_plugin
from dunning import dispatch
from dunning.models import Stage
from dunning.plugins.email.loopback import LoopbackSMTP
from tests import runtime_on_both

# Every runtime this module's tests open: on a SQLite file, then on a PostgreSQL database.
dunning_runtime = runtime_on_both.dunning_runtime

UTC = dt.UTC
DUE = dt.date(2026, 3, 1)

POLICY = """
name = "final-email"

[stages.agency]
entry_dpd = 61

[[steps]]
name = "final-notice"
dpd = 60
channels = ["email"]
template = "{template}"
"""

SUBJECT = "Final notice: {{ total }}\n"
TEXT = ("Dear {{ recipient_name }},\n\nPlease pay {{ total }} by {{ deadline_text }}"
        "{% if deadline.stage %}, or the account goes to {{ deadline.stage }}{% endif %}.\n")


@pytest.fixture
def smtp() -> Iterator[LoopbackSMTP]:
    with LoopbackSMTP() as server:
        yield server


def runtime(dunning_runtime, smtp: LoopbackSMTP, tmp_path: Path, template: str):
    folder = tmp_path / "templates" / "email"
    folder.mkdir(parents=True)
    (folder / "final-notice.subject.txt").write_text(SUBJECT, encoding="utf-8")
    (folder / "final-notice.txt").write_text(TEXT, encoding="utf-8")
    (folder / "final-notice.html").write_text("<p>" + TEXT + "</p>", encoding="utf-8")
    settings = {"host": smtp.host, "port": smtp.port, "security": "none", "sender": "credit@acme.example"}
    return dunning_runtime(plugins=[email_plugin], enabled=["email"], policy=POLICY.format(template=template),
                           templates=tmp_path / "templates", channel_settings={"email": settings})


def test_an_email_that_sets_a_deadline_holds_the_stage_change(dunning_runtime, case_factory, smtp, tmp_path):
    rt = runtime(dunning_runtime, smtp, tmp_path, "final-notice")
    case = case_factory(rt, amount="900.00")
    summary = dispatch.run(rt, dt.datetime(2026, 4, 30, 9, tzinfo=UTC))  # day 60
    assert summary.sent == 1
    [mail] = smtp.messages
    body = mail.parsed().get_body(("plain",)).get_content()
    # Day 61 is tomorrow: the deadline gives the policy's 14 days (day 74) and the agency waits for it.
    assert "Please pay EUR 900.00 by 14 May 2026, or the account goes to agency." in body
    [sent] = rt.store.events(kind="sent")
    assert (sent.data["deadline"], sent.data["deadline_stage"]) == ("2026-05-14", "agency")

    for day in range(61, 75):
        summary = dispatch.run(rt, dt.datetime(2026, 3, 1, 9, tzinfo=UTC) + dt.timedelta(days=day))
        assert summary.escalated == 0, day
    assert rt.store.case(case.id).stage is Stage.INTERNAL
    [wait] = [e for e in rt.store.events(kind="deferred") if e.data["rule"] == "deadline"]
    assert wait.data["until"] == "2026-05-15T00:00:00Z"
    assert dispatch.run(rt, dt.datetime(2026, 5, 15, 9, tzinfo=UTC)).escalated == 1
    assert rt.store.case(case.id).stage is Stage.AGENCY


def test_an_email_that_sets_no_deadline_holds_nothing(dunning_runtime, case_factory, smtp, tmp_path):
    rt = runtime(dunning_runtime, smtp, tmp_path, "overdue-notice")  # the shipped one: no date to pay by
    case = case_factory(rt, amount="900.00")
    assert dispatch.run(rt, dt.datetime(2026, 4, 30, 9, tzinfo=UTC)).sent == 1
    [sent] = rt.store.events(kind="sent")
    assert "deadline" not in sent.data
    assert dispatch.run(rt, dt.datetime(2026, 5, 1, 9, tzinfo=UTC)).escalated == 1
    assert rt.store.case(case.id).stage is Stage.AGENCY
