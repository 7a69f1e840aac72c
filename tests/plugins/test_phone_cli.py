"""``dunning calls``: the list in priority order, scripts, logging outcomes and their effects, export."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

import dunning.plugins.phone as phone_plugin
from dunning import hookimpl
from dunning.cli import cli
from tests.conftest import Project


# trade-receivables: due 1 March, the first overdue notice (email + phone) on Monday 2 March.
DPD1 = "2026-03-02T09:00:00+00:00"
DPD3 = "2026-03-04T09:00:00+00:00"
# consumer-loans: due 26 February; days past due 6 is Wednesday 4 March.
LOAN_DPD6 = "2026-03-04T20:00:00+00:00"


@pytest.fixture
def calls_project(project: Project, monkeypatch: pytest.MonkeyPatch) -> Project:
    monkeypatch.setenv("DUNNING_LOAD_PLUGINS", "phone")
    phone_plugin.register_commands(cli=cli)  # what loading the entry point does; idempotent
    return project


def setup(project: Project, rows: list[dict[str, Any]], policy: str = "trade-receivables",
          collectors: list[str] | None = None) -> dict[str, int]:
    """Write the config, import ``rows``, and return case ids by debtor id."""
    roster = ", ".join(f'"{c}"' for c in (collectors or []))
    project.write_config(policy=policy, enabled=["phone"], extra=f"\n[channels.phone]\ncollectors = [{roster}]\n"
                                                                   'company = "Northwind Credit"\n')
    path = project.folder / "debts.json"
    path.write_text(json.dumps(rows), encoding="utf-8")
    project("import", str(path), now="2026-02-01T09:00:00+00:00")
    cases = json.loads(project("cases", "list", "--json").stdout)
    return {c["debtor_id"]: c["id"] for c in cases}


def debtor(debtor_id: str, amount: str = "1200.00", due_on: str = "2026-03-01", **extra: Any) -> dict[str, Any]:
    return {"debtor_id": debtor_id, "name": f"Customer {debtor_id}", "kind": "company", "mobile": "+44 7700 900123",
            "country": "GB", "timezone": "Europe/London", "reference": f"{debtor_id}-INV", "amount": amount,
            "currency": "EUR", "issued_on": "2026-02-01", "due_on": due_on} | extra


def listing(project: Project, *args: str, now: str = DPD1) -> list[dict[str, Any]]:
    return json.loads(project("calls", "--json", *args, now=now).stdout)


def query(project: Project, sql: str, *params: Any) -> list[tuple]:
    return project.sql(sql, params)


def events(project: Project, kind: str) -> list[dict[str, Any]]:
    return json.loads(project("events", "--kind", kind, "--json").stdout)


# --- the list ---------------------------------------------------------------------


def test_a_first_instalment_default_comes_before_a_larger_balance(calls_project: Project):
    ids = setup(calls_project, [debtor("BIG", "5100.00"), debtor("SMALL", "1200.00")], collectors=["ann", "bob"])
    calls_project("pay", str(ids["BIG"]), "100.00", now="2026-03-01T10:00:00+00:00")
    calls_project("run", now=DPD1)
    rows = listing(calls_project)
    assert [r["case_id"] for r in rows] == [ids["SMALL"], ids["BIG"]]
    small, big = rows
    assert small["reasons"] == ["first payment missed", "overdue-notice"]
    assert big["reasons"] == ["partial payer", "overdue-notice"]
    assert small["priority"] > big["priority"]
    assert (small["number"], small["kind"], small["dpd"]) == ("+447700900123", "mobile", 1)
    assert (small["balance"], big["balance"]) == ("EUR 1,200.00", "EUR 5,000.00")
    assert small["slot"] in ("morning", "afternoon")
    assert small["collector"] == ["ann", "bob"][ids["SMALL"] % 2]
    assert small["debtor_name"] == "Customer SMALL"
    table = calls_project("calls", now=DPD1).stdout
    assert table.splitlines()[0].split()[:5] == ["case", "call", "debtor", "number", "kind"]
    assert "first payment missed; overdue-notice" in table


def test_a_promise_due_today_moves_a_case_to_the_top(calls_project: Project):
    loans = [debtor("L-BIG", "3000.00", "2026-02-26", kind="person"),
             debtor("L-SMALL", "400.00", "2026-02-26", kind="person")]
    ids = setup(calls_project, loans, policy="consumer-loans")
    calls_project("run", now=LOAN_DPD6)
    before = listing(calls_project, now=LOAN_DPD6)
    assert before[0]["case_id"] == ids["L-BIG"]
    assert [r["slot"] for r in before if r["case_id"] == ids["L-SMALL"]] == ["morning", "afternoon", "evening"]
    calls_project("calls", "log", str(ids["L-SMALL"]), "--outcome", "promise", "--promise", "400",
                  "--due", "2026-03-04T22:30", now="2026-03-04T20:05:00+00:00")
    after = listing(calls_project, now="2026-03-04T20:10:00+00:00")
    assert after[0]["case_id"] == ids["L-SMALL"]
    assert after[0]["reasons"] == ["first payment missed",
                                   "promise of EUR 400.00 due 22:30: call 21:30 to remind, 23:30 to check"]
    # The call the promise was made on is done; one row, on the next open call of the day, stands for the
    # reminder and the check.
    mine = [r for r in after if r["case_id"] == ids["L-SMALL"]]
    assert [(r["slot"], r["step"], r["call_at"], r["promise_id"]) for r in mine] == [
        ("evening", "promise-check", ["21:30", "23:30"], 1)]
    assert mine[0]["call_id"] == query(calls_project, "SELECT min(id) FROM phone_calls WHERE case_id = ? AND "
                                                      "status = 'open'", ids["L-SMALL"])[0][0]


def test_a_promise_due_today_is_first_on_the_list_although_its_reminders_were_paused(calls_project: Project):
    """Found as a new user: a promise paused the case's reminders, so on the promised day nobody called."""
    ids = setup(calls_project, [debtor("L-BIG", "3000.00", "2026-02-26", kind="person"),
                                debtor("L1", "400.00", "2026-02-26", kind="person")], policy="consumer-loans")
    calls_project("run", now=LOAN_DPD6)
    calls_project("calls", "log", str(ids["L1"]), "--outcome", "promise", "--promise", "400",
                  "--due", "2026-03-05T12:00", now="2026-03-04T20:05:00+00:00")
    calls_project("run", now="2026-03-05T10:00:00+00:00")
    # The promise paused the day's ordinary calls: the run made none for L1.
    assert query(calls_project, "SELECT count(*) FROM phone_calls WHERE case_id = ? AND due_on = '2026-03-05'",
                 ids["L1"]) == [(0,)]
    skipped = [e for e in events(calls_project, "skipped") if e["case_id"] == ids["L1"]]
    assert "promise_pending" in {e["data"]["reason"] for e in skipped if e["at"] == "2026-03-05T10:00:00Z"}

    rows = listing(calls_project, now="2026-03-05T10:05:00+00:00")
    first = rows[0]
    assert (first["case_id"], first["step"], first["promise_id"], first["call_at"]) == (
        ids["L1"], "promise-check", 1, ["11:00", "13:00"])
    assert first["reasons"][-1] == "promise of EUR 400.00 due 12:00: call 11:00 to remind, 13:00 to check"
    assert (first["number"], first["slot"], first["call_id"]) == ("+447700900123", "morning", 0)
    assert ids["L-BIG"] in [r["case_id"] for r in rows[1:]]
    table = calls_project("calls", now="2026-03-05T10:05:00+00:00").stdout.splitlines()
    assert table[1].split()[0] == str(ids["L1"]) and "call 11:00 to remind, 13:00 to check" in table[1]

    # Logged from the list, the call is recorded on the case (nobody planned it as a task).
    out = calls_project("calls", "log", str(ids["L1"]), "--outcome", "right_party", now="2026-03-05T11:00:00+00:00")
    assert "logged as right_party (not on the list)" in out.stdout
    # Not paid an hour after the promised time: the run breaks the promise; the row stays, to ask why.
    calls_project("run", now="2026-03-05T13:00:00+00:00")
    [broken] = [r for r in listing(calls_project, now="2026-03-05T13:05:00+00:00") if r["case_id"] == ids["L1"]]
    assert broken["reasons"][-1] == "promise of EUR 400.00 due 12:00 not kept: call to ask why"
    assert listing(calls_project, now="2026-03-05T13:05:00+00:00")[0]["case_id"] == ids["L1"]


