"""An agency's return file: applied whole, or rejected whole with line numbers and the store untouched."""

from __future__ import annotations

import json

from tests.conftest import Project, dump, row
from tests.plugins import test_agency_fixtures as fixtures
from tests.plugins.test_agency_fixtures import (
    DUE,
    day_at,
    events,
    import_cases,
    run_days,
    write_returns,
)


agency_project = fixtures.agency_project


def _placed(project: Project) -> dict[str, int]:
    """A with eastgate (sliding scale), B with northwind (25 %), C with nobody; day 10."""
    ids = import_cases(project,
                       row("A", "INV-A1", "12000.00", DUE.isoformat()),
                       row("B", "INV-B1", "800.00", DUE.isoformat()),
                       row("C", "INV-C1", "300.00", DUE.isoformat()))
    run_days(project, 0, 10)
    return ids


def _dump(project: Project) -> list[str]:
    return dump(project)


def test_a_good_file_applies_payments_with_commission(agency_project: Project) -> None:
    ids = _placed(agency_project)
    a = str(ids["A"])
    path = write_returns(agency_project.folder / "eastgate-0315.csv", [
        {"agency": "eastgate", "transaction_id": "EG-1", "case_id": a, "type": "contact", "date": "2026-03-12",
         "detail": "left a message with reception"},
        {"agency": "eastgate", "transaction_id": "EG-2", "case_id": a, "type": "payment", "date": "2026-03-13",
         "amount": "800.00", "currency": "EUR"},
        {"agency": "eastgate", "transaction_id": "EG-3", "case_id": a, "type": "payment", "date": "2026-03-14",
         "amount": "500.00"},
        {"agency": "eastgate", "transaction_id": "EG-4", "case_id": a, "type": "status", "date": "2026-03-14",
         "detail": "instalments agreed"},
    ])
    out = agency_project("agency", "import", str(path), now=day_at(14, 12)).stdout
    assert "2 payments (EUR 1,300.00; commission EUR 360.00), 1 contacts, 1 status updates, 0 closures" in out

    shown = json.loads(agency_project("cases", "show", a, "--json").stdout)
    assert shown["balance"] == "10700.00"
    assert [(p["amount"], p["reference"]) for p in shown["payments"]] == [("800.00", "EG-2"), ("500.00", "EG-3")]
    # 30 % up to 1,000.00 collected, 20 % above: 240.00, then 60.00 + 60.00.
    paid = events(agency_project, ids["A"], "agency:payment")
    assert [(e["data"]["amount"], e["data"]["commission"], e["data"]["commission_rate"]) for e in paid] == [
        (80000, 24000, "30% of 800.00"), (50000, 12000, "30% of 200.00 + 20% of 300.00")]
    assert [e["data"]["detail"] for e in events(agency_project, ids["A"], "agency:contact")] == [
        "left a message with reception"]
    # The agency's contact counts in the contact rules' caps, as a call that reached the debtor.
    assert agency_project.sql("SELECT channel, connected, source, substr(at, 1, 10) FROM contact_attempts "
                              "WHERE case_id = ? AND source LIKE 'agency:%'", (ids["A"],)) == [
        ("phone", 1, "agency:eastgate", "2026-03-12")]
    [line] = [x for x in json.loads(agency_project("agency", "report", "--json", now=day_at(15)).stdout)
              if x["agency"] == "eastgate"]
    assert (line["recovered"], line["commission_owed"], line["average_days_to_first_payment"]) == (
        "1300.00",
        "360.00",
        2.0,
    )
    assert line["recovery_rate"] == round(1300 / 12000 * 100, 2)

    # The same file again: every transaction id is a duplicate, nothing changes.
    before = _dump(agency_project)
    result = agency_project("agency", "import", str(path), now=day_at(15), expect=1)
    assert "line 2: duplicate transaction id 'EG-1': imported before" in result.output
    assert _dump(agency_project) == before


