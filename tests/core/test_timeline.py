"""The trade-receivables timeline, replayed day by day through the CLI (DPD -10 ... 200) with the real channels."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from pathlib import Path

import pytest

from dunning.cli import load_plugin_commands
from dunning.plugin_manager import LOAD_ENV
from dunning.plugins.email.loopback import LoopbackSMTP
from tests.conftest import Project, at, row, write_csv

DUE = dt.date(2026, 3, 1)

# What case A (12,000.00, never pays) must see, by days past due.
# ("sent", channel, step) | ("notice", role) | ("approval_requested", step) | ("stage", from, to) | ("locked",)
EXPECTED: dict[int, set[tuple[str, ...]]] = defaultdict(set)
EXPECTED[-7] = {("sent", "email", "courtesy-reminder")}
for d in range(1, 14, 2):
    EXPECTED[d] = {("sent", "email", "overdue-notice"), ("sent", "phone", "overdue-notice")}
for d in range(14, 28):
    EXPECTED[d] = {("sent", "email", "follow-up"), ("sent", "phone", "follow-up")}
EXPECTED[28] = {("notice", "supervisor")}
EXPECTED[31] = {("notice", "manager"), ("sent", "letter", "advance-notice"), ("sent", "visit", "first-visit"),
                ("stage", "internal", "onsite")}
for d in range(35, 85, 7):
    EXPECTED[d] |= {("sent", "phone", "phone-follow-up")}
EXPECTED[61] |= {("notice", "general_manager"), ("sent", "letter", "warning-letter"), ("sent", "visit", "second-visit")}
EXPECTED[91] = {("approval_requested", "lock-account"), ("sent", "letter", "formal-demand"),
                ("sent", "letter", "reconciliation-statement"), ("stage", "onsite", "agency")}
EXPECTED[92] = {("locked",)}
EXPECTED[181] = {("approval_requested", "lawyers-letter"), ("approval_requested", "enter-litigation"),
                 ("stage", "agency", "onsite")}
EXPECTED[182] = {("sent", "letter", "lawyers-letter"), ("stage", "onsite", "litigation")}


def _summarise(event: dict) -> tuple[str, ...] | None:
    kind, data = event["kind"], event["data"]
    if kind == "sent":
        return ("sent", event["channel"], event["step"])
    if kind == "notice":
        return ("notice", data["role"])
    if kind == "approval_requested":
        return ("approval_requested", event["step"])
    if kind == "stage_changed":
        return ("stage", data["from"], data["to"])
    if kind == "account_locked":
        return ("locked",)
    return None


CHANNELS = """
[channels.email]
host = "127.0.0.1"
port = {port}
security = "none"
sender = "Credit Control <credit@supplier.example>"
bcc = "archive@supplier.example"

[channels.letter]
sender_name = "Supplier Ltd"
sender_address = ["1 Quay Street", "Bristol BS1 4DJ"]
folder = "letters"
firm_name = "Castle & Reed LLP"
firm_address = ["9 Temple Row", "Birmingham B2 5LG"]

[channels.phone]
collectors = ["ann"]