def test_a_promise_kept_takes_the_check_call_off_the_list(calls_project: Project):
    ids = setup(calls_project, [debtor("L1", "400.00", "2026-02-26", kind="person")], policy="consumer-loans")
    calls_project("run", now=LOAN_DPD6)
    calls_project("calls", "log", str(ids["L1"]), "--outcome", "promise", "--promise", "400",
                  "--due", "2026-03-05T12:00", now="2026-03-04T20:05:00+00:00")
    assert [r["step"] for r in listing(calls_project, now="2026-03-05T08:00:00+00:00")] == ["promise-check"]
    calls_project("pay", str(ids["L1"]), "400.00", now="2026-03-05T10:00:00+00:00")
    assert listing(calls_project, now="2026-03-05T10:05:00+00:00") == []


def test_a_promise_for_a_later_day_takes_the_cases_calls_off_the_list(calls_project: Project):
    ids = setup(calls_project, [debtor("L1", "400.00", "2026-02-26", kind="person")], policy="consumer-loans")
    calls_project("run", now=LOAN_DPD6)
    calls_project("calls", "log", str(ids["L1"]), "--outcome", "promise", "--promise", "400",
                  "--due", "2026-03-05T12:00", now="2026-03-04T20:05:00+00:00")
    assert listing(calls_project, now="2026-03-04T20:10:00+00:00") == []
    # The tasks stay open in the table: the list leaves them out while the promise stands.
    assert query(calls_project, "SELECT count(*) FROM phone_calls WHERE status = 'open'") == [(2,)]


