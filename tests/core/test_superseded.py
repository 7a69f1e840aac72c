"""Held back over a weekend or a night, a step's occurrence gives way to the next one: Monday calls each debtor once.

Through the CLI with the real phone channel (call tasks on the collectors'
list) and the real sms channel (HTTP to a gateway on 127.0.0.1).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import dunning.plugins.phone as phone_plugin
from dunning.cli import cli
from dunning.plugin_manager import LOAD_ENV
from dunning.plugins.phone.calls import CallTask
from dunning.plugins.phone.store import CallStore
from dunning.runtime import Runtime
from tests.conftest import Project
from tests.plugins.test_sms import Gateway



@pytest.fixture
def dunning_runtime(dunning_database: str | Path, dunning_runtime: Callable[..., Runtime]) -> Callable[..., Runtime]:
    """Every runtime here opens its store on SQLite, then (the test's second run) on PostgreSQL. The database is
    asked for first, so it outlives the runtimes: they are closed before it is dropped."""
    return functools.partial(dunning_runtime, database=dunning_database)


DUE = dt.date(2026, 3, 5)  # a Thursday: day 1 past due is Friday 6 March, day 4 Monday 9 March
FRIDAY, SATURDAY, SUNDAY, MONDAY = (DUE + dt.timedelta(days=n) for n in range(1, 5))

DAILY = """
name = "daily"

[[steps]]
name = "daily-reminder"
dpd = [1, 10]
channels = ["phone", "sms"]
template = "gentle-reminder"
"""

REQUIRED = DAILY.replace('channels = ["phone", "sms"]', 'channels = ["sms"]\nrequired = true')


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    g = Gateway()
    yield g
    g.close()


def setup(project: Project, gateway: Gateway, monkeypatch: pytest.MonkeyPatch, policy: str,
          working_days_only: str) -> dict[str, int]:
    monkeypatch.setenv(LOAD_ENV, "phone")
    phone_plugin.register_commands(cli=cli)  # what loading the entry point does; idempotent
    (project.folder / "policy.toml").write_text(policy, encoding="utf-8")
    project.write_config(policy="policy.toml", enabled=["phone", "sms"], extra=f"""
[channels.phone]
collectors = ["ann"]

[channels.sms]
url = "{gateway.url}"
sender_id = "Northwind"
username = "dunning"
password = "s3cret"

[compliance]
working_days_only = {working_days_only}
""")
    rows = [{"debtor_id": d, "name": f"Customer {d}", "kind": "person", "mobile": number, "country": "GB",
             "timezone": "Europe/London", "reference": f"{d}-1", "amount": "400.00", "currency": "GBP",
             "issued_on": "2026-02-01", "due_on": DUE.isoformat()}
            for d, number in (("A", "+44 7700 900123"), ("B", "+44 7700 900456"))]
    path = project.folder / "debts.json"
    path.write_text(json.dumps(rows), encoding="utf-8")
    project("import", str(path), now="2026-02-01T09:00:00+00:00")
    return {c["debtor_id"]: c["id"] for c in json.loads(project("cases", "list", "--json").stdout)}


def run(project: Project, day: dt.date, hour: int, minute: int = 0) -> dict[str, Any]:
    # London is on GMT until 29 March: these are local times too.
    moment = dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=dt.UTC).isoformat()
    return json.loads(project("run", "--now", moment, "--json").stdout)


def texts_on(gateway: Gateway, day: dt.date) -> list[str]:
    """The numbers texted, one entry per request, for occurrences of ``day`` (the key ends with the date)."""
    return [r.json()["to"] for r in gateway.requests if r.headers["Idempotency-Key"].endswith(day.isoformat())]


def events(project: Project, kind: str) -> list[dict[str, Any]]:
    return json.loads(project("events", "--kind", kind, "--json").stdout)


def test_weekend_calls_and_texts_give_way_to_mondays(project: Project, gateway: Gateway,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    cases = setup(project, gateway, monkeypatch, DAILY, '["phone", "sms"]')
    friday = run(project, FRIDAY, 10)
    assert (friday["sent"], friday["superseded"]) == (4, 0)
    saturday = run(project, SATURDAY, 10)
    assert (saturday["sent"], saturday["deferred"], saturday["superseded"]) == (0, 4, 0)
    assert saturday["deferred_by_rule"] == {"working_days:phone": 2, "working_days:sms": 2}
    # As if a run had stopped between writing the call task for Saturday's occurrence and recording it sent:
    # the task is on Saturday's list until the occurrence is superseded.
    saturday_key = f"{cases['A']}:daily-reminder:phone:{SATURDAY}"
    store = project.store()
    with store.transaction():
        CallStore(store.db).add_task(CallTask(key=saturday_key, case_id=cases["A"], debtor_id="A", due_on=SATURDAY,
                                        number="+447700900123", slot="morning", step="daily-reminder",
                                        template="gentle-reminder"), dt.datetime(2026, 3, 7, 10, tzinfo=dt.UTC))
    store.close()
    on_saturday = ("calls", "--date", SATURDAY.isoformat(), "--json")
    assert [r["key"] for r in json.loads(project(*on_saturday, now=f"{SATURDAY}T11:00:00+00:00").stdout)] \
        == [saturday_key]
    # Sunday's occurrence replaces Saturday's, still waiting for Monday; Monday's replaces Sunday's.
    sunday = run(project, SUNDAY, 10)
    assert (sunday["sent"], sunday["deferred"], sunday["superseded"]) == (0, 4, 4)
    assert json.loads(project(*on_saturday, now=f"{SUNDAY}T11:00:00+00:00").stdout) == []
    monday = run(project, MONDAY, 10)
    assert (monday["sent"], monday["superseded"]) == (4, 4)
    assert monday["missed"] == 0

    # Monday's call list: each debtor's number once, for Monday's occurrence.
    listed = json.loads(project("calls", "--date", MONDAY.isoformat(), "--json", now=f"{MONDAY}T10:30:00+00:00").stdout)
    assert sorted(row["case_id"] for row in listed) == sorted(cases.values())
    assert len({row["number"] for row in listed}) == 2
    # The gateway got one text per debtor on Monday, none for the weekend's occurrences.
    sent_monday = [r.json()["to"] for r in gateway.requests[2:]]
    assert Counter(sent_monday) == Counter({"+447700900123": 1, "+447700900456": 1})
    assert texts_on(gateway, SATURDAY) == texts_on(gateway, SUNDAY) == []

    superseded = events(project, "superseded")
    assert len(superseded) == 8
    by = {(e["case_id"], e["channel"], e["data"]["key"].rsplit(":", 1)[1]): e["data"]["by"] for e in superseded}
    for case_id in cases.values():
        for channel in ("phone", "sms"):
            assert by[(case_id, channel, SATURDAY.isoformat())] == f"{case_id}:daily-reminder:{channel}:{SUNDAY}"
            assert by[(case_id, channel, SUNDAY.isoformat())] == f"{case_id}:daily-reminder:{channel}:{MONDAY}"
    shown = json.loads(project("cases", "show", str(cases["A"]), "--json").stdout)
    assert not [a for a in shown["pending_actions"] if a["step"] == "daily-reminder"]
    assert "ok:" in project("verify").stdout


def test_texts_held_back_overnight_give_way_to_the_next_days(project: Project, gateway: Gateway,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    cases = setup(project, gateway, monkeypatch, DAILY, "[]")
    # The runner runs at 22:30, after the 21:00 end of the window: every occurrence waits for the morning,
    # and the next evening's occurrence replaces it before it could go.
    for day in (FRIDAY, SATURDAY, SUNDAY):
        summary = run(project, day, 22, 30)
        assert summary["sent"] == 0 and summary["deferred"] == 4
        assert summary["deferred_by_rule"] == {"window:phone": 2, "window:sms": 2}
        assert summary["superseded"] == (0 if day == FRIDAY else 4)
    monday = run(project, MONDAY, 9)
    assert (monday["sent"], monday["superseded"]) == (4, 4)
    assert Counter(r.json()["to"] for r in gateway.requests) == Counter({"+447700900123": 1, "+447700900456": 1})
    listed = json.loads(project("calls", "--date", MONDAY.isoformat(), "--json", now=f"{MONDAY}T10:00:00+00:00").stdout)
    assert Counter(row["case_id"] for row in listed) == Counter({cases["A"]: 1, cases["B"]: 1})
    assert len(events(project, "superseded")) == 12


def test_a_required_step_is_never_superseded(project: Project, gateway: Gateway,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    setup(project, gateway, monkeypatch, REQUIRED, '["sms"]')
    run(project, FRIDAY, 10)
    for day in (SATURDAY, SUNDAY):
        assert run(project, day, 10)["superseded"] == 0
    monday = run(project, MONDAY, 10)
    # Saturday's, Sunday's and Monday's required texts all go out on Monday.
    assert (monday["sent"], monday["superseded"]) == (6, 0)
    assert events(project, "superseded") == []
    assert len(texts_on(gateway, SATURDAY)) == len(texts_on(gateway, SUNDAY)) == 2


def test_the_run_summary_tells_what_was_missed_and_superseded(project: Project, gateway: Gateway,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    setup(project, gateway, monkeypatch, DAILY, '["phone", "sms"]')
    friday = project("run", "--now", f"{FRIDAY}T10:00:00+00:00").stdout
    assert friday.startswith("planned 4, sent 4, deferred 0,") and "missed" not in friday and "superseded" not in friday
    project("run", "--now", f"{SATURDAY}T10:00:00+00:00")
    # No run on Sunday: its occurrence is missed for both cases; Monday's supersedes Saturday's.
    monday = project("run", "--now", f"{MONDAY}T10:00:00+00:00").stdout
    assert monday.splitlines()[0] == ("planned 4, sent 4, deferred 0, blocked 0, failed 0, escalated 0, "
                                      "awaiting approval 0, skipped 0, missed 2, superseded 4")
    missed = events(project, "steps_missed")
    assert [m["data"]["steps"] for m in missed] == [[{"step": "daily-reminder", "dpd": 3}]] * 2
