"""Placing cases with agencies, through the CLI: the choice, the files, the block on outreach, recalls, the report."""

from __future__ import annotations

import hashlib
import json

import pytest

from dunning.plugins.agency.files import PLACEMENT_COLUMNS, RECALL_COLUMNS
from tests.conftest import Project, row
from tests.plugins import test_agency_fixtures as fixtures
from tests.plugins.test_agency_fixtures import (
    AGENCIES,
    DUE,
    day_at,
    events,
    import_cases,
    read_csv,
    run_days,
)


agency_project = fixtures.agency_project

PLACED_ON = "2026-03-11"  # day 10


def _portfolio(project: Project) -> dict[str, int]:
    return import_cases(project,
                        row("A", "INV-A1", "12000.00", DUE.isoformat()),
                        row("B", "INV-B1", "800.00", DUE.isoformat()),
                        row("C", "INV-C1", "300.00", DUE.isoformat()))


def _folder(project: Project, agency: str):
    return project.folder / "agency-files" / agency


def test_cases_are_placed_by_rule_and_filed(agency_project: Project) -> None:
    ids = _portfolio(agency_project)
    run_days(agency_project, 0, 10)

    placements = json.loads(agency_project("agency", "placements", "--json").stdout)
    assert [(p["case_id"], p["agency"], p["placed_on"], p["expires_on"]) for p in placements] == [
        # Both agencies are new: a tie, and eastgate comes first by id. It takes one case at a time.
        (ids["A"], "eastgate", PLACED_ON, "2026-03-31"),
        (ids["B"], "northwind", PLACED_ON, None),
    ]
    [placed] = events(agency_project, ids["B"], "agency:placed")
    assert placed["data"]["passed_over"] == {"eastgate": "full (1 open placements, capacity 1)"}
    # Nobody can take C: it stays at the agency stage for a person, and the evidence says why.
    [refused] = events(agency_project, ids["C"], "agency:not_placed")
    assert refused["data"]["reasons"] == {"eastgate": "full (1 open placements, capacity 1)",
                                          "northwind": "balance 300.00 is below its minimum 500.00"}
    [waiting] = json.loads(agency_project("agency", "unplaced", "--json").stdout)
    assert waiting["case_id"] == ids["C"] and waiting["balance"] == "300.00"

    # The day's file: only what an agency needs, and a manifest with the CSV's SHA-256.
    csv_path = _folder(agency_project, "northwind") / f"placements-{PLACED_ON}.csv"
    manifest = json.loads(csv_path.with_suffix(".json").read_text())
    data = csv_path.read_bytes()
    assert manifest["sha256"] == hashlib.sha256(data).hexdigest() and manifest["bytes"] == len(data)
    assert manifest["placement_ids"] == [placements[1]["id"]] and manifest["totals"] == {"EUR": "800.00"}
    [line] = read_csv(csv_path)
    assert list(line) == list(PLACEMENT_COLUMNS)
    assert line["case_id"] == str(ids["B"]) and line["debtor_name"] == "Customer B" and line["balance"] == "800.00"
    assert line["invoices"] == "INV-B1 2026-03-01 800.00" and line["days_past_due"] == "10"
    assert line["email"] == "ap@example.com" and line["phone"] == "+447700900123"

    # A rerun writes nothing new; the files are those of the table.
    before = {p: p.read_bytes() for p in (agency_project.folder / "agency-files").rglob("*.*")}
    run_days(agency_project, 10, 10)
    assert "no files due" in agency_project("agency", "files").stdout
    assert {p: p.read_bytes() for p in (agency_project.folder / "agency-files").rglob("*.*")} == before


def test_files_lost_in_a_crash_are_written_again_the_same(agency_project: Project) -> None:
    _portfolio(agency_project)
    run_days(agency_project, 0, 10)
    written = {p.name: p.read_bytes() for p in _folder(agency_project, "northwind").iterdir()}
    # The placement committed but the process died before its file was
    # written (or before it was marked as written).
    for path in _folder(agency_project, "northwind").iterdir():
        path.unlink()
    agency_project.sql("UPDATE agency_placements SET placement_file = NULL")
    again = json.loads(agency_project("agency", "files", "--json").stdout)
    assert sorted(w["agency"] for w in again) == ["eastgate", "northwind"]
    assert {p.name: p.read_bytes() for p in _folder(agency_project, "northwind").iterdir()} == written