def test_a_plugins_case_priority_decides_the_order(calls_project: Project, register_plugin):
    ids = setup(calls_project, [debtor("BIG", "5100.00"), debtor("SMALL", "1200.00")])
    calls_project("pay", str(ids["BIG"]), "100.00", now="2026-03-01T10:00:00+00:00")
    calls_project("run", now=DPD1)

    class BalanceFirst:
        plugin_name = "balance-first"

        @hookimpl
        def case_priority(self, case):
            return float(case.balance)

    register_plugin(BalanceFirst())
    rows = listing(calls_project)
    assert [r["case_id"] for r in rows] == [ids["BIG"], ids["SMALL"]]
    assert rows[0]["priority"] == 500000.0


def test_the_list_is_one_collectors_or_one_days(calls_project: Project):
    ids = setup(calls_project, [debtor(f"C{i}") for i in range(4)], collectors=["ann", "bob"])
    calls_project("run", now=DPD1)
    ann = listing(calls_project, "--collector", "ann")
    assert ann and {r["collector"] for r in ann} == {"ann"}
    assert {r["case_id"] for r in ann} == {i for i in ids.values() if i % 2 == 0}
    assert listing(calls_project, "--date", "2026-03-03") == []
    assert len(listing(calls_project, "--date", "2026-03-02", now="2026-03-05T09:00:00+00:00")) == 4


def test_a_rerun_adds_no_calls(calls_project: Project):
    setup(calls_project, [debtor("A"), debtor("B")])
    calls_project("run", now=DPD1)
    calls_project("run", now=DPD1)
    calls_project("run", now="2026-03-02T15:00:00+00:00")
    assert len(listing(calls_project)) == 2
    assert query(calls_project, "SELECT count(*) FROM phone_calls") == [(2,)]


def test_calls_needs_the_phone_channel(calls_project: Project):
    calls_project.write_config(enabled=[])
    result = calls_project("calls", expect=1)
    assert 'the phone channel is not enabled: add "phone" to [channels] enabled' in result.output


# --- scripts ---------------------------------------------------------------------


