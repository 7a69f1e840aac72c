"""``dunning report``: every report checked against a small history whose figures are worked out by hand below.

The history is made through the real commands, in UTC (the config's zone):

    case 1  A  EUR 1,000.00 due 1 Mar                          (issued 1 Feb)
    case 2  B  EUR   600.00 due 1 Mar, EUR 400.00 due 15 Apr   (issued 1 Feb and 15 Mar)
    case 3  C  GBP 2,000.00 due 15 Jan                         (issued 15 Dec)
    case 4  D  EUR   500.00 due 1 May                          (issued 1 Feb)

    01 Feb 09:00  import: four cases open in the internal stage
    02 Mar 09:00  run: C (46 days past due) enters onsite; the overdue-notice phone call is planned
                  (sent, phone) for A (collector bob) and B (ann): two contact attempts, Monday morning
    02 Mar 10:00  bob logs A's call: promise EUR 400 due 3 Mar 15:00 (right-party contact)
    02 Mar 11:00  ann logs B's call: promise EUR 600 due 4 Mar 10:00 (right-party contact)
    03 Mar 12:00  A pays EUR 400
    04 Mar 09:00  run: A's promise kept; A's call planned (B's calls wait on its promise): one attempt
    05 Mar 13:00  run: B's promise broken; C's follow-up call planned: one attempt, afternoon
    06 Mar 06:00  run: A's and B's calls deferred by rule window:phone (before 08:00 in London)
    10 Mar 14:00  bob logs a call to C nobody planned: no answer (one attempt, number not noted)
    15 Mar 09:30  sam escalates B to onsite by hand
    20 Mar 12:00  C pays GBP 500
    01 Apr 09:00  run: A enters onsite (31 days past due); the two deferred calls are planned (sent, phone),
                  Wednesday 10:00 in London (summer time): two attempts
    10 Apr 12:00  A pays EUR 600: paid in full
    20 Apr 12:00  D pays EUR 500: paid in full
    05 May 09:00  C is written off
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator
from typing import Any

import attrs
import pytest

import dunning.plugins.phone as phone_plugin
from dunning.cli import cli
from dunning.reports import Params, run
from dunning.reports.buckets import Buckets
from dunning.reports.history import CaseBook, Filters
from tests.conftest import Project
from tests.core.module_databases import DATABASES, module_database


PHONE = {"DUNNING_LOAD_PLUGINS": "phone"}
DEBTS = [
    ("A", "+44 7700 900121", "A-1", "1000.00", "EUR", "2026-02-01", "2026-03-01"),
    ("B", "+44 7700 900122", "B-1", "600.00", "EUR", "2026-02-01", "2026-03-01"),
    ("B", "+44 7700 900122", "B-2", "400.00", "EUR", "2026-03-15", "2026-04-15"),
    ("C", "+44 7700 900123", "C-1", "2000.00", "GBP", "2025-12-15", "2026-01-15"),
    ("D", "+44 7700 900124", "D-1", "500.00", "EUR", "2026-02-01", "2026-05-01"),
]
HISTORY: list[tuple[str, tuple[str, ...]]] = [
    ("2026-03-02T09:00:00Z", ("run",)),
    ("2026-03-02T10:00:00Z", ("calls", "log", "1", "--outcome", "promise", "--promise", "400", "--due",
                              "2026-03-03T15:00")),
    ("2026-03-02T11:00:00Z", ("calls", "log", "2", "--outcome", "promise", "--promise", "600", "--due",
                              "2026-03-04T10:00")),
    ("2026-03-03T12:00:00Z", ("pay", "1", "400")),
    ("2026-03-04T09:00:00Z", ("run",)),
    ("2026-03-05T13:00:00Z", ("run",)),
    ("2026-03-06T06:00:00Z", ("run",)),
    ("2026-03-10T14:00:00Z", ("calls", "log", "3", "--outcome", "no_answer")),
    ("2026-03-15T09:30:00Z", ("escalate", "2", "--to", "onsite", "--reason", "asked for a visit", "--by", "sam")),
    ("2026-03-20T12:00:00Z", ("pay", "3", "500")),
    ("2026-04-01T09:00:00Z", ("run",)),
    ("2026-04-10T12:00:00Z", ("pay", "1", "600")),
    ("2026-04-20T12:00:00Z", ("pay", "4", "500")),
    ("2026-05-05T09:00:00Z", ("resolve", "3", "--as", "written_off", "--reason", "insolvent, nothing to recover")),
]


@pytest.fixture(scope="module", params=DATABASES)
def history(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    with module_database(request) as database:
        yield _history(Project(tmp_path_factory.mktemp("history"), database))


def _history(project: Project) -> Project:
    phone_plugin.register_commands(cli=cli)  # what loading the entry point does; idempotent
    project.write_config(enabled=["phone"], extra='\n[channels.phone]\ncollectors = ["ann", "bob"]\n')
    rows = [{"debtor_id": d, "name": f"Debtor {d} Ltd", "kind": "company", "mobile": phone, "country": "GB",
             "timezone": "Europe/London", "reference": ref, "amount": amount, "currency": currency,
             "issued_on": issued, "due_on": due} for d, phone, ref, amount, currency, issued, due in DEBTS]
    (project.folder / "debts.json").write_text(json.dumps(rows), encoding="utf-8")
    project("import", str(project.folder / "debts.json"), now="2026-02-01T09:00:00Z", env=PHONE)
    for now, args in HISTORY:
        project(*args, now=now, env=PHONE)
    return project


def report(project: Project, name: str, *args: str, env: dict[str, str] | None = PHONE) -> dict[str, Any]:
    """The report as JSON, after checking that its CSV holds the same rows (amounts in major units)."""
    data = json.loads(project("report", name, "--json", *args, env=env).stdout)
    parsed = list(csv.DictReader(io.StringIO(project("report", name, "--csv", *args, env=env).stdout)))
    for table, content in data["tables"].items():
        in_csv = [r for r in parsed if r["table"] == table]
        assert len(in_csv) == len(content["rows"]), table
        for from_json, from_csv in zip(content["rows"], in_csv, strict=True):
            for column, value in from_json.items():
                if column in content["money"]:
                    assert from_csv[column] == f"{value / 100:.2f}", (table, column)
                else:
                    assert from_csv[column] == ("" if value is None else str(value)), (table, column)
    return data


def rows(data: dict[str, Any], table: str, *columns: str) -> list[tuple[Any, ...]]:
    return [tuple(r[c] for c in columns) for r in data["tables"][table]["rows"]]


def text(project: Project, name: str, *args: str) -> list[str]:
    return [line.rstrip() for line in project("report", name, *args, env=PHONE).stdout.splitlines()]


# --- aging -----------------------------------------------------------------------------


def test_aging_rebuilds_the_balances_as_they_stood_on_the_day(history: Project):
    # 31 March. A: 1,000 - 400 paid on 3 March = 600, due 1 March, 30 days: 1-30.
    # B: 600 due 1 March (1-30) and 400 issued 15 March, due 15 April (not yet due); the case counts in 1-30.
    # D: 500 due 1 May, not yet due. C: 2,000 - 500 = 1,500 due 15 January, 75 days: 61-90.
    data = report(history, "aging", "--as-of", "2026-03-31")
    assert data["as_of"] == "2026-03-31"
    assert [r for r in rows(data, "buckets", "currency", "bucket", "cases", "balance") if r[2]] == [
        ("EUR", "not yet due", 1, 90000), ("EUR", "1-30", 2, 120000), ("GBP", "61-90", 1, 150000)]
    assert rows(data, "totals", "currency", "cases", "overdue", "not_yet_due", "balance") == [
        ("EUR", 3, 120000, 90000, 210000), ("GBP", 1, 150000, 0, 150000)]
    lines = text(history, "aging", "--as-of", "2026-03-31")
    assert lines[0] == "aging as of 2026-03-31"
    assert "  EUR       1-30         2      EUR 1,200.00  57.1%" in lines
    assert "  EUR       3      EUR 1,200.00  EUR 900.00   EUR 2,100.00" in lines


def test_aging_on_an_earlier_day_and_after_the_cases_ended(history: Project):
    # 1 March: nothing is overdue but C (2,000, 45 days: 31-60); B's second invoice is not issued yet.
    data = report(history, "aging", "--as-of", "2026-03-01")
    assert rows(data, "totals", "currency", "cases", "overdue", "not_yet_due", "balance") == [
        ("EUR", 3, 0, 210000, 210000), ("GBP", 1, 200000, 0, 200000)]
    # 31 May: A and D paid, C written off; B owes 600 due 1 March (91 days: 91-180, where the case counts)
    # and 400 due 15 April (46 days: 31-60).
    data = report(history, "aging", "--as-of", "2026-05-31")
    assert [r for r in rows(data, "buckets", "bucket", "cases", "balance") if r[2]] == [
        ("31-60", 0, 40000), ("91-180", 1, 60000)]


def test_aging_filters_and_buckets(history: Project):
    # Onsite on 31 March: B (by hand, 15 March) and C (2 March); A only enters on 1 April.
    data = report(history, "aging", "--as-of", "2026-03-31", "--stage", "onsite")
    assert rows(data, "totals", "currency", "cases", "overdue", "not_yet_due") == [
        ("EUR", 1, 60000, 40000), ("GBP", 1, 150000, 0)]
    assert data["filters"] == {"stage": "onsite"}
    # bob logged the latest calls of A (2 March) and C (10 March).
    data = report(history, "aging", "--as-of", "2026-03-31", "--collector", "bob")
    assert rows(data, "totals", "currency", "cases", "balance") == [("EUR", 1, 60000), ("GBP", 1, 150000)]
    data = report(history, "aging", "--as-of", "2026-03-31", "--currency", "gbp")
    assert rows(data, "totals", "currency", "balance") == [("GBP", 150000)]
    data = report(history, "aging", "--as-of", "2026-03-31", "--buckets", "45")
    assert rows(data, "buckets", "currency", "bucket", "balance") == [
        ("EUR", "not yet due", 90000), ("EUR", "1-45", 120000), ("EUR", "46+", 0),
        ("GBP", "not yet due", 0), ("GBP", "1-45", 0), ("GBP", "46+", 150000)]
    assert report(history, "aging", "--agency", "eastgate")["tables"]["totals"]["rows"] == []


@pytest.mark.parametrize(("args", "message"), [
    (("--as-of", "31/03/2026"), "--as-of must be a date such as 2026-03-31, got '31/03/2026'"),
    (("--buckets", "60,30"), "--buckets must be rising numbers of days of 1 or more, got '60,30'"),
    (("--buckets", "thirty"), "--buckets must be whole numbers of days such as 30,60,90,180, got 'thirty'"),
    (("--currency", "XYZ"), "--currency: unknown currency 'XYZ'"),
    (("--stage", "court"), "--stage: unknown stage 'court'; stages: internal, onsite, agency, litigation"),
    (("--json", "--csv"), "choose --json or --csv, not both"),
])
def test_bad_options_are_one_line_and_exit_1(history: Project, args: tuple[str, ...], message: str):
    result = history("report", "aging", *args, env=PHONE, expect=1)
    assert result.output.strip().splitlines() == [f"Error: {message}"]


# --- roll rates ------------------------------------------------------------------------


def test_roll_rates_month_over_month(history: Project):
    # Month ends 31 Jan (nothing open yet), 28 Feb, 31 Mar, 30 Apr, 31 May. States:
    #   A: not yet due, 1-30 (30 days), paid (10 Apr)
    #   B: not yet due, 1-30, 31-60 (60 days on 30 Apr), 91-180 (91 days on 31 May)
    #   C: 31-60 (44 days), 61-90 (75), 91-180 (105), written off (5 May)
    #   D: not yet due, not yet due, paid (20 Apr)
    data = report(history, "roll-rates", "--as-of", "2026-05-31", "--periods", "4")
    assert rows(data, "matrix", "currency", "from", "to", "cases", "rate") == [
        ("EUR", "not yet due", "not yet due", 1, 0.25),  # D in March
        ("EUR", "not yet due", "1-30", 2, 0.5),  # A and B in March
        ("EUR", "not yet due", "paid", 1, 0.25),  # D in April
        ("EUR", "1-30", "31-60", 1, 0.5),  # B in April
        ("EUR", "1-30", "paid", 1, 0.5),  # A in April
        ("EUR", "31-60", "91-180", 1, 1.0),  # B in May
        ("GBP", "31-60", "61-90", 1, 1.0),
        ("GBP", "61-90", "91-180", 1, 1.0),
        ("GBP", "91-180", "written_off", 1, 1.0),
    ]
    # Cured: overdue at the start, current or paid at the end. April: A, B, C overdue on 31 March; A paid.
    assert rows(data, "cure", "period_end", "overdue", "cured", "cure_rate") == [
        ("2026-02-28", 0, 0, None), ("2026-03-31", 1, 0, 0.0), ("2026-04-30", 3, 1, 0.3333),
        ("2026-05-31", 2, 0, 0.0)]
    # C went through 31-60, 61-90 and 91-180 and was written off; no EUR case was.
    assert [r for r in rows(data, "write_off_path", "currency", "bucket", "cases", "written_off", "rate")
            if r[0] == "GBP"] == [("GBP", "31-60", 1, 1, 1.0), ("GBP", "61-90", 1, 1, 1.0),
                                  ("GBP", "91-180", 1, 1, 1.0)]
    assert {r[2] for r in rows(data, "write_off_path", "currency", "bucket", "written_off") if r[0] == "EUR"} == {0}
    assert "  EUR       not yet due  1-30         2      50.0%" in text(
        history, "roll-rates", "--as-of", "2026-05-31", "--periods", "4")


def test_roll_rates_week_over_week(history: Project):
    # Week ends 24 Feb, 3 Mar, 10 Mar, 17 Mar, 24 Mar. A and B fall due on 1 March: not yet due -> 1-30 in the
    # week to 3 March, then stay; C: 40 days (31-60) -> 47 -> 54 -> 61 (61-90 in the week to 17 March) -> 68.
    data = report(history, "roll-rates", "--as-of", "2026-03-24", "--period", "week", "--periods", "4")
    assert rows(data, "matrix", "currency", "from", "to", "cases") == [
        ("EUR", "not yet due", "not yet due", 4),  # D in each of the four weeks
        ("EUR", "not yet due", "1-30", 2),
        ("EUR", "1-30", "1-30", 6),  # A and B in the last three weeks
        ("GBP", "31-60", "31-60", 2),
        ("GBP", "31-60", "61-90", 1),
        ("GBP", "61-90", "61-90", 1),
    ]
    assert data["filters"]["period"] == "week"


# --- recovery --------------------------------------------------------------------------


def test_recovery_by_stage_channel_collector_and_curves(history: Project):
    data = report(history, "recovery", "--as-of", "2026-05-31", "--periods", "5")
    # Internal: placed = every obligation (A 1,000 + B 1,000 + D 500; C 2,000); collected while internal:
    # A's 400 (3 March) and D's 500. Onsite: B entered on 15 March owing 1,000 (B-2 issued that day), A on
    # 1 April owing 600 and paid it; C entered on 2 March owing 2,000 and paid 500 there.
    assert rows(data, "by_stage", "currency", "stage", "cases", "placed", "collected", "rate") == [
        ("EUR", "internal", 3, 250000, 90000, 0.36), ("EUR", "onsite", 2, 160000, 60000, 0.375),
        ("GBP", "internal", 1, 200000, 0, 0.0), ("GBP", "onsite", 1, 200000, 50000, 0.25)]
    # Last contact within 30 days before each payment: A's 400 (3 March) - bob's call of 2 March; A's 600
    # (10 April) - the call planned on 1 April (bob's last logged call, 2 March, is older than 30 days);
    # D's 500 - none; C's 500 (20 March) - bob's call of 10 March.
    assert rows(data, "by_channel", "currency", "channel", "payments", "collected", "share") == [
        ("EUR", "(no contact)", 1, 50000, 0.3333), ("EUR", "phone", 2, 100000, 0.6667),
        ("GBP", "phone", 1, 50000, 1.0)]
    assert rows(data, "by_collector", "currency", "collector", "payments", "collected") == [
        ("EUR", "(no call)", 2, 110000), ("EUR", "bob", 1, 40000), ("GBP", "bob", 1, 50000)]
    assert rows(data, "by_agency", "agency") == []
    # Opened in February. EUR: 400 in March (month 1) = 16%, 1,100 more in April = 60%; June is after the day.
    assert rows(data, "curves", "currency", "cohort", "cases", "placed", "m0", "m1", "m2", "m3", "m4") == [
        ("EUR", "2026-02", 3, 250000, 0.0, 0.16, 0.6, 0.6, None),
        ("GBP", "2026-02", 1, 200000, 0.0, 0.25, 0.25, 0.25, None)]
    assert any("last contact (message sent, call or visit logged)" in note for note in data["notes"])


# --- promises --------------------------------------------------------------------------


def test_promises_by_collector_bucket_and_month(history: Project):
    # bob's promise on A (kept on 4 March), ann's on B (broken on 5 March); both made 1 day past due.
    data = report(history, "promises", "--as-of", "2026-05-31")
    columns = ("made", "kept", "broken", "pending", "kept_rate")
    assert rows(data, "by_collector", "collector", *columns) == [("ann", 1, 0, 1, 0, 0.0), ("bob", 1, 1, 0, 0, 1.0)]
    assert rows(data, "by_bucket", "bucket", *columns) == [("1-30", 2, 1, 1, 0, 0.5)]
    assert rows(data, "by_month", "month", *columns) == [("2026-03", 2, 1, 1, 0, 0.5)]
    # On 3 March both were still open.
    data = report(history, "promises", "--as-of", "2026-03-03")
    assert rows(data, "by_bucket", "bucket", *columns) == [("1-30", 2, 0, 0, 2, None)]
    assert "  bob        1     1     0       0        100.0%" in text(history, "promises", "--as-of", "2026-05-31")


# --- contacts --------------------------------------------------------------------------


def test_contacts_by_channel_number_and_time(history: Project):
    # Seven attempts: A and B on Mon 2 March 09:00 (both reached, promises), A on Wed 4 March 09:00, C on Thu
    # 5 March 13:00, C on Tue 10 March 14:00 (logged by hand, number not noted), A and B on Wed 1 April 10:00
    # London summer time. Debtors' time: five in the morning, two in the afternoon.
    data = report(history, "contacts", "--as-of", "2026-05-31")
    assert rows(data, "channel", "channel", "attempts", "right_party", "contact_rate") == [("phone", 7, 2, 0.2857)]
    assert rows(data, "number_kind", "number_kind", "attempts", "right_party") == [
        ("phone/mobile", 6, 2), ("phone/unknown", 1, 0)]
    assert rows(data, "slot", "slot", "attempts", "right_party") == [("morning", 5, 2), ("afternoon", 2, 0)]
    assert rows(data, "weekday", "weekday", "attempts", "right_party") == [
        ("Mon", 2, 2), ("Tue", 1, 0), ("Wed", 3, 0), ("Thu", 1, 0)]
    assert rows(data, "day_of_month", "day_of_month", "attempts") == [("1-5", 6), ("6-10", 1)]
    # The 6 March 06:00 run deferred A's and B's calls: before 08:00 in London.
    assert rows(data, "stopped", "outcome", "rule", "channel", "actions") == [("deferred", "window:phone", "phone", 2)]
    assert "  Mon      2         2            100.0%" in text(history, "contacts", "--as-of", "2026-05-31")


# --- activity --------------------------------------------------------------------------


def test_the_runs_keep_counts_and_the_reports_above_read_them_with_the_rows_after(history: Project):
    """The history's runs rolled its attempts and events up (dunning.store.report_rollups); what was written
    after the last run (a payment, a resolution) is after the marks: the hand-worked answers above came from both."""
    marks = dict(history.sql("SELECT name, upto FROM report_rollup_marks"))
    [(counted,)] = history.sql("SELECT sum(events) FROM report_event_rollup")
    [(after,)] = history.sql("SELECT count(*) FROM events WHERE seq > ?", [marks["events"]])
    [(attempts,)] = history.sql("SELECT sum(attempts) FROM report_attempt_rollup")
    assert marks["attempts"] > 0 and attempts == marks["attempts"]
    assert counted > 0 and after > 0


def test_activity_per_day(history: Project):
    data = report(history, "activity", "--as-of", "2026-04-01", "--days", "31")
    busy = [r for r in rows(data, "days", "day", "sent", "stage_changes", "promises", "calls", "deferred",
                            "payments", "approved") if any(r[1:])]
    assert busy == [
        ("2026-03-02", 2, 1, 2, 2, 0, 0, 0),  # A's and B's calls planned, C onsite, two calls and promises
        ("2026-03-03", 0, 0, 0, 0, 0, 1, 0),  # A pays 400
        ("2026-03-04", 1, 0, 0, 0, 0, 0, 0),  # A's call (B's waits on its promise)
        ("2026-03-05", 1, 0, 0, 0, 0, 0, 0),  # C's follow-up call
        ("2026-03-06", 0, 0, 0, 0, 2, 0, 0),  # two calls deferred before 08:00
        ("2026-03-10", 0, 0, 0, 1, 0, 0, 0),  # bob's unplanned call to C
        ("2026-03-15", 0, 1, 0, 0, 0, 0, 0),  # B escalated by hand
        ("2026-03-20", 0, 0, 0, 0, 0, 1, 0),  # C pays 500
        ("2026-04-01", 2, 1, 0, 0, 0, 0, 0),  # the deferred calls go out; A enters onsite
    ]
    assert len(data["tables"]["days"]["rows"]) == 31
    assert rows(data, "sent", "day", "channel", "sent") == [
        ("2026-03-02", "phone", 2), ("2026-03-04", "phone", 1), ("2026-03-05", "phone", 1), ("2026-04-01", "phone", 2)]
    assert rows(data, "collected", "day", "currency", "payments", "amount") == [
        ("2026-03-03", "EUR", 1, 40000), ("2026-03-20", "GBP", 1, 50000)]


# --- the pure functions, on plain rows ---------------------------------------------------


class Rows:
    """A ReportSource over lists, in the shapes the store's ReportRows hands out."""

    def __init__(self, cases: list[Any], obligations: list[Any], payments: list[Any], facts: list[Any],
                 event_groups: list[Any]):
        self.cases, self.obligations, self.payments = cases, obligations, payments
        self.facts, self.event_groups = facts, event_groups

    def report_cases(self) -> list[Any]:
        return self.cases

    def report_obligations(self) -> list[Any]:
        return self.obligations

    def report_payments(self, until: str) -> list[Any]:
        return [p for p in self.payments if p[2] < until]

    def report_case_facts(self, until: str, *, stages: bool = True, calls: bool = True,
                          placements: bool = True) -> list[Any]:
        wanted = {"stage_changed"} if stages else set()
        wanted |= {"phone:call_logged"} if calls else set()
        wanted |= {"agency:placed", "agency:placement_ended"} if placements else set()
        # as the store does: every stage change, the rest before the day
        return [f for f in self.facts if f[2] in wanted and (f[0] < until or f[2] == "stage_changed")]

    def report_promises(self, until: str) -> list[Any]:
        return []

    def report_attempt_groups(self, until: str, since: str = "", case_ids: Any = None) -> list[Any]:
        return []

    def report_event_groups(self, kinds: Any, until: str, since: str = "", case_ids: Any = None) -> list[Any]:
        return [g for g in self.event_groups if g[0] in set(kinds) and since[:16] <= g[2] < until[:16]]

    def report_payment_contacts(self, until: str, window_days: int, case_ids: Any = None) -> list[Any]:
        # (case, amount, at, last contact at, kind, channel, last call at, collector): a letter before the first.
        return [(7, 20000, "2026-03-01T10:00:00Z", "2026-02-25T09:00:00Z", "sent", "letter", None, None)]