def test_a_placed_case_gets_no_internal_outreach_and_direct_payments_count(agency_project: Project) -> None:
    ids = _portfolio(agency_project)
    run_days(agency_project, 0, 13)  # reminders on days 1, 4, 7, 10 and 13
    email = agency_project.email  # type: ignore[attr-defined]
    sent_on_13 = {case for key, case, _ in email.sent if key.endswith("2026-03-14")}
    # C is not placed: it still hears from us. A and B are with agencies: nothing.
    assert sent_on_13 == {ids["C"]}
    for placed in ("A", "B"):
        [blocked] = events(agency_project, ids[placed], "blocked")
        assert blocked["data"]["rule"] == "agency:placed" and blocked["dpd"] == 13
        assert "the agency owns contact" in blocked["data"]["reason"]

    # A payment straight to us works as ever and shows in the report as direct.
    agency_project("pay", str(ids["B"]), "300.00", "--reference", "BANK-1", now=day_at(14, 12))
    report = json.loads(agency_project("agency", "report", "--json", now=day_at(15)).stdout)
    northwind = next(line for line in report if line["agency"] == "northwind")
    assert northwind == {"agency": "northwind", "name": "Northwind Recoveries Ltd", "currency": "EUR",
                         "cases_placed": 1, "open_placements": 1, "balance_placed": "800.00", "recovered": "0.00",
                         "direct_payments": "300.00", "recovery_rate": 0.0, "commission_owed": "0.00",
                         "average_days_to_first_payment": None}
    table = agency_project("agency", "report", now=day_at(15)).stdout
    assert "northwind" in table and "300.00" in table


def test_recall_by_hand_expiry_and_the_policy_each_fill_a_recall_file(agency_project: Project) -> None:
    ids = _portfolio(agency_project)
    run_days(agency_project, 0, 10)

    # By hand: A goes back where it came from and into today's recall file.
    out = agency_project("agency", "recall", str(ids["A"]), "--reason", "debtor disputes the invoice",
                         "--by", "Sam", now=day_at(12)).stdout
    assert "back at internal" in out
    [line] = read_csv(_folder(agency_project, "eastgate") / "recalls-2026-03-13.csv")
    assert list(line) == list(RECALL_COLUMNS)
    assert (line["case_id"], line["reason_kind"], line["reason"]) == (
        str(ids["A"]),
        "recall",
        "debtor disputes the invoice",
    )
    [recalled] = events(agency_project, ids["A"], "agency:recalled")
    assert recalled["data"]["how"] == "recall" and recalled["data"]["to"] == "internal"
    # Eastgate has room again: C can be placed by hand.
    assert "placed with eastgate" in agency_project("agency", "place", str(ids["C"]), now=day_at(12)).stdout
    agency_project("agency", "place", str(ids["C"]), now=day_at(12), expect=1)  # already placed

    # Expiry: eastgate's placements last 20 days; C's ends on day 32.
    assert "nothing to do" in agency_project("agency", "expire", now=day_at(31)).stdout
    expired = json.loads(agency_project("agency", "expire", "--json", now=day_at(32)).stdout)
    assert expired["recalled"] == [{"case_id": ids["C"], "agency": "eastgate", "back_to": "internal"}]
    [line] = read_csv(_folder(agency_project, "eastgate") / "recalls-2026-04-02.csv")
    assert line["case_id"] == str(ids["C"]) and line["reason_kind"] == "expiry"

    # The policy: B is recalled on day 40 by the run, which writes the file at its end.
    run_days(agency_project, 40, 40)
    [line] = read_csv(_folder(agency_project, "northwind") / "recalls-2026-04-10.csv")
    assert line["case_id"] == str(ids["B"]) and line["reason"] == "recalled from the agency"
    assert json.loads(agency_project("cases", "show", str(ids["B"]), "--json").stdout)["stage"] == "internal"
    assert json.loads(agency_project("agency", "placements", "--open", "--json").stdout) == []