def test_the_script_in_english(calls_project: Project):
    ids = setup(calls_project, [debtor("ACME", name="Acme Trading Ltd")], collectors=["ann"])
    calls_project("run", now=DPD1)
    text = calls_project("calls", "script", str(ids["ACME"]), now=DPD1).stdout
    assert "Acme Trading Ltd" in text and "+447700900123" in text
    assert "this is ann from Northwind Credit" in text
    assert "EUR 1,200.00" in text and "1 day past its due date" in text
    assert "invoice ACME-INV, due 2026-03-01, EUR 1,200.00 open" in text
    for excuse in ("I have no money right now", "travelling on business", "lent the money to a friend",
                   "I've already paid", "broke a promise before"):
        assert excuse in text
    assert f"dunning calls log {ids['ACME']} --outcome promise" in text


def test_the_script_in_chinese_for_a_chinese_speaking_debtor(calls_project: Project):
    ids = setup(calls_project, [debtor("ZH", name="华南贸易有限公司", locale="zh_CN", mobile="+86 138 0013 8000",
                                       country="CN", timezone="Asia/Shanghai")], collectors=["ann"])
    calls_project("run", now=DPD1)
    text = calls_project("calls", "script", str(ids["ZH"]), now=DPD1).stdout
    assert text.startswith("通话脚本：逾期通知")
    assert "华南贸易有限公司" in text and "+8613800138000" in text and "EUR 1,200.00" in text
    for excuse in ("我现在没钱", "我在出差", "钱借给朋友了", "我已经还了", "以前失约过"):
        assert excuse in text
    english = calls_project("calls", "script", str(ids["ZH"]), "--locale", "en", now=DPD1).stdout
    assert english.startswith("CALL SCRIPT: overdue notice")


def test_a_third_party_script_at_a_location_step_never_states_the_debt(calls_project: Project):
    loan = debtor("L1", "1234.56", "2026-02-26", kind="person", name="Lee Chan",
                  contacts=[{"kind": "mobile", "value": "+44 7700 900999", "role": "spouse", "name": "Sam Chan"}])
    ids = setup(calls_project, [loan], policy="consumer-loans")
    calls_project("run", now=LOAN_DPD6)
    [whereabouts] = [r for r in listing(calls_project, now=LOAN_DPD6) if r["audience"] == "contacts"]
    assert (whereabouts["number"], whereabouts["contact_name"]) == ("+447700900999", "Sam Chan")
    text = calls_project("calls", "script", str(ids["L1"]), "--call", str(whereabouts["call_id"]), now=LOAN_DPD6).stdout
    assert "Sam Chan" in text and "Lee Chan" in text and "personal matter" in text
    for secret in ("1,234.56", "1234.56", "EUR", "days overdue", "days past due"):
        assert secret not in text
    # At the disclosure step the same contact may be told.
    told = calls_project("calls", "script", str(ids["L1"]), "--template", "contact-disclosure", now=LOAN_DPD6).stdout
    assert "EUR 1,234.56" in told and "not responsible" in told


def test_every_phone_and_sms_template_of_the_presets_renders_in_both_languages(calls_project: Project):
    ids = setup(calls_project, [debtor("A", contacts=[{"kind": "mobile", "value": "+44 7700 900999",
                                                       "role": "relative", "name": "Pat"}])])
    calls_project("run", now=DPD1)
    for template in ("overdue-notice", "follow-up", "phone-follow-up", "gentle-reminder", "reminder-call",
                     "whereabouts", "firm-reminder", "contact-disclosure"):
        for locale in ("en", "zh_CN"):
            text = calls_project("calls", "script", str(ids["A"]), "--template", template, "--locale", locale,
                                 now=DPD1).stdout
            assert "Customer A" in text, (template, locale)
    folder = Path(phone_plugin.__file__).parent / "templates"
    for name in ("gentle-reminder", "firm-reminder", "promise-reminder"):
        for suffix in ("sms.txt", "zh_CN.sms.txt"):
            assert "STOP" in (folder / f"{name}.{suffix}").read_text(encoding="utf-8")


def test_a_script_for_a_case_without_calls_says_how_to_get_one(calls_project: Project):
    ids = setup(calls_project, [debtor("A")])
    result = calls_project("calls", "script", str(ids["A"]), now=DPD1, expect=1)
    assert "has no call task with a script yet; name one with --template" in result.output
    assert "no case with id 999" in calls_project("calls", "script", "999", now=DPD1, expect=1).output


# --- logging calls --------------------------------------------------------------------


