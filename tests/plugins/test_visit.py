"""The visit channel end to end: a run makes tasks by area, `dunning visits` lists and logs them."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dunning import dispatch, hookimpl, templates
from dunning.cli import cli, load_plugin_commands
from dunning.models import Case, Contact, ContactKind, Debtor, DebtorKind, Obligation
from dunning.plugin_manager import LOAD_ENV
from dunning.plugins.visit.channel import VisitChannel, script_variables
from dunning.plugins.visit.store import MIGRATIONS
from dunning.store import ImportedObligation
from tests.conftest import Project, dump
from tests import runtime_on_both

# Every runtime this module's tests open: on a SQLite file, then on a PostgreSQL database.
dunning_runtime = runtime_on_both.dunning_runtime

UTC = dt.UTC
DPD31 = "2026-04-01T09:00:00+00:00"  # the first visit of trade-receivables for debts due 2026-03-01
LATER = "2026-04-01T15:00:00+00:00"

DEBTORS: list[dict[str, str]] = [
    {"debtor_id": "GB1", "name": "Whitehall Traders", "address": "10 Downing Street\nLondon\nSW1A 2AA",
     "country": "GB", "amount": "1200.00", "currency": "GBP"},
    {"debtor_id": "GB2", "name": "Palace Cafe", "address": "1 The Mall, London SW1A 1AA", "country": "GB",
     "amount": "300.00", "currency": "GBP"},
    {"debtor_id": "GB3", "name": "Northern Mills", "address": "5 Deansgate, Manchester M1 1AE", "country": "GB",
     "amount": "9000.00", "currency": "GBP"},
    {"debtor_id": "CN1", "name": "北京贸易有限公司", "address": "北京市朝阳区建国路88号 100022", "country": "CN",
     "amount": "50000.00", "currency": "CNY", "locale": "zh_CN"},
    {"debtor_id": "DE1", "name": "Berliner GmbH", "address": "Unter den Linden 5\n10117 Berlin", "country": "DE",
     "amount": "800.00", "currency": "EUR"},
    {"debtor_id": "NA1", "name": "Nowhere Ltd", "country": "GB", "amount": "700.00", "currency": "GBP"},
]


def _obligations(debtors: list[dict[str, str]]) -> list[dict[str, str]]:
    return [{"kind": "company", "email": f"ap@{d['debtor_id'].lower()}.example", "reference": f"INV-{d['debtor_id']}",
             "issued_on": "2026-02-01", "due_on": "2026-03-01", **d} for d in debtors]


@pytest.fixture
def visits_cli(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The plugin's commands on the CLI, and only this plugin loaded from the entry points."""
    monkeypatch.setenv(LOAD_ENV, "visit")
    before = cli.commands.get("visits")
    load_plugin_commands()
    yield
    if before is None:
        cli.commands.pop("visits", None)
    else:
        cli.commands["visits"] = before


def _project(tmp_path: Path, settings: str = "", policy: str = "trade-receivables",
             debtors: list[dict[str, str]] | None = None, database: str | Path | None = None) -> Project:
    """A project on ``database`` (as ``dunning_database`` gives it: a PostgreSQL URL, or the folder's file)."""
    project = Project(tmp_path, database if isinstance(database, str) else None)
    table = '[channels.visit]\ncompany = "Acme Supplies"\n' + settings + "\n"
    if "[channels.visit.collectors]" not in settings:
        table += '[channels.visit.collectors]\n"SW1A" = "ann"\n'
    project.write_config(policy=policy, enabled=["visit"], extra=table)
    data = tmp_path / "debts.json"
    data.write_text(json.dumps(_obligations(DEBTORS if debtors is None else debtors)), encoding="utf-8")
    project("import", str(data), now="2026-03-02T08:00:00+00:00")
    return project


@pytest.fixture
def project(tmp_path: Path, dunning_database: str | Path, visits_cli: None) -> Project:
    return _project(tmp_path, database=dunning_database)


@pytest.fixture
def visited(project: Project) -> Project:
    """A project after the DPD 31 run: one open first-visit task per debtor with an address."""
    project("run", "--now", DPD31)
    return project


def _json(project: Project, *args: str, now: str = LATER) -> Any:
    return json.loads(project(*args, "--json", now=now).stdout)