def test_a_case_paid_in_full_directly_is_withdrawn_from_the_agency(agency_project: Project) -> None:
    ids = _portfolio(agency_project)
    run_days(agency_project, 0, 10)
    agency_project("pay", str(ids["B"]), "800.00", "--reference", "BANK-2", now=day_at(11))
    done = json.loads(agency_project("agency", "expire", "--json", now=day_at(11, 18)).stdout)
    assert done["ended"] == [{"case_id": ids["B"], "agency": "northwind", "kind": "resolved"}]
    [line] = read_csv(_folder(agency_project, "northwind") / "recalls-2026-03-12.csv")
    assert (line["reason_kind"], line["reason"], line["balance_now"]) == ("resolved", "case paid", "0.00")


def test_a_case_taken_to_litigation_straight_from_the_agency_is_withdrawn(agency_project: Project) -> None:
    ids = _portfolio(agency_project)
    run_days(agency_project, 0, 10)
    agency_project("escalate", str(ids["A"]), "--to", "litigation", "--reason", "assets being moved abroad",
                   now=day_at(11))
    [recalled] = events(agency_project, ids["A"], "agency:recalled")
    assert recalled["data"]["how"] == "escalated" and recalled["data"]["to"] == "litigation"
    agency_project("agency", "files", now=day_at(11))
    [line] = read_csv(_folder(agency_project, "eastgate") / "recalls-2026-03-12.csv")
    assert (line["case_id"], line["reason_kind"], line["reason"]) == (str(ids["A"]), "escalated",
                                                                      "assets being moved abroad")


def test_bad_agency_settings_stop_the_command_naming_the_key(agency_project: Project) -> None:
    agency_project.write_config(policy="policy.toml", enabled=["email", "agency"],
                                extra=AGENCIES.replace('commission = "25"', 'commission = "250"'))
    result = agency_project("agency", "report", expect=1)
    assert "channels.agency: 'agencies.northwind.commission' must be a percentage between 0 and 100" in result.output


def test_commands_say_when_the_agency_channel_is_not_enabled(agency_project: Project) -> None:
    agency_project.write_config(policy="policy.toml", enabled=["email"])
    result = agency_project("agency", "report", expect=1)
    assert 'add "agency" to [channels] enabled' in result.output


@pytest.mark.parametrize("command", [["agency"], ["agency", "import"], ["agency", "report"], ["agency", "recall"],
                                     ["agency", "expire"], ["agency", "place"], ["agency", "placements"],
                                     ["agency", "unplaced"], ["agency", "files"]])
def test_every_agency_command_has_help(agency_project: Project, command: list[str]) -> None:
    out = agency_project(*command, "--help").stdout
    assert "Usage:" in out and len(out.splitlines()) > 4


def test_a_placement_that_runs_out_is_recalled_by_the_runs_themselves(agency_project: Project) -> None:
    ids = _portfolio(agency_project)
    run_days(agency_project, 0, 10)  # A is placed with eastgate for 20 days: until 31 March (day 30)
    run_days(agency_project, 29, 29)
    assert events(agency_project, ids["A"], "agency:recall_queued") == []
    agency_project("run", "--now", day_at(30))  # the end of this run queues the recall ...
    [queued] = events(agency_project, ids["A"], "agency:recall_queued")
    assert queued["data"]["agency"] == "eastgate"
    agency_project("run", "--now", day_at(30, 15))  # ... and the next run carries it out
    assert json.loads(agency_project("cases", "show", str(ids["A"]), "--json").stdout)["stage"] == "internal"
    [recalled] = events(agency_project, ids["A"], "agency:recalled")
    assert recalled["data"]["how"] == "expiry"
    [line] = read_csv(_folder(agency_project, "eastgate") / "recalls-2026-03-31.csv")
    assert (line["case_id"], line["reason_kind"]) == (str(ids["A"]), "expiry")
    agency_project("run", "--now", day_at(30, 20))
    assert len(events(agency_project, ids["A"], "agency:recall_queued")) == 1  # queued once