def test_a_promise_is_recorded_with_the_call(calls_project: Project):
    ids = setup(calls_project, [debtor("A")], collectors=["ann"])
    case = str(ids["A"])
    calls_project("run", now=DPD1)
    out = calls_project("calls", "log", case, "--outcome", "promise", "--promise", "600", "--due", "2026-03-03T15:00",
                        "--note", "pays half tomorrow", now="2026-03-02T10:00:00+00:00").stdout
    assert f"case {case}: call 1 logged as promise; promise 1 recorded" in out
    shown = json.loads(calls_project("cases", "show", case, "--json").stdout)
    assert [(p["amount"], p["due_at"], p["status"]) for p in shown["promises"]] == [
        ("600.00", "2026-03-03T15:00:00Z", "pending")
    ]
    [logged] = events(calls_project, "phone:call_logged")
    expected = {"outcome": "promise", "number": "+447700900123", "collector": "ann", "note": "pays half tomorrow",
                "planned": True}
    assert {k: logged["data"][k] for k in expected} == expected
    assert logged["channel"] == "phone" and logged["case_id"] == ids["A"]
    assert [e["data"]["promise_id"] for e in events(calls_project, "promise")] == [1]
    assert query(calls_project, "SELECT status, outcome, note FROM phone_calls") == [
        ("done", "promise", "pays half tomorrow")
    ]
    assert listing(calls_project, now="2026-03-02T10:05:00+00:00") == []
    # The contact rules learn that this attempt was a conversation.
    assert query(calls_project, "SELECT connected, outcome FROM contact_attempts WHERE channel = 'phone'") == [
        (1, "promise")]


def test_a_promise_needs_an_amount_and_a_date(calls_project: Project):
    ids = setup(calls_project, [debtor("A")])
    calls_project("run", now=DPD1)
    result = calls_project("calls", "log", str(ids["A"]), "--outcome", "promise", "--promise", "600", expect=2)
    assert "--outcome promise needs --promise AMOUNT and --due DATETIME" in result.output


def test_a_dispute_holds_the_case_and_the_next_run_reaches_out_no_more(calls_project: Project):
    ids = setup(calls_project, [debtor("A")])
    calls_project("run", now=DPD1)
    out = calls_project("calls", "log", str(ids["A"]), "--outcome", "disputed", "--note", "says goods were damaged",
                        now="2026-03-02T10:00:00+00:00").stdout
    assert "dispute hold 1 placed" in out
    [hold] = events(calls_project, "hold")
    assert (hold["data"]["reason"], hold["data"]["note"]) == ("dispute", "says goods were damaged")
    summary = json.loads(calls_project("run", "--json", now=DPD3).stdout)
    assert summary["sent"] == 0 and summary["blocked_by_rule"] == {"hold:dispute": 1}
    assert query(calls_project, "SELECT count(*) FROM phone_calls") == [(1,)]


def test_a_wrong_number_is_marked_bad_and_the_next_call_uses_another(calls_project: Project):
    ids = setup(calls_project, [debtor("A", work_phone="+44 20 7946 0018")])
    calls_project("run", now=DPD1)
    [first] = listing(calls_project)
    calls_project("calls", "log", str(ids["A"]), "--outcome", "wrong_number", "--number", first["number"],
                  now="2026-03-02T10:00:00+00:00")
    bad = query(calls_project, "SELECT kind FROM contacts WHERE bad = 1")
    assert bad == [(first["kind"],)]
    [marked] = events(calls_project, "contact_marked_bad")
    assert marked["data"]["reason"] == "wrong number"
    calls_project("run", now=DPD3)
    [second] = listing(calls_project, now=DPD3)
    assert second["number"] != first["number"] and second["kind"] != first["kind"]


def test_wrong_number_without_a_task_needs_the_number(calls_project: Project):
    ids = setup(calls_project, [debtor("A")])
    result = calls_project("calls", "log", str(ids["A"]), "--outcome", "wrong_number", now=DPD1, expect=1)
    assert "--outcome wrong_number needs --number" in result.output
    result = calls_project("calls", "log", str(ids["A"]), "--outcome", "wrong_number", "--number", "+44 20 7946 0000",
                           now=DPD1, expect=1)
    assert "has no number '+44 20 7946 0000'" in result.output


