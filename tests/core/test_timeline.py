"""The trade-receivables timeline, replayed day by day through the CLI (DPD -10 ... 200)."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict

import pytest

from tests.conftest import ChannelsPlugin, Project, at, row, write_csv

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


@pytest.mark.slow
def test_trade_receivables_timeline_day_by_day(project: Project, register_plugin) -> None:
    channels = register_plugin(ChannelsPlugin("email", "phone", "letter", "visit"))
    # The timeline checks the policy's days; the calendar rules have their own tests.
    project.write_config(enabled=["email", "phone", "letter", "visit"], extra="[compliance]\nworking_days_only = []\n")
    csv_path = write_csv(project.folder / "portfolio.csv", [
        row("A", "INV-A1", "12000.00", DUE.isoformat()),
        row("B", "INV-B1", "2500.00", DUE.isoformat()),
    ])
    first = DUE - dt.timedelta(days=10)
    project("import", str(csv_path), now=at(first, 8))
    cases = {c["debtor_id"]: c["id"] for c in json.loads(project("cases", "list", "--json").stdout)}

    cancelled_when_paid = None
    for dpd in range(-10, 201):
        day = DUE + dt.timedelta(days=dpd)
        summary = json.loads(project("run", "--now", at(day), "--json").stdout)
        assert set(summary) >= {"planned", "sent", "deferred", "blocked", "failed", "escalated", "awaiting_approval"}
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

    # Each delivery went out exactly once.
    keys = [k for k, case_id, _ in channels.channels["email"].sent if case_id == cases["A"]]
    assert len(keys) == len(set(keys)) == 1 + 7 + 14

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