def test_agency_recovery_and_approvals_from_plain_rows():
    # One case placed with eastgate on 1 April for 800; 300 paid on 10 April, while placed; the placement
    # ends on 20 April; 100 paid on 25 April, after it. An approval on 2 April.
    source = Rows(
        cases=[(7, "EUR", "2026-01-10", "open", None, "agency")],
        obligations=[(7, 100000, "2026-01-31", "2026-01-01", None)],
        payments=[(7, 20000, "2026-03-01T10:00:00Z"), (7, 30000, "2026-04-10T10:00:00Z"),
                  (7, 10000, "2026-04-25T10:00:00Z")],
        facts=[("2026-04-01T09:00:00Z", 7, "stage_changed", "agency", "internal", None, None, None),
               ("2026-04-01T09:00:00Z", 7, "agency:placed", None, None, None, "eastgate", 80000),
               ("2026-04-20T09:00:00Z", 7, "agency:placement_ended", None, None, None, "eastgate", None)],
        event_groups=[("approved", "letter", "2026-04-02T09:0", None, None, 1, None)])
    params = Params(as_of=dt.date(2026, 4, 30), zone=dt.UTC)
    recovery = run("recovery", source, params)
    assert recovery.table("by_agency").rows == (("EUR", "eastgate", 1, 80000, 30000, 0.375),)
    # Internal until 1 April: placed 1,000, collected 200; agency from 1 April: placed 800, collected 400.
    assert recovery.table("by_stage").rows == (("EUR", "agency", 1, 80000, 40000, 0.5),
                                               ("EUR", "internal", 1, 100000, 20000, 0.2))
    assert recovery.table("by_channel").rows == (("EUR", "letter", 1, 20000, 1.0),)
    assert recovery.table("by_collector").rows == (("EUR", "(no call)", 1, 20000, 1.0),)
    placed_filter = attrs.evolve(params, filters=Filters(agency="eastgate"))
    assert run("aging", source, placed_filter).table("totals").rows == (("EUR", 1, 40000, 0, 40000),)
    assert run("aging", source, attrs.evolve(params, filters=Filters(agency="harbour"))).table("totals").rows == ()
    # In the internal stage on 31 March (the stage it left on 1 April), in the agency stage on 30 April.
    on_march_31 = attrs.evolve(params, as_of=dt.date(2026, 3, 31), filters=Filters(stage="internal"))
    assert run("aging", source, on_march_31).table("totals").rows == (("EUR", 1, 80000, 0, 80000),)
    activity = run("activity", source, attrs.evolve(params, days=30))
    assert [(r[0], r[2]) for r in activity.table("days").rows if r[2]] == [("2026-04-02", 1)]