[compliance]
# The timeline checks the policy's days; the calendar rules have their own tests.
working_days_only = []
"""


@pytest.mark.slow
def test_trade_receivables_timeline_day_by_day(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    # The real channels: email over SMTP to a server on 127.0.0.1, PDF letters, call and visit lists.
    monkeypatch.setenv(LOAD_ENV, "email,letter,phone,visit")
    load_plugin_commands()
    server = LoopbackSMTP().start()
    try:
        _replay(project, server)
    finally:
        server.stop()


def _replay(project: Project, server: LoopbackSMTP) -> None:
    project.write_config(enabled=["email", "phone", "letter", "visit"], extra=CHANNELS.format(port=server.port))
    address = "1 The Mall\nLondon\nSW1A 1AA"
    csv_path = write_csv(project.folder / "portfolio.csv", [
        row("A", "INV-A1", "12000.00", DUE.isoformat(), address=address),
        row("B", "INV-B1", "2500.00", DUE.isoformat(), address=address),
    ])
    first = DUE - dt.timedelta(days=10)
    project("import", str(csv_path), now=at(first, 8))
    cases = {c["debtor_id"]: c["id"] for c in json.loads(project("cases", "list", "--json").stdout)}

    cancelled_when_paid = None
    for dpd in range(-10, 201):
        day = DUE + dt.timedelta(days=dpd)
        summary = json.loads(project("run", "--now", at(day), "--json").stdout)
        assert set(summary) >= {"planned", "sent", "deferred", "blocked", "failed", "escalated", "awaiting_approval"}
        assert summary["failed"] == 0, (dpd, summary)
        # Rerunning the same moment plans and sends nothing new.
        again = json.loads(project("run", "--now", at(day), "--json").stdout)
        assert again["planned"] == 0 and again["sent"] == 0, (dpd, again)
        for action in json.loads(project("approvals", "--json").stdout):
            if action["case_id"] == cases["A"]:
                project("approve", str(action["id"]), "--by", "Finance Director", now=at(day, 17))
        if dpd == 91:
            # B pays in full after the day's run, while its account lock awaits approval.
            out = project("pay", str(cases["B"]), "2500.00", "--reference", "BANK-991", now=at(day, 18)).stdout
            assert "resolved as paid" in out
            cancelled_when_paid = json.loads(project("events", "--case", str(cases["B"]), "--kind", "resolved", "--json").stdout)

    events = json.loads(project("events", "--case", str(cases["A"]), "--json").stdout)
    actual: dict[int, set[tuple[str, ...]]] = defaultdict(set)
    for event in events:
        summary_ = _summarise(event)
        if summary_ is not None:
            actual[event["dpd"]].add(summary_)
    for dpd in range(-10, 201):
        assert actual.get(dpd, set()) == EXPECTED.get(dpd, set()), f"day {dpd}"

    # Each email reached the mail server exactly once, with its key.
    keys = [m.parsed()["X-Dunning-Key"] for m in server.messages]
    keys_a = [k for k in keys if k.startswith(f"{cases['A']}:") and ":notify-" not in k]
    assert len(keys_a) == len(set(keys_a)) == 1 + 7 + 14
    # The notices to the supervisor, manager and general manager went by email too, once each.
    notices_a = [k.split(":")[1] for k in keys if k.startswith(f"{cases['A']}:") and ":notify-" in k]
    assert notices_a == ["notify-supervisor", "notify-manager", "notify-general-manager"]
    # Each letter is a PDF on disk whose SHA-256 is the one in its evidence.
    letters = [e for e in events if e["kind"] == "sent" and e["channel"] == "letter"]
    assert [e["step"] for e in letters] == ["advance-notice", "warning-letter", "formal-demand",
                                           "reconciliation-statement", "lawyers-letter"]
    for event in letters:
        pdf = Path(event["data"]["path"])
        pdf = pdf if pdf.is_absolute() else project.folder / pdf
        assert hashlib.sha256(pdf.read_bytes()).hexdigest() == event["data"]["sha256"]
    # Calls and visits became tasks for collectors.
    calls = [e for e in events if e["kind"] == "sent" and e["channel"] == "phone"]
    assert calls and all(e["data"]["reference"].startswith("call:") for e in calls)
    visits = [e for e in events if e["kind"] == "sent" and e["channel"] == "visit"]
    assert [e["data"]["area"] for e in visits] == ["SW1A", "SW1A"]

    # The payment resolved B and cancelled its pending account lock; nothing went to B afterwards.
    assert cancelled_when_paid and cancelled_when_paid[0]["data"]["as"] == "paid"
    assert cancelled_when_paid[0]["data"]["cancelled_actions"] == 1
    b_events = json.loads(project("events", "--case", str(cases["B"]), "--json").stdout)
    resolved_seq = cancelled_when_paid[0]["seq"]
    assert not [e for e in b_events if e["seq"] > resolved_seq and e["kind"] in ("sent", "stage_changed", "notice")]
    b_case = json.loads(project("cases", "show", str(cases["B"]), "--json").stdout)
    assert b_case["status"] == "paid" and b_case["pending_actions"] == []
    a_case = json.loads(project("cases", "show", str(cases["A"]), "--json").stdout)
    assert a_case["stage"] == "litigation" and a_case["account_locked"] is True
    assert "ok:" in project("verify").stdout