def _rows(project: Project, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    return project.sql(sql, params)


def _dump(project: Project) -> list[str]:
    return dump(project)


def _case_of(project: Project, debtor_id: str) -> int:
    return _rows(project, "SELECT id FROM cases WHERE debtor_id = ?", (debtor_id,))[0][0]


def _events(project: Project, kind: str, case_id: int | None = None) -> list[dict[str, Any]]:
    found = _json(project, "events", "--kind", kind)
    return [e for e in found if case_id is None or e["case_id"] == case_id]


# --- the run --------------------------------------------------------------------------------


def test_the_first_visit_run_makes_one_task_per_address_grouped_by_area(visited: Project):
    groups = _json(visited, "visits")
    assert [(g["area"], g["collector"], g["count"]) for g in groups] == [
        ("CN-1000", None, 1), ("DE-101", None, 1), ("M1", None, 1), ("SW1A", "ann", 2)]
    sw1a = groups[-1]["visits"]
    # Built-in priority: the larger balance first.
    assert [v["debtor_id"] for v in sw1a] == ["GB1", "GB2"]
    assert sw1a[0]["priority"] > sw1a[1]["priority"]
    first = sw1a[0]
    assert first["address"] == "10 Downing Street\nLondon\nSW1A 2AA"
    assert (first["balance"], first["currency"], first["dpd"], first["due_on"]) == ("1200.00", "GBP", 31, "2026-04-01")
    assert first["step"] == first["template"] == "first-visit"
    assert first["reasons"] == ["first payment missed", "lost contact"]
    assert first["reason"] == "first-visit; first payment missed; lost contact"

    tasks = _rows(visited, "SELECT id, key, case_id, area, status, collector FROM visit_tasks ORDER BY id")
    assert len(tasks) == 5  # Nowhere Ltd has no address: nothing to visit
    sent = {e["case_id"]: e for e in _events(visited, "sent") if e["channel"] == "visit"}
    for task_id, key, case_id, area, status, _collector in tasks:
        assert status == "open" and key == f"{case_id}:first-visit:visit:2026-04-01"
        assert sent[case_id]["data"]["reference"] == f"visit:{task_id}"
        assert sent[case_id]["data"]["area"] == area
    nowhere = _case_of(visited, "NA1")
    skipped = [e for e in _events(visited, "skipped", nowhere) if e["channel"] == "visit"]
    assert skipped[0]["data"]["reason"] == "no_contact"


def test_a_rerun_makes_no_second_task(visited: Project):
    before = _rows(visited, "SELECT * FROM visit_tasks ORDER BY id")
    assert _json(visited, "run", "--now", DPD31)["sent"] == 0
    assert _json(visited, "run", "--now", "2026-04-02T09:00:00+00:00")["sent"] == 0
    assert _rows(visited, "SELECT * FROM visit_tasks ORDER BY id") == before


def test_a_resend_after_a_crash_finds_the_task_the_first_attempt_made(dunning_runtime):
    class CrashAfterWriting(VisitChannel):
        """Makes the task, then dies before the core can record the delivery."""

        crashes = 1

        def send(self, action: Any, case: Any, ctx: Any) -> Any:
            delivery = super().send(action, case, ctx)
            if self.crashes:
                self.crashes -= 1
                raise ConnectionResetError("process killed")
            return delivery

    class Plugin:
        plugin_name = "visit"

        @hookimpl
        def register_channels(self, register: Any) -> None:
            register(CrashAfterWriting())

        @hookimpl
        def register_migrations(self, register: Any) -> None:
            for name, step in MIGRATIONS:
                register(name, step)

    policy = '[[steps]]\nname = "first-visit"\ndpd = 31\nchannels = ["visit"]\ntemplate = "first-visit"\n'
    rt = dunning_runtime(plugins=[Plugin()], policy=f'name = "visits"\n{policy}', enabled=["visit"])
    debtor = Debtor(id="GB1", name="Whitehall Traders", kind=DebtorKind.COMPANY, country="GB")
    item = ImportedObligation(
        debtor=debtor,
        contacts=[Contact("GB1", ContactKind.POSTAL, "1 The Mall, London SW1A 1AA")],
        reference="INV-1",
        amount=120000,
        currency="GBP",
        issued_on=None,
        due_on=dt.date(2026, 3, 1),
    )
    rt.store.import_obligations([item], dt.datetime(2026, 3, 2, tzinfo=UTC), dt.date(2026, 3, 2))
    first = dispatch.run(rt, dt.datetime(2026, 4, 1, 9, tzinfo=UTC))
    assert (first.sent, first.failed) == (0, 1)
    second = dispatch.run(rt, dt.datetime(2026, 4, 1, 12, tzinfo=UTC))  # after the retry wait
    assert second.sent == 1
    rows = list(rt.store.db.query("SELECT id, area FROM visit_tasks"))
    assert rows == [{"id": 1, "area": "SW1A"}]
    [sent] = rt.store.events(kind="sent")
    assert sent.data["reference"] == "visit:1" and sent.data["task_id"] == 1


# --- listing --------------------------------------------------------------------------------


def test_visits_filters_by_area_and_day(visited: Project):
    [only] = _json(visited, "visits", "--area", "sw1a")
    assert only["area"] == "SW1A" and [v["debtor_id"] for v in only["visits"]] == ["GB1", "GB2"]
    assert _json(visited, "visits", "--area", "nowhere") == []
    assert _json(visited, "visits", "--date", "2026-03-31") == []
    assert len(_json(visited, "visits", "--date", "2026-03-31", "--all")) == 4
    text = visited("visits", "--area", "SW1A", now=LATER).stdout
    assert "SW1A, collector ann: 2 visits" in text
    assert "10 Downing Street, London, SW1A 2AA" in text and "GBP 1,200.00" in text
    assert visited("visits", "--date", "2026-03-31", now=LATER).stdout == "no open visits due by 2026-03-31\n"


def test_the_case_priority_hook_orders_each_area(visited: Project, register_plugin):
    class SmallestFirst:
        plugin_name = "smallest-first"

        @hookimpl
        def case_priority(self, case: Case) -> float:
            return -case.balance / 100

    register_plugin(SmallestFirst())
    [sw1a] = _json(visited, "visits", "--area", "SW1A")
    assert [(v["debtor_id"], v["priority"]) for v in sw1a["visits"]] == [("GB2", -300.0), ("GB1", -1200.0)]


def test_resolved_and_held_cases_leave_the_list(visited: Project):
    gb2 = _case_of(visited, "GB2")
    visited("hold", str(gb2), "--reason", "dispute", now=LATER)
    [sw1a] = _json(visited, "visits", "--area", "SW1A")
    assert [v["debtor_id"] for v in sw1a["visits"]] == ["GB1"]
    visited("pay", str(_case_of(visited, "GB1")), "1200.00", now=LATER)
    assert _json(visited, "visits", "--area", "SW1A") == []


def test_city_mode_groups_by_city(tmp_path: Path, dunning_database: str | Path, visits_cli: None):
    project = _project(tmp_path, settings='area_by = "city"\n[channels.visit.collectors]\n"London" = "ann"\n',
                       database=dunning_database)
    project("run", "--now", DPD31)
    groups = _json(project, "visits")
    assert [(g["area"], g["count"], g["collector"]) for g in groups] == [
        ("Berlin", 1, None), ("London", 2, "ann"), ("Manchester", 1, None), ("北京市", 1, None)]


# --- logging a visit ----------------------------------------------------------------------------


def _task(project: Project, case_id: int) -> tuple[Any, ...]:
    return _rows(project, "SELECT id, status, outcome, note, collector, visited_at FROM visit_tasks "
                          "WHERE case_id = ? ORDER BY id", (case_id,))[0]


def _signals(project: Project, case_id: int) -> list[tuple[str, str, str | None]]:
    return _rows(project, "SELECT kind, source, note FROM signals WHERE case_id = ? ORDER BY id", (case_id,))


def test_moved_records_a_relocation_signal_and_the_visit_event(visited: Project):
    case = _case_of(visited, "GB1")
    out = visited("visits", "log", str(case), "--outcome", "moved", "--note", "unit empty, new tenant",
                  "--collector", "bo", now=LATER).stdout
    assert "visit logged (moved)" in out and "relocation signal recorded" in out
    task_id, status, outcome, note, collector, visited_at = _task(visited, case)
    assert (status, outcome, note, collector) == ("done", "moved", "unit empty, new tenant", "bo")
    assert visited_at.startswith("2026-04-01T15:00")
    assert _signals(visited, case) == [("relocation", "visit", "unit empty, new tenant")]
    [event] = _events(visited, "visit:logged", case)
    assert event["channel"] == "visit" and event["step"] == "first-visit"
    assert {k: event["data"][k] for k in ("outcome", "area", "note", "collector", "task_id", "closed", "adhoc")} == {
        "outcome": "moved", "area": "SW1A", "note": "unit empty, new tenant", "collector": "bo", "task_id": task_id,
        "closed": False, "adhoc": False}
    assert event["data"]["address"] == "10 Downing Street, London, SW1A 2AA"  # one line, as listings show it
    [sw1a] = _json(visited, "visits", "--area", "SW1A")
    assert [v["debtor_id"] for v in sw1a["visits"]] == ["GB2"]  # done tasks leave the list
    # The old address is marked bad, so no letter or visit goes there again.
    assert _rows(visited, "SELECT c.bad, c.bad_reason FROM contacts c JOIN cases k ON k.debtor_id = c.debtor_id "
                          "WHERE k.id = ? AND c.kind = 'postal'", (case,)) == [(1, "moved (visit)")]
    [marked] = _events(visited, "contact_marked_bad", case)
    assert marked["data"]["source"] == "visit"


def test_closed_premises_record_a_business_closed_signal(visited: Project):
    case = _case_of(visited, "DE1")
    visited("visits", "log", str(case), "--outcome", "not_found", "--closed", "--note", "shutters down", now=LATER)
    assert _signals(visited, case) == [("business_closed", "visit", "shutters down")]
    [event] = _events(visited, "visit:logged", case)
    assert (event["data"]["outcome"], event["data"]["closed"], event["data"]["area"]) == ("not_found", True, "DE-101")


def test_not_found_records_the_visit_only(visited: Project):
    case = _case_of(visited, "GB3")
    result = _json(visited, "visits", "log", str(case), "--outcome", "not_found")
    assert (result["outcome"], result["signals"], result["payment"], result["promise_id"]) == (
        "not_found",
        [],
        None,
        None,
    )
    assert _signals(visited, case) == []
    assert _task(visited, case)[1:3] == ("done", "not_found")
    assert [e["data"]["outcome"] for e in _events(visited, "visit:logged", case)] == ["not_found"]


def test_a_promise_made_on_site(visited: Project):
    case = _case_of(visited, "CN1")
    result = _json(visited, "visits", "log", str(case), "--outcome", "promise", "--promise", "20000",
                   "--due", "2026-04-03T12:00")
    assert result["promise_id"] is not None
    promises = _rows(visited, "SELECT amount, due_at, status FROM promises WHERE case_id = ?", (case,))
    assert promises == [(2000000, "2026-04-03T12:00:00Z", "pending")]
    assert [e["data"]["promise_id"] for e in _events(visited, "promise", case)] == [result["promise_id"]]
    assert _task(visited, case)[1:3] == ("done", "promise")


def test_a_promise_past_the_limit_needs_a_supervisor(visited: Project):
    case = _case_of(visited, "DE1")
    before = _dump(visited)
    args = ["visits", "log", str(case), "--outcome", "promise", "--promise", "800", "--due", "2026-04-10T12:00"]
    refused = visited(*args, now=LATER, expect=1)
    assert "--approved-by" in refused.output
    assert _dump(visited) == before
    result = _json(visited, *args, "--approved-by", "Sam")
    [promise] = _events(visited, "promise", case)
    assert (promise["data"]["promise_id"], promise["data"]["approved_by"]) == (result["promise_id"], "Sam")


def test_paid_on_site_records_the_payment_against_the_task(visited: Project):
    case = _case_of(visited, "GB1")
    task_id = _task(visited, case)[0]
    result = _json(visited, "visits", "log", str(case), "--outcome", "paid", "--amount", "200.00")
    assert result["payment"] == {"amount": "200.00", "balance_after": "1000.00", "case_status": "open"}
    assert _rows(visited, "SELECT amount, reference FROM payments WHERE case_id = ?", (case,)) == [
        (20000, f"visit:{task_id}")]
    assert _json(visited, "cases", "show", str(case))["balance"] == "1000.00"


def test_paid_in_full_at_premises_that_are_closing(visited: Project):
    case = _case_of(visited, "DE1")
    result = _json(visited, "visits", "log", str(case), "--outcome", "paid", "--amount", "800.00", "--closed",
                   "--note", "owner closing down, paid in cash")
    assert [s["signal"] for s in result["signals"]] == ["business_closed"]
    assert result["payment"] == {"amount": "800.00", "balance_after": "0.00", "case_status": "paid"}
    kinds = [e["kind"] for e in _json(visited, "events", "--case", str(case)) if e["at"].startswith("2026-04-01T15")]
    # The preset sends a closing business to legal review at once; the full payment then ends the case.
    assert kinds[:2] == ["visit:logged", "signal"] and "escalation_triggered" in kinds
    assert kinds.index("payment") < kinds.index("resolved")


def test_a_visit_without_an_open_task_is_an_ad_hoc_record(visited: Project):
    case = _case_of(visited, "GB2")
    visited("visits", "log", str(case), "--outcome", "refused", now=LATER)
    result = _json(visited, "visits", "log", str(case), "--outcome", "paid", "--amount", "300.00",
                   now="2026-04-02T11:00:00+00:00")
    assert result["adhoc"] is True and result["area"] == "SW1A"
    assert result["payment"]["case_status"] == "paid"
    rows = _rows(visited, "SELECT key IS NULL, step, status, outcome FROM visit_tasks WHERE case_id = ? ORDER BY id",
                 (case,))
    assert rows == [(0, "first-visit", "done", "refused"), (1, "ad-hoc", "done", "paid")]
    logged = _events(visited, "visit:logged", case)
    assert [(e["data"]["adhoc"], e["step"]) for e in logged] == [(False, "first-visit"), (True, None)]


@pytest.mark.parametrize("args, message", [
    (["999", "--outcome", "met"], "no case with id 999"),
    (["abc", "--outcome", "met"], "case id must be a number"),
    (["{case}", "--outcome", "paid", "--amount", "5000.00"], "more than the balance"),
    (["{case}", "--outcome", "paid"], "needs --amount"),
    (["{case}", "--outcome", "promise", "--promise", "100", "--due", "2026-03-01T10:00"], "due in the future"),
    (["{case}", "--outcome", "moved", "--amount", "10"], "--amount goes with"),
])
def test_a_refused_log_leaves_the_store_unchanged(visited: Project, args: list[str], message: str):
    case = _case_of(visited, "GB2")
    before = _dump(visited)
    result = visited("visits", "log", *[a.format(case=case) for a in args], now=LATER, expect=None)
    assert result.exit_code == 1, result.output
    assert message in result.output
    assert _dump(visited) == before


def test_a_log_on_a_resolved_case_that_implies_a_signal_is_refused_whole(visited: Project):
    case = _case_of(visited, "GB2")
    visited("pay", str(case), "300.00", now=LATER)
    before = _dump(visited)
    result = visited("visits", "log", str(case), "--outcome", "moved", now=LATER, expect=1)
    assert "not open" in result.output
    assert _dump(visited) == before


# --- the route sheet and the scripts ---------------------------------------------------------


def test_the_route_sheet_prints_addresses_amounts_and_the_script_in_the_debtors_language(visited: Project):
    sheet = visited("visits", "sheet", "--area", "SW1A", now=LATER).stdout
    assert sheet.startswith("VISIT ROUTE SHEET  area SW1A  collector ann\nvisits due by 2026-04-01: 2\n")
    assert sheet.index("Whitehall Traders") < sheet.index("Palace Cafe")
    assert "10 Downing Street" in sheet and "SW1A 2AA" in sheet and "GBP 1,200.00, 31 days past due" in sheet
    assert "FIRST VISIT: Whitehall Traders" in sheet and "my name is ann from Acme Supplies" in sheet
    assert "INV-GB1, due 2026-03-01: GBP 1,200.00 open" in sheet
    chinese = visited("visits", "sheet", "--area", "CN-1000", now=LATER).stdout
    assert "首次上门拜访：北京贸易有限公司" in chinese and "CNY 50,000.00" in chinese
    everything = visited("visits", "sheet", now=LATER).stdout
    assert everything.count("\f") == 3 and everything.count("VISIT ROUTE SHEET") == 4
    assert visited("visits", "sheet", "--area", "SW1A", "--date", "2026-03-31", now=LATER).stdout == (
        "no open visits due by 2026-03-31 in area SW1A\n")


def test_the_second_visit_comes_at_dpd_61(project: Project):
    project("run", "--now", DPD31)
    project("run", "--now", "2026-05-01T09:00:00+00:00")  # a Friday, a working day in England
    groups = _json(project, "visits", "--area", "M1", now="2026-05-01T10:00:00+00:00")
    assert [v["step"] for v in groups[0]["visits"]] == ["first-visit", "second-visit"]
    sheet = project("visits", "sheet", "--area", "M1", now="2026-05-01T10:00:00+00:00").stdout
    assert "SECOND VISIT: Northern Mills" in sheet and "overdue for 61 days" in sheet
    # One visit answers both requests.
    case = _case_of(project, "GB3")
    result = _json(project, "visits", "log", str(case), "--outcome", "met", now="2026-05-01T12:00:00+00:00")
    assert len(result["task_ids"]) == 2
    assert _json(project, "visits", "--area", "M1", now="2026-05-01T12:00:00+00:00") == []


def test_home_visits_for_consumer_loans(tmp_path: Path, dunning_database: str | Path, visits_cli: None):
    borrowers = [{"debtor_id": "P1", "name": "Li Wei", "address": "上海市浦东新区世纪大道100号 200120", "country": "CN",
                  "amount": "3000.00", "currency": "CNY", "locale": "zh_CN"},
                 {"debtor_id": "P2", "name": "Jane Doe", "address": "4 Rose Lane, Leeds LS1 4AP", "country": "GB",
                  "amount": "450.00", "currency": "GBP"}]
    project = _project(tmp_path, policy="consumer-loans", debtors=[b | {"kind": "person"} for b in borrowers],
                       database=dunning_database)
    project("run", "--now", DPD31)
    groups = _json(project, "visits")
    assert [(g["area"], g["visits"][0]["template"]) for g in groups] == [
        ("CN-2001", "home-visit"),
        ("LS1", "home-visit"),
    ]
    sheet = project("visits", "sheet", now=LATER).stdout
    assert "上门家访：Li Wei" in sheet and "HOME VISIT: Jane Doe" in sheet


TEMPLATE_NAMES = ("first-visit", "second-visit", "home-visit")


@pytest.mark.parametrize("locale", [None, "zh_CN"])
@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_every_script_renders_in_both_languages(name: str, locale: str | None):
    env = templates.environment("dunning.plugins.visit", None, "visit")
    debtor = Debtor(id="D1", name="Harbour Foods Ltd", kind=DebtorKind.COMPANY, country="GB", locale=locale)
    case = Case(id=42, debtor_id="D1", currency="GBP", balance=123450, anchor_due_on=dt.date(2026, 3, 1))
    obligation = Obligation(case_id=42, reference="INV-77", amount=123450, currency="GBP", issued_on=None,
                            due_on=dt.date(2026, 3, 1))
    context = templates.case_context(case, debtor, [obligation], 31, dt.date(2026, 4, 1),
                                     {"step": name, "options": {}, "sender": {}})
    context |= script_variables(address="1 Quay St, Bristol BS1 4DJ", area="BS1", collector="Sam",
                                due_on=dt.date(2026, 4, 1), settings={"company": "Acme Supplies"})
    text = templates.render(env, name, "txt", context)
    assert "Harbour Foods Ltd" in text and "GBP 1,234.50" in text and "INV-77" in text and " 31 " in text
    assert "Sam" in text and "Acme Supplies" in text
    assert "dunning visits log 42 --outcome" in text
    is_chinese = any("\u4e00" <= ch <= "\u9fff" for ch in text)
    assert is_chinese == (locale == "zh_CN")


# --- configuration --------------------------------------------------------------------------------


def test_bad_settings_stop_the_command_naming_the_key(tmp_path: Path, visits_cli: None):
    project = Project(tmp_path)
    project.write_config(enabled=["visit"], extra='[channels.visit]\narea_by = "county"\n')
    project.db.unlink()  # a refused command creates no database either
    result = project("run", "--now", DPD31, expect=1)
    assert "channels.visit: 'area_by' must be one of 'postal_district', 'city', got 'county'" in result.output
    assert not project.db.exists()


def test_visits_needs_the_channel_enabled(tmp_path: Path, visits_cli: None):
    project = Project(tmp_path)
    project.write_config(enabled=[])
    result = project("visits", expect=1)
    assert 'the visit channel is not enabled' in result.output and "[channels] enabled" in result.output


def test_every_command_explains_itself(visited: Project):
    for args in (["visits"], ["visits", "log"], ["visits", "sheet"]):
        out = visited(*args, "--help").stdout
        assert "--help" in out and len(out.splitlines()) > 5
    assert "--json" in visited("visits", "--help").stdout


def test_a_visit_counts_as_a_contact_attempt_and_meeting_the_debtor_as_a_conversation(visited: Project):
    case = _case_of(visited, "GB1")
    visited("visits", "log", str(case), "--outcome", "met", "--note", "owner on site", now=LATER)
    rows = _rows(visited, "SELECT channel, connected, outcome FROM contact_attempts WHERE case_id = ?", (case,))
    assert rows == [("visit", 1, "met")]
    assert _rows(visited, "SELECT last_contact_on FROM cases WHERE id = ?", (case,)) == [("2026-04-01",)]


# --- what is workable ---------------------------------------------------------------------------

MAY = "2026-05-04T10:00:00+00:00"


def test_visits_of_cases_that_moved_on_leave_the_list_and_all_says_why(visited: Project):
    """Found as a new user: the July list held January's visits, most of them for cases in litigation."""
    gb1, gb2, gb3, de1, cn1 = (_case_of(visited, d) for d in ("GB1", "GB2", "GB3", "DE1", "CN1"))
    visited("escalate", str(gb1), "--to", "agency", "--reason", "placed", now=MAY)
    visited("hold", str(gb2), "--reason", "dispute", now=MAY)
    visited("escalate", str(gb3), "--to", "litigation", "--reason", "claim filed", "--force", "--by", "Jo Director",
            now=MAY)
    visited("pay", str(de1), "800.00", now=MAY)

    workable = _json(visited, "visits", now=MAY)
    assert [v["case_id"] for g in workable for v in g["visits"]] == [cn1]
    assert all(v["workable"] and v["not_workable"] is None for g in workable for v in g["visits"])

    everything = {v["case_id"]: v for g in _json(visited, "visits", "--all", now=MAY) for v in g["visits"]}
    assert {case: v["not_workable"] for case, v in everything.items()} == {
        cn1: None,
        gb1: "placed with an agency since 2026-05-04",
        gb2: "case on hold (dispute)",
        gb3: "case moved to litigation on 2026-05-04, after the visit was planned on 2026-04-01",
        de1: "case resolved (paid) on 2026-05-04",
    }
    assert [case for case, v in everything.items() if v["workable"]] == [cn1]
    text = visited("visits", "--all", "--area", "SW1A", now=MAY).stdout
    assert "SW1A, collector ann: 0 visits to make, 2 not workable" in text
    assert "no: placed with an agency since 2026-05-04" in text and "no: case on hold (dispute)" in text
    # The route sheet carries only the visits to make.
    assert "Northern Mills" not in visited("visits", "sheet", "--date", "2026-05-04", now=MAY).stdout


def test_a_visit_comes_back_when_the_hold_is_lifted_and_the_task_was_never_closed(visited: Project):
    gb2 = _case_of(visited, "GB2")
    visited("hold", str(gb2), "--reason", "other", "--note", "asked for a week", now=MAY)
    assert gb2 not in [v["case_id"] for g in _json(visited, "visits", now=MAY) for v in g["visits"]]
    visited("release", str(gb2), "--by", "sue", now=MAY)
    assert gb2 in [v["case_id"] for g in _json(visited, "visits", now=MAY) for v in g["visits"]]
    assert _rows(visited, "SELECT count(*) FROM visit_tasks WHERE case_id = ? AND status = 'open'", (gb2,)) == [(1,)]


def test_the_visit_planned_in_the_run_that_moves_the_case_on_site_is_workable(visited: Project):
    stage_changes = _events(visited, "stage_changed")
    assert stage_changes and all(e["data"]["to"] == "onsite" for e in stage_changes)
    assert len([v for g in _json(visited, "visits") for v in g["visits"] if v["workable"]]) == 5
