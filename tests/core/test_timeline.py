"""The trade-receivables timeline, replayed day by day through the CLI (DPD -10 ... 200) with the real channels."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from pathlib import Path

import pytest
from pypdf import PdfReader

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
# The advance notice gives 14 days (the policy's notice_days): on site the day after that deadline.
EXPECTED[31] = {("notice", "manager"), ("sent", "letter", "advance-notice"), ("sent", "visit", "first-visit")}
EXPECTED[46] = {("stage", "internal", "onsite")}
for d in range(35, 85, 7):
    EXPECTED[d] |= {("sent", "phone", "phone-follow-up")}
EXPECTED[61] |= {("notice", "general_manager"), ("sent", "letter", "warning-letter"), ("sent", "visit", "second-visit")}
# The formal demand announces day 105; the agency gets the case on day 106, not the day of the letter.
EXPECTED[91] = {("approval_requested", "lock-account"), ("sent", "letter", "formal-demand"),
                ("sent", "letter", "reconciliation-statement")}
EXPECTED[106] = {("stage", "onsite", "agency")}
EXPECTED[92] = {("locked",)}
EXPECTED[181] = {("approval_requested", "lawyers-letter"), ("approval_requested", "enter-litigation"),
                 ("stage", "agency", "onsite")}
# The lawyer's letter gives 14 days before proceedings.
EXPECTED[182] = {("sent", "letter", "lawyers-letter")}
EXPECTED[197] = {("stage", "onsite", "litigation")}


def assert_deadlines_kept(events: list[dict]) -> None:
    """No stage change (but a recall) on or before a deadline that a message sent earlier announced."""
    announced: list[tuple[int, str, str]] = []  # (seq, deadline, the stage it leads to)
    assert any(e["kind"] == "sent" and e["data"].get("deadline") for e in events), "no message announced a deadline"
    for event in events:
        if event["kind"] == "sent" and event["data"].get("deadline"):
            announced.append((event["seq"], event["data"]["deadline"], event["data"].get("deadline_stage")))
        if event["kind"] == "stage_changed" and not event["data"].get("recall"):
            day = event["at"][:10]
            broken = [a for a in announced if a[0] < event["seq"] and day <= a[1]]
            assert not broken, f"stage change to {event['data']['to']} on {day} before the deadline {broken}"


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
        if dpd == 47:
            # On site since yesterday (the advance notice's deadline held the move): day 31's visit is still to make.
            listed = json.loads(project("visits", "--json", now=at(day, 10)).stdout)
            assert {(v["case_id"], v["step"]) for g in listed for v in g["visits"]} >= {(cases["A"], "first-visit")}
        if dpd == 91:
            # B pays in full after the day's run, while its account lock awaits approval.
            out = project("pay", str(cases["B"]), "2500.00", "--reference", "BANK-991", now=at(day, 18)).stdout
            assert "resolved as paid" in out
            cancelled_when_paid = json.loads(
                project("events", "--case", str(cases["B"]), "--kind", "resolved", "--json").stdout
            )

    events = json.loads(project("events", "--case", str(cases["A"]), "--json").stdout)
    actual: dict[int, set[tuple[str, ...]]] = defaultdict(set)
    for event in events:
        summary_ = _summarise(event)
        if summary_ is not None:
            actual[event["dpd"]].add(summary_)
    for dpd in range(-10, 201):
        assert actual.get(dpd, set()) == EXPECTED.get(dpd, set()), f"day {dpd}"
    assert_deadlines_kept(events)
    announced = {
        e["step"]: e["data"].get("deadline") for e in events if e["kind"] == "sent" and e["channel"] == "letter"
    }
    assert announced == {"advance-notice": "2026-04-15", "warning-letter": "2026-05-30", "formal-demand": "2026-06-14",
                         "reconciliation-statement": "2026-06-14", "lawyers-letter": "2026-09-13"}

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
        if event["step"] == "formal-demand":
            # The date the letter gives is the one the engine kept.
            text = " ".join(page.extract_text() for page in PdfReader(pdf).pages)
            assert "in full by 14 June 2026" in " ".join(text.split())
    # Calls and visits became tasks for collectors.
    calls = [e for e in events if e["kind"] == "sent" and e["channel"] == "phone"]
    assert calls and all(e["data"]["reference"].startswith("call:") for e in calls)
    visits = [e for e in events if e["kind"] == "sent" and e["channel"] == "visit"]
    assert [e["data"]["area"] for e in visits] == ["SW1A", "SW1A"]

    # The payment resolved B and cancelled its pending account lock and its move to the agency (waiting
    # for the formal demand's deadline); nothing went to B afterwards.
    assert cancelled_when_paid and cancelled_when_paid[0]["data"]["as"] == "paid"
    assert cancelled_when_paid[0]["data"]["cancelled_actions"] == 2
    b_events = json.loads(project("events", "--case", str(cases["B"]), "--json").stdout)
    resolved_seq = cancelled_when_paid[0]["seq"]
    assert not [e for e in b_events if e["seq"] > resolved_seq and e["kind"] in ("sent", "stage_changed", "notice")]
    b_case = json.loads(project("cases", "show", str(cases["B"]), "--json").stdout)
    assert b_case["status"] == "paid" and b_case["pending_actions"] == []
    a_case = json.loads(project("cases", "show", str(cases["A"]), "--json").stdout)
    assert a_case["stage"] == "litigation" and a_case["account_locked"] is True
    assert "ok:" in project("verify").stdout


@pytest.mark.slow
def test_deadlines_kept_with_a_40_day_gap_in_the_runs(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    """The runner stops for 40 days (day 70 to 109): the late formal demand's deadline still holds the agency back."""
    monkeypatch.setenv(LOAD_ENV, "email,letter,phone,visit")
    load_plugin_commands()
    server = LoopbackSMTP().start()
    try:
        project.write_config(enabled=["email", "phone", "letter", "visit"], extra=CHANNELS.format(port=server.port))
        csv_path = write_csv(project.folder / "portfolio.csv", [
            row("A", "INV-A1", "12000.00", DUE.isoformat(), address="1 The Mall\nLondon\nSW1A 1AA")])
        project("import", str(csv_path), now=at(DUE - dt.timedelta(days=10), 8))
        case_id = json.loads(project("cases", "list", "--json").stdout)[0]["id"]
        gap = range(70, 110)
        missed: dict[int, int] = {}
        for dpd in range(-10, 201):
            if dpd in gap:
                continue
            summary = json.loads(project("run", "--now", at(DUE + dt.timedelta(days=dpd)), "--json").stdout)
            assert summary["failed"] == 0, (dpd, summary)
            missed[dpd] = summary["missed"]
            for action in json.loads(project("approvals", "--json").stdout):
                project(
                    "approve", str(action["id"]), "--by", "Finance Director", now=at(DUE + dt.timedelta(days=dpd), 17)
                )
    finally:
        server.stop()

    # The steps of the 40 days were dropped and counted: phone follow-ups on days 70, 77 and 84 and the
    # account lock of day 91 (not required); the required letters of day 91 were not.
    assert missed[110] == 4 and sum(missed.values()) == 4
    events = json.loads(project("events", "--case", str(case_id), "--json").stdout)
    assert_deadlines_kept(events)
    letters = {e["step"]: e for e in events if e["kind"] == "sent" and e["channel"] == "letter"}
    # The required letters went out late, on day 110, and gave their 14 days from then.
    demand = letters["formal-demand"]
    assert demand["dpd"] == 110 and demand["data"]["deadline"] == (DUE + dt.timedelta(days=124)).isoformat()
    assert demand["data"]["deadline_stage"] == "agency"
    moves = [(e["dpd"], e["data"]["to"]) for e in events if e["kind"] == "stage_changed"]
    assert moves == [(46, "onsite"), (125, "agency"), (181, "onsite"), (197, "litigation")]
    waits = [e for e in events if e["kind"] == "deferred" and e["data"]["rule"] == "deadline"]
    assert waits and all("the deadline announced" in e["data"]["reason"] for e in waits)
