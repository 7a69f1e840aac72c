"""An in-house channel's work list in the console, given through ``register_work_lists`` as the phone and
visit plugins give theirs: on the collector's day, its case opened to them, its script shown, and its
outcome form writing through the same operations (a refusal beside the field, nothing changed)."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from typing import Any, ClassVar

from starlette.testclient import TestClient

from dunning import hookimpl, operations
from dunning.work_lists import OutcomeForm, WorkItem, WorkList
from tests.conftest import ChannelsPlugin, Project, dump
from tests.web.conftest import app_for
from tests.web.helpers import sign_in, token

DOORSTEP_CASE = 3  # Mall Florists: bob's on the call list, ann's at the door


class Doorstep(WorkList):
    """A debt counsellor's doorstep round, kept by an in-house plugin."""

    channel = "doorstep"
    title: ClassVar[Mapping[str, str]] = {"en": "Doorstep round", "zh_CN": "上门走访"}
    empty: ClassVar[Mapping[str, str]] = {"en": "Nobody to see today."}
    outcomes: ClassVar[Mapping[str, str]] = {"met": "spoke with the debtor at the door",
                                             "promise": "the debtor promised to pay"}
    promise_outcomes = frozenset({"promise"})

    def items(self, ctx: Any, today: dt.date, collector: str | None) -> list[WorkItem]:
        if collector not in (None, "ann"):
            return []
        case = ctx.store.case(DOORSTEP_CASE)
        return [WorkItem(case_id=case.id, debtor_name=ctx.store.debtor(case.debtor_id).name, figure="GBP 3,600.00",
                         detail="12 Mill Lane · morning", why="second visit", collector="ann")]

    def works_case(self, ctx: Any, case_id: int, collector: str) -> bool:
        return case_id == DOORSTEP_CASE and collector == "ann"

    def script(self, ctx: Any, case: Any, today: dt.date) -> str | None:
        return f"Knock, introduce yourself, and ask about case {case.id}." if case.id == DOORSTEP_CASE else None

    def record_outcome(self, ctx: Any, case_id: int, form: OutcomeForm) -> str:
        case = ctx.store.case(case_id)
        with ctx.transaction():
            ctx.append_event("doorstep:visited", case, ctx.now, channel="doorstep",
                             data={"outcome": form.outcome, "collector": form.collector})
            if form.outcome == "promise":
                assert form.promise_amount is not None and form.due_at is not None
                operations.promise(ctx, case_id, form.promise_amount, form.due_at, now=ctx.now,
                                   approved_by=form.approved_by)
        return f"doorstep visit recorded as {form.outcome}"


class InHouse:
    plugin_name = "in-house"

    @hookimpl
    def register_work_lists(self, register: Any) -> None:
        register(Doorstep())


def _doorstep_floor(floor: Project) -> Project:
    text = floor.config.read_text(encoding="utf-8").replace('enabled = ["phone"]', 'enabled = ["doorstep"]')
    floor.config.write_text(text, encoding="utf-8")
    return floor


def _client(floor: Project) -> TestClient:
    return TestClient(app_for(_doorstep_floor(floor), plugins=[ChannelsPlugin("doorstep"), InHouse()]))


def test_an_in_house_work_list_is_on_my_day_and_opens_its_case_with_its_script(floor: Project):
    client = _client(floor)
    sign_in(client, "ann")
    day = client.get("/").text
    assert "Doorstep round" in day and "Mall Florists" in day and "12 Mill Lane · morning" in day
    assert "Calls" not in day  # the phone channel is off: its list is not asked
    case = client.get(f"/cases/{DOORSTEP_CASE}")
    assert case.status_code == 200
    assert "Knock, introduce yourself, and ask about case 3." in case.text
    assert '<option value="met"' in case.text and "spoke with the debtor at the door" in case.text
    sign_in(client, "bob")
    assert "Nobody to see today." in client.get("/").text
    assert client.get(f"/cases/{DOORSTEP_CASE}").status_code == 403