def test_a_bad_file_is_rejected_whole_with_line_numbers(agency_project: Project) -> None:
    ids = _placed(agency_project)
    a, b, c = str(ids["A"]), str(ids["B"]), str(ids["C"])
    path = write_returns(agency_project.folder / "northwind-bad.csv", [
        {"agency": "northwind", "transaction_id": "NW-1", "case_id": b, "type": "payment", "date": "2026-03-12",
         "amount": "100.00"},  # line 2: good
        {"agency": "northwind", "transaction_id": "NW-2", "case_id": "999", "type": "payment", "date": "2026-03-12",
         "amount": "10.00"},  # 3: unknown case
        {"agency": "northwind", "transaction_id": "NW-3", "case_id": a, "type": "payment", "date": "2026-03-12",
         "amount": "10.00"},  # 4: A is with eastgate
        {"agency": "northwind", "transaction_id": "NW-4", "case_id": c, "type": "contact", "date": "2026-03-12"},
        # 5: C is with nobody
        {"agency": "northwind", "transaction_id": "NW-5", "case_id": b, "type": "payment", "date": "2026-03-12",
         "amount": "750.00"},  # 6: only 700.00 left after line 2
        {"agency": "northwind", "transaction_id": "NW-1", "case_id": b, "type": "contact", "date": "2026-03-12"},
        # 7: duplicate of line 2
        {"agency": "northwind", "transaction_id": "NW-7", "case_id": b, "type": "payment", "date": "12/03/2026",
         "amount": "1.00"},  # 8: not a date
        {"agency": "northwind", "transaction_id": "NW-8", "case_id": b, "type": "refund", "date": "2026-03-12"},
        # 9: unknown type
        {"agency": "northwind", "transaction_id": "NW-9", "case_id": b, "type": "status", "date": "2026-03-12"},
        # 10: a status needs a detail
        {"agency": "northwind", "transaction_id": "NW-10", "case_id": b, "type": "payment", "date": "2026-03-01",
         "amount": "1.00"},  # 11: before the placement
        {"agency": "northwind", "transaction_id": "NW-11", "case_id": b, "type": "payment", "date": "2026-03-12",
         "amount": "1.001"},  # 12: too many decimals
        {"agency": "eastgate", "transaction_id": "NW-12", "case_id": b, "type": "contact", "date": "2026-03-12"},
        # 13: another agency's line
        {"agency": "northwind", "transaction_id": "NW-13", "case_id": b, "type": "payment", "date": "2026-03-12",
         "amount": "١٢٣.٤٥"},  # 14: Arabic-Indic digits are no amount
        {"agency": "northwind", "transaction_id": "NW-14", "case_id": "２", "type": "contact", "date": "2026-03-12"},
        # 15: nor are full-width digits a case id
    ])
    before = _dump(agency_project)
    result = agency_project("agency", "import", str(path), now=day_at(12, 12), expect=1)
    text = result.output
    assert "northwind-bad.csv: 13 problems; nothing was imported" in text
    for expected in (
        "line 3: unknown case 999",
        f"line 4: case {a} is not placed with northwind",
        f"line 5: case {c} is not placed with northwind",
        f"line 6: EUR 750.00 is more than the balance of case {b} (EUR 700.00 after the earlier lines of this file)",
        "line 7: duplicate transaction id 'NW-1' (also on line 2)",
        "line 8: date '12/03/2026' is not a date such as 2026-06-30",
        "line 9: type 'refund' is not one of payment, contact, status, closure",
        "line 10: a status line needs a detail (the new status)",
        f"line 11: case {b} was not placed with northwind on 2026-03-01 (placed 2026-03-11 to now)",
        "line 12: '1.001' has more decimals than EUR allows (2)",
        "line 13: agency 'eastgate' is not 'northwind'; a return file comes from one agency",
        "line 14: not an amount: '١٢٣.٤٥'",
        "line 15: case_id '２' is not a case number",
    ):
        assert expected in text, expected
    assert "line 2:" not in text
    assert _dump(agency_project) == before

    # A dry run of a good file writes nothing either.
    good = write_returns(agency_project.folder / "northwind-good.csv", [
        {"agency": "northwind", "transaction_id": "NW-1", "case_id": b, "type": "payment", "date": "2026-03-12",
         "amount": "100.00"}])
    assert "1 lines from northwind are good" in agency_project("agency", "import", str(good), "--dry-run",
                                                                now=day_at(12, 12)).stdout
    assert _dump(agency_project) == before


def test_shape_problems_name_the_line(agency_project: Project) -> None:
    _placed(agency_project)
    missing = agency_project.folder / "missing.csv"
    missing.write_text("agency,case_id,type,date\nnorthwind,1,contact,2026-03-12\n", encoding="utf-8")
    assert "line 1: missing column transaction_id" in agency_project("agency", "import", str(missing), expect=1).output
    ragged = agency_project.folder / "ragged.csv"
    ragged.write_text("agency,transaction_id,case_id,type,date\nnorthwind,T1,1,contact\n", encoding="utf-8")
    assert "line 2: 4 fields, the header has 5" in agency_project("agency", "import", str(ragged), expect=1).output
    unknown = agency_project.folder / "unknown.csv"
    unknown.write_text("agency,transaction_id,case_id,type,date\nsouthwind,T1,1,contact,2026-03-12\n", encoding="utf-8")
    assert "line 2: unknown agency 'southwind'" in agency_project("agency", "import", str(unknown), expect=1).output


