"""What a debtor does on their page: each through the CLI's own operation, each an event by the portal,
each refusal a clear message with nothing changed."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from dunning.approvals import approval_rows
from dunning.portal import actions
from dunning.portal.actions import PortalError
from tests.conftest import Project, dump


NOW = dt.datetime(2026, 3, 10, 10, tzinfo=dt.UTC)
CASE = 1


def _events(project: Project, kind: str) -> list[dict[str, Any]]:
    return json.loads(project("events", "--kind", kind, "--json").stdout)


def _last_contact(project: Project) -> str | None:
    [(last,)] = project.sql("SELECT last_contact_on FROM cases WHERE id = ?", [CASE])
    return last


def test_the_page_shows_what_is_overdue_what_falls_due_later_and_the_reference(portal_project, open_runtime):
    rt = open_runtime(portal_project)
    page = actions.open_page(rt, CASE, NOW)
    assert (page.overdue, page.not_yet_due, page.balance, page.currency) == (120000, 30000, 150000, "EUR")
    assert [(i.reference, i.open, i.days_overdue) for i in page.overdue_items] == [("INV-1", 120000, 9)]
    assert [(i.reference, i.due_on) for i in page.later_items] == [("INV-2", dt.date(2026, 4, 30))]
    assert (page.interest, page.fees, page.total_due) == (0, 0, 150000)  # no notice of interest went out
    assert page.creditor_reference.startswith("RF") and " " in page.creditor_reference
    assert page.debtor_name == "Trading Co" and page.promise_max_days == 2


def test_the_first_opening_is_a_right_party_contact_every_opening_an_event(portal_project, open_runtime):
    rt = open_runtime(portal_project)
    assert _last_contact(portal_project) is None
    actions.open_page(rt, CASE, NOW)
    assert _last_contact(portal_project) == "2026-03-10"
    actions.open_page(rt, CASE, NOW + dt.timedelta(days=2))
    assert _last_contact(portal_project) == "2026-03-10"  # only the first counts as reaching the debtor
    opened = _events(portal_project, "portal")
    assert [(e["data"]["action"], e["data"]["by"], e["data"]["first"], e["channel"]) for e in opened] == [
        ("opened", "portal", True, "portal"), ("opened", "portal", False, "portal")]
    assert portal_project.sql("SELECT channel, role, connected, source FROM contact_attempts") == [
        ("portal", "debtor", 1, "portal")]


def test_a_promise_within_the_limit_is_recorded_by_the_portal(portal_project, open_runtime):
    rt = open_runtime(portal_project)
    promise_id = actions.promise(rt, CASE, "1200.00", NOW + dt.timedelta(days=2), NOW)
    [promise] = _events(portal_project, "promise")
    assert (promise["data"]["promise_id"], promise["data"]["amount"], promise["data"]["approved_by"]) == (
        promise_id, 120000, None)
    [portal] = _events(portal_project, "portal")
    assert portal["data"] == {"action": "promise", "by": "portal", "promise_id": promise_id}


@pytest.mark.parametrize("amount, days, message", [
    ("1200.00", 5, r"^a promise may be at most 2 days out \(until 2026-03-12T10:00:00Z\); for a later date, "
                   r"ask for more time$"),
    ("0", 1, r"^a promised amount must be positive, got 0$"),
    ("1600.00", 1, r"^the promise \(EUR 1,600.00\) is more than the balance \(EUR 1,500.00\)$"),
    ("12,00.00", 1, r"12,00.00"),
    ("100.00", -1, r"^a promise must be due in the future"),
])
def test_a_promise_the_rules_refuse_changes_nothing(portal_project, open_runtime, amount, days, message):
    rt = open_runtime(portal_project)
    before = dump(portal_project)
    with pytest.raises(PortalError, match=message):
        actions.promise(rt, CASE, amount, NOW + dt.timedelta(days=days), NOW)
    assert dump(portal_project) == before


def test_a_refused_request_inside_a_callers_transaction_changes_nothing(portal_project, open_runtime):
    rt = open_runtime(portal_project)
    before = dump(portal_project)
    # Inside a transaction, as a web app may wrap a request.
    with rt.store.transaction(), pytest.raises(PortalError, match=r"^a promise may be at most 2 days out"):
        actions.promise(rt, CASE, "1200.00", NOW + dt.timedelta(days=5), NOW)
    assert dump(portal_project) == before


def test_more_time_goes_to_the_approval_queue_and_approving_it_records_the_promise(portal_project, open_runtime):
    rt = open_runtime(portal_project)
    action_id = actions.ask_more_time(rt, CASE, "1200.00", NOW + dt.timedelta(days=20), NOW, reason="paid monthly")
    assert action_id is not None
    [row] = list(approval_rows(rt, NOW.date()))
    assert (row.action.id, row.debtor_name, row.overdue, row.action.step) == (action_id, "Trading Co", 120000,
                                                                                 "portal-request")
    assert row.why == ("portal: the debtor asks through the portal to pay EUR 1,200.00 by 2026-03-30, beyond the "
                       "2-day promise limit: paid monthly")
    assert _events(portal_project, "promise") == []
    before = dump(portal_project)
    with pytest.raises(PortalError, match=r"^an earlier request of yours is still waiting for an answer$"):
        actions.ask_more_time(rt, CASE, "300.00", NOW + dt.timedelta(days=10), NOW)
    assert dump(portal_project) == before

    out = portal_project("approve", str(action_id), "--by", "Sam", now="2026-03-10T12:00:00Z").stdout
    assert out == f"action {action_id} (portal-request) approved; the debtor's promise is recorded\n"
    [promise] = _events(portal_project, "promise")
    assert (promise["data"]["amount"], promise["data"]["approved_by"], promise["data"]["due_at"]) == (
        120000, "Sam", "2026-03-30T10:00:00Z")
    [approved] = _events(portal_project, "approved")
    assert approved["data"]["promise_id"] == promise["data"]["promise_id"] and approved["data"]["by"] == "Sam"
    assert json.loads(portal_project("approvals", "--json").stdout) == []
    assert json.loads(portal_project("notices", "--json").stdout) == []  # nothing waits on the supervisor's list
    assert [e["data"]["action"] for e in _events(portal_project, "portal")] == ["more_time"]


def test_an_approval_the_rules_now_refuse_changes_nothing(portal_project, open_runtime):
    rt = open_runtime(portal_project)
    action_id = actions.ask_more_time(rt, CASE, "1200.00", NOW + dt.timedelta(days=20), NOW)
    before = dump(portal_project)
    out = portal_project("approve", str(action_id), "--by", "Sam", now="2026-04-01T12:00:00Z", expect=1).output
    assert out == "Error: a promise must be due in the future, got 2026-03-30T10:00:00Z\n"
    assert dump(portal_project) == before


def test_a_plan_within_the_limits_waits_for_a_supervisor(portal_project, open_runtime):
    rt = open_runtime(portal_project)
    plan = [("500.00", NOW + dt.timedelta(days=10)), ("500.00", NOW + dt.timedelta(days=40)),
            ("500.00", NOW + dt.timedelta(days=70))]
    action_id = actions.ask_plan(rt, CASE, plan, NOW)
    assert action_id is not None
    portal_project("approve", str(action_id), "--by", "Sam", now="2026-03-11T09:00:00Z")
    promises = _events(portal_project, "promise")
    assert [(p["data"]["amount"], p["data"]["instalment"], p["data"]["of"], p["data"]["approved_by"])
            for p in promises] == [(50000, 1, 3, "Sam"), (50000, 2, 3, "Sam"), (50000, 3, 3, "Sam")]


def test_a_short_plan_within_the_promise_limit_needs_nobody(portal_project, open_runtime):
    rt = open_runtime(portal_project)
    plan = [("700.00", NOW + dt.timedelta(days=1)), ("500.00", NOW + dt.timedelta(days=2))]
    assert actions.ask_plan(rt, CASE, plan, NOW) is None
    assert [p["data"]["approved_by"] for p in _events(portal_project, "promise")] == [None, None]
    assert json.loads(portal_project("approvals", "--json").stdout) == []


@pytest.mark.parametrize("plan, message", [
    ([("100.00", 5 * i) for i in range(1, 8)], r"^a plan may have at most 6 instalments$"),
    ([("100.00", 10), ("100.00", 95)], r"^the last payment may be at most 90 days from today$"),
    ([("100.00", 10)], r"^a plan has at least two instalments$"),
    ([("100.00", 20), ("100.00", 10)], r"^instalments must fall due one after the other$"),
    ([("1000.00", 10), ("1000.00", 20)], r"^the promise \(EUR 2,000.00\) is more than the balance"),
])
def test_a_plan_beyond_the_limits_is_refused_and_changes_nothing(portal_project, open_runtime, plan, message):
    rt = open_runtime(portal_project)
    before = dump(portal_project)
    with pytest.raises(PortalError, match=message):
        actions.ask_plan(rt, CASE, [(a, NOW + dt.timedelta(days=d)) for a, d in plan], NOW)
    assert dump(portal_project) == before


def test_disputing_one_item_holds_it_out_and_the_rest_is_still_asked_for(portal_project, open_runtime):
    rt = open_runtime(portal_project)
    actions.dispute(rt, CASE, "INV-1", "goods returned on 2 March", NOW)
    [disputed] = _events(portal_project, "obligation_disputed")
    assert (disputed["data"]["reference"], disputed["data"]["by"], disputed["data"]["reason"]) == (
        "INV-1", "portal", "goods returned on 2 March")
    page = actions.open_page(rt, CASE, NOW)
    assert (page.overdue, page.balance) == (0, 30000)
    assert [(d.reference, d.open, d.disputed_on) for d in page.disputed_items] == [
        ("INV-1", 120000, dt.date(2026, 3, 10))]
    # The CLI's own dispute, with the portal as who: lifting it is the CLI's too.
    out = portal_project("dispute", "1/INV-1", "--lift", "--reason", "proof of delivery", "--by", "Sam").stdout
    assert "dispute lifted" in out


@pytest.mark.parametrize("reference, reason, message", [
    ("INV-9", "not mine", r"^no obligation '1/INV-9'"),
    ("INV-1", "  ", r"^say why you dispute it$"),
])
def test_a_dispute_the_rules_refuse_changes_nothing(portal_project, open_runtime, reference, reason, message):
    rt = open_runtime(portal_project)
    before = dump(portal_project)
    with pytest.raises(PortalError, match=message):
        actions.dispute(rt, CASE, reference, reason, NOW)
    assert dump(portal_project) == before


def test_a_second_dispute_of_the_same_item_is_refused(portal_project, open_runtime):
    rt = open_runtime(portal_project)
    actions.dispute(rt, CASE, "INV-1", "wrong price", NOW)
    before = dump(portal_project)
    with pytest.raises(PortalError, match=r"^1/INV-1 is already disputed \(since 2026-03-10\)$"):
        actions.dispute(rt, CASE, "INV-1", "wrong price", NOW)
    assert dump(portal_project) == before


def test_opting_out_of_a_channel_is_the_cli_opt_out_by_the_portal(portal_project, open_runtime):
    rt = open_runtime(portal_project)
    before = dump(portal_project)
    with pytest.raises(PortalError, match=r"^--channel 'pigeon' is neither an enabled channel"):
        actions.opt_out(rt, CASE, "pigeon", NOW)
    assert dump(portal_project) == before
    opt_out_id = actions.opt_out(rt, CASE, "text", NOW)
    [event] = _events(portal_project, "opt_out")
    assert (event["data"]["channel"], event["data"]["source"]) == ("text", "portal")
    [portal] = _events(portal_project, "portal")
    assert portal["data"] == {"action": "opt_out", "by": "portal", "opt_out": "text", "opt_out_id": opt_out_id}
    portal_project("verify")