def test_an_in_house_outcome_is_checked_like_a_call_and_recorded_through_the_operations(floor: Project):
    client = _client(floor)
    sign_in(client, "ann")
    before = dump(floor)
    path = f"/cases/{DOORSTEP_CASE}/call"
    answer = client.post(path, data={"outcome": "promise", "amount": "100.00", "due": "2026-06-30T10:00",
                                     "csrf": token(client, f"/cases/{DOORSTEP_CASE}")})
    assert answer.status_code == 422
    assert re.search(r'id="call-due-error">a promise may be at most 2 days out', answer.text)
    answer = client.post(path, data={"outcome": "met", "amount": "100.00", "csrf": token(client, "/")})
    assert re.search(r'id="call-outcome-error">an amount and a date go with a promise only', answer.text)
    assert dump(floor) == before
    answer = client.post(path, data={"outcome": "promise", "amount": "100.00", "due": "2026-06-02T10:00",
                                     "csrf": token(client, "/")}, follow_redirects=False)
    assert answer.status_code == 303
    assert "doorstep visit recorded as promise" in client.get(f"/cases/{DOORSTEP_CASE}").text
    # The command line knows no in-process plugin: back to the installed channels to read the evidence.
    floor.config.write_text(floor.config.read_text(encoding="utf-8").replace('["doorstep"]', '["phone"]'),
                            encoding="utf-8")
    [visited] = json.loads(floor("events", "--kind", "doorstep:visited", "--json").stdout)
    assert visited["data"] == {"outcome": "promise", "collector": "ann"}
    [promise] = json.loads(floor("events", "--kind", "promise", "--json").stdout)
    assert (promise["case_id"], promise["data"]["amount"]) == (DOORSTEP_CASE, 10000)
    assert floor("verify").exit_code == 0


def test_with_the_phone_channel_on_too_each_list_has_its_own_outcome_form(floor: Project):
    text = floor.config.read_text(encoding="utf-8").replace('enabled = ["phone"]', 'enabled = ["doorstep", "phone"]')
    floor.config.write_text(text, encoding="utf-8")
    client = TestClient(app_for(floor, plugins=[ChannelsPlugin("doorstep"), InHouse()]))
    sign_in(client, "sam")
    page = client.get(f"/cases/{DOORSTEP_CASE}").text
    assert 'name="channel" value="doorstep"' in page and 'name="channel" value="phone"' in page
    assert "Log the outcome · Doorstep round" in page and "Log the outcome · Calls" in page
    day = client.get("/").text
    assert day.index("Doorstep round") < day.index("Calls")  # in channel order
    csrf = token(client, "/")
    # A phone outcome is refused by the phone list's own outcomes, beside the phone form only.
    answer = client.post(f"/cases/{DOORSTEP_CASE}/call", data={"channel": "phone", "outcome": "met", "csrf": csrf})
    assert answer.status_code == 422 and answer.text.count('id="call-outcome-error"') == 1
    phone_form = answer.text[answer.text.index('value="phone"'):]
    assert 'id="call-outcome-error">choose one of no_answer' in phone_form
    answer = client.post(f"/cases/{DOORSTEP_CASE}/call", data={"channel": "phone", "outcome": "no_answer",
                                                                "csrf": csrf}, follow_redirects=False)
    assert answer.status_code == 303
    assert re.search(r"call \d+ logged as no_answer", client.get(f"/cases/{DOORSTEP_CASE}").text)
    answer = client.post(f"/cases/{DOORSTEP_CASE}/call", data={"channel": "doorstep", "outcome": "met",
                                                                "csrf": csrf}, follow_redirects=False)
    assert answer.status_code == 303
    assert "doorstep visit recorded as met" in client.get(f"/cases/{DOORSTEP_CASE}").text
    answer = client.post(f"/cases/{DOORSTEP_CASE}/call", data={"channel": "fax", "outcome": "met", "csrf": csrf})
    assert answer.status_code == 422