def test_closures_and_payments_in_full_end_the_placement(agency_project: Project) -> None:
    ids = _placed(agency_project)
    a, b = str(ids["A"]), str(ids["B"])
    closing = write_returns(agency_project.folder / "eastgate-close.csv", [
        {"agency": "eastgate", "transaction_id": "EG-9", "case_id": a, "type": "closure", "date": "2026-03-15",
         "detail": "debtor cannot be traced"}])
    agency_project("agency", "import", str(closing), now=day_at(15))
    shown = json.loads(agency_project("cases", "show", a, "--json").stdout)
    assert shown["stage"] == "internal"
    [placement] = json.loads(agency_project("agency", "placements", "--case", a, "--json").stdout)
    assert (
        placement["end_kind"] == "closure" and placement["end_reason"] == "closed by eastgate: debtor cannot be traced"
    )
    # The agency closed it itself: no recall file tells it what it already knows.
    assert not list((agency_project.folder / "agency-files" / "eastgate").glob("recalls-*"))
    [changed] = [
        e for e in events(agency_project, ids["A"], "stage_changed") if e["data"].get("by") == "agency:eastgate"
    ]
    assert changed["data"]["to"] == "internal"

    full = write_returns(agency_project.folder / "northwind-full.csv", [
        {"agency": "northwind", "transaction_id": "NW-20", "case_id": b, "type": "payment", "date": "2026-03-16",
         "amount": "800.00"}])
    agency_project("agency", "import", str(full), now=day_at(16))
    assert json.loads(agency_project("cases", "show", b, "--json").stdout)["status"] == "paid"
    [placement] = json.loads(agency_project("agency", "placements", "--case", b, "--json").stdout)
    assert placement["status"] == "ended" and placement["end_kind"] == "paid"

    # A payment the agency collected before the recall, reported after it, still counts.
    late = write_returns(agency_project.folder / "eastgate-late.csv", [
        {"agency": "eastgate", "transaction_id": "EG-10", "case_id": a, "type": "payment", "date": "2026-03-14",
         "amount": "50.00"},
        {"agency": "eastgate", "transaction_id": "EG-11", "case_id": a, "type": "closure", "date": "2026-03-16",
         "detail": "again"}])
    result = agency_project("agency", "import", str(late), now=day_at(17), expect=1)
    assert (
        f"line 3: case {a} was not placed with eastgate on 2026-03-16 (placed 2026-03-11 to 2026-03-15)"
        in result.output
    )
    write_returns(late, [
        {"agency": "eastgate", "transaction_id": "EG-10", "case_id": a, "type": "payment", "date": "2026-03-14",
         "amount": "50.00"}])
    agency_project("agency", "import", str(late), now=day_at(17))
    assert json.loads(agency_project("cases", "show", a, "--json").stdout)["balance"] == "11950.00"


def test_control_characters_and_oversized_fields_are_refused(agency_project: Project) -> None:
    ids = _placed(agency_project)
    b = str(ids["B"])
    path = write_returns(agency_project.folder / "northwind-ctl.csv", [
        {"agency": "northwind", "transaction_id": "NW-1\x00", "case_id": b, "type": "contact", "date": "2026-03-12"},
        {"agency": "northwind", "transaction_id": "NW-2", "case_id": b, "type": "status", "date": "2026-03-12",
         "detail": "moved\x1b[2J"}])
    before = _dump(agency_project)
    text = agency_project("agency", "import", str(path), now=day_at(12, 12), expect=1).output
    assert "line 2: a field holds a control character (U+0000)" in text
    assert "line 3: a field holds a control character (U+001B)" in text
    big = agency_project.folder / "northwind-big.csv"
    big.write_text("agency,transaction_id,case_id,type,date,amount,currency,detail\n"
                   f"northwind,NW-9,{b},status,2026-03-12,,,\"{'x' * 200_000}\"\n", encoding="utf-8")
    assert "line 2: not valid CSV: field larger than field limit" in agency_project(
        "agency", "import", str(big), now=day_at(12, 12), expect=1).output
    assert _dump(agency_project) == before