def test_a_case_book_applies_payments_oldest_due_first_as_of_each_day():
    day = dt.date.fromisoformat
    book = CaseBook(id=1, currency="EUR", opened_on=day("2026-01-01"), status="open", resolved_on=None,
                    stage="internal", obligations=((500, day("2026-01-31"), day("2026-01-01"), dt.date.max),
                                                   (700, day("2026-02-28"), day("2026-02-01"), dt.date.max)),
                    payments=((600, "2026-03-05T10:00:00Z", day("2026-03-05")),))
    assert book.open_items(day("2026-01-15")) == [(day("2026-01-31"), 500)]
    assert book.open_items(day("2026-03-04")) == [(day("2026-01-31"), 500), (day("2026-02-28"), 700)]
    assert book.open_items(day("2026-03-05")) == [(day("2026-02-28"), 600)]
    assert book.state_on(day("2026-03-04"), Buckets()) == "31-60"
    assert book.state_on(day("2026-03-05"), Buckets()) == "1-30"
    assert book.state_on(day("2025-12-31"), Buckets()) is None
    assert Buckets((7, 14)).labels == ("not yet due", "1-7", "8-14", "15+")
    # The books closed the first invoice on 10 March (paid elsewhere): from then on it owes nothing here, and
    # the payment of 5 March goes to the second.
    closed = attrs.evolve(book, obligations=((500, day("2026-01-31"), day("2026-01-01"), day("2026-03-10")),
                                             book.obligations[1]))
    assert closed.open_items(day("2026-03-09")) == [(day("2026-02-28"), 600)]
    assert closed.open_items(day("2026-03-10")) == [(day("2026-02-28"), 100)]
    assert closed.states_on([day("2026-03-09"), day("2026-03-10")], Buckets()) == ["1-30", "1-30"]


def test_a_reversed_payment_counts_until_it_is_reversed(project: Project):
    # EUR 1,000 due 1 March; 400 paid on 10 March, reversed (a bounced cheque) on 20 March.
    rows = [{"debtor_id": "R", "name": "Debtor R Ltd", "kind": "company", "country": "GB", "timezone": "Europe/London",
             "reference": "R-1", "amount": "1000.00", "currency": "EUR", "issued_on": "2026-02-01",
             "due_on": "2026-03-01"}]
    (project.folder / "r.json").write_text(json.dumps(rows), encoding="utf-8")
    project("import", str(project.folder / "r.json"), now="2026-02-01T09:00:00Z")
    project("pay", "1", "400", now="2026-03-10T12:00:00Z")
    project("payments", "reverse", "1", "--reason", "bounced cheque", now="2026-03-20T12:00:00Z")

    def balance(day: str) -> int:
        data = json.loads(project("report", "aging", "--as-of", day, "--json").stdout)
        return int(data["tables"]["totals"]["rows"][0]["balance"])

    assert (balance("2026-03-09"), balance("2026-03-15"), balance("2026-03-25")) == (100000, 60000, 100000)