def test_a_call_nobody_planned_is_recorded_too(calls_project: Project):
    ids = setup(calls_project, [debtor("A")], collectors=["ann"])
    out = calls_project("calls", "log", str(ids["A"]), "--outcome", "right_party", "--number", "07700 900123",
                        "--collector", "bob", "--json", now=DPD1).stdout
    logged = json.loads(out)
    assert (logged["planned"], logged["number"], logged["collector"]) == (False, "+447700900123", "bob")
    assert query(calls_project, "SELECT status, outcome FROM phone_calls") == [("done", "right_party")]
    assert events(calls_project, "phone:call_logged")[0]["data"]["planned"] is False
    [(stored,)] = query(calls_project, "SELECT value FROM contacts WHERE kind = 'mobile'")
    assert query(calls_project, "SELECT contact, role, connected, outcome FROM contact_attempts") == [
        (stored, "debtor", 1, "right_party")]


def snapshot(project: Project) -> tuple:
    return (query(project, "SELECT count(*) FROM events"), query(project, "SELECT * FROM phone_calls"),
            query(project, "SELECT count(*) FROM promises"), query(project, "SELECT count(*) FROM holds"))


def test_an_unknown_case_is_an_error_and_changes_nothing(calls_project: Project):
    setup(calls_project, [debtor("A")])
    calls_project("run", now=DPD1)
    before = snapshot(calls_project)
    result = calls_project("calls", "log", "999", "--outcome", "busy", now=DPD1, expect=1)
    assert "no case with id 999" in result.output
    assert snapshot(calls_project) == before


def test_a_refused_promise_leaves_the_call_open_and_the_log_unchanged(calls_project: Project):
    ids = setup(calls_project, [debtor("A")])
    calls_project("run", now=DPD1)
    before = snapshot(calls_project)
    result = calls_project("calls", "log", str(ids["A"]), "--outcome", "promise", "--promise", "5000",
                           "--due", "2026-03-03T15:00", now="2026-03-02T10:00:00+00:00", expect=1)
    assert "more than the balance" in result.output
    assert snapshot(calls_project) == before
    assert [r["case_id"] for r in listing(calls_project)] == [ids["A"]]


# --- export ---------------------------------------------------------------------------


def test_the_export_is_the_list_in_a_dialers_csv(calls_project: Project):
    ids = setup(calls_project, [debtor("BIG", "5100.00"), debtor("SMALL", "1200.00", mobile="07700 900456")],
                collectors=["ann", "bob"])
    calls_project("pay", str(ids["BIG"]), "100.00", now="2026-03-01T10:00:00+00:00")
    calls_project("run", now=DPD1)
    out = calls_project.folder / "dialer" / "calls.csv"
    out.parent.mkdir()
    calls_project("calls", "export", "--format", "csv", "--out", str(out), now=DPD1)
    text = out.read_text(encoding="utf-8")
    assert text.splitlines()[0] == "phone_number,name,case_id,priority,slot,collector,key"
    rows = list(csv.DictReader(io.StringIO(text)))
    listed = listing(calls_project)
    assert [r["key"] for r in rows] == [r["key"] for r in listed]
    assert [(r["phone_number"], r["name"], r["case_id"], r["collector"]) for r in rows] == [
        ("+447700900456", "Customer SMALL", str(ids["SMALL"]), ["ann", "bob"][ids["SMALL"] % 2]),
        ("+447700900123", "Customer BIG", str(ids["BIG"]), ["ann", "bob"][ids["BIG"] % 2]),
    ]
    assert [float(r["priority"]) for r in rows] == [r["priority"] for r in listed]
    assert rows[0]["key"] == f"{ids['SMALL']}:overdue-notice:phone:2026-03-02"
    assert not list(out.parent.glob("*.partial"))
    assert calls_project("calls", "export", now=DPD1).stdout == text


def test_every_calls_command_has_help(calls_project: Project):
    for args in (["calls"], ["calls", "script"], ["calls", "log"], ["calls", "export"]):
        text = calls_project(*args, "--help").stdout
        assert "Usage:" in text and len(text.splitlines()) > 5
