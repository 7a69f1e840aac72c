"""CSV files for other people's spreadsheets carry no live formula, whatever a debtor is called."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from dunning import dispatch, spreadsheet
from dunning.models import Obligation, Payment
from dunning.plugins.legal import statement
from tests.plugins.test_agency_fixtures import agency_project, day_at, import_cases, read_csv, run_days  # noqa: F401
from tests.plugins.test_letter import DAY1, add_case, batch_files, open_runtime
from tests.plugins.test_phone_cli import DPD1, calls_project, debtor, setup  # noqa: F401
from tests import runtime_on_both

# Every runtime this module's tests open: on a SQLite file, then on a PostgreSQL database.
dunning_runtime = runtime_on_both.dunning_runtime


FORMULA = '=HYPERLINK("http://x","click")'


@pytest.mark.parametrize("value, safe", [
    (FORMULA, "'" + FORMULA), ("+1+1", "'+1+1"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tcmd", "'\tcmd"), ("\rcmd", "'\rcmd"),
    ("+14155550101", "+14155550101"), ("+447700900123", "+447700900123"),  # E.164 numbers: for the dialer
    ("-12.50", "-12.50"), ("+3", "+3"), ("1200.00", "1200.00"),  # plain numbers add up
    ("Acme = Ltd", "Acme = Ltd"), (42, 42), (None, None),
])
def test_cells_a_spreadsheet_would_run_are_neutralised(value, safe):
    assert spreadsheet.neutralise(value) == safe


def test_the_agency_placement_file(agency_project):  # noqa: F811
    ids = import_cases(agency_project, {**_row("B", "800.00"), "name": FORMULA})
    run_days(agency_project, 0, 10)
    [path] = list((agency_project.folder / "agency-files").rglob("placements-*.csv"))
    [line] = read_csv(path)
    assert line["case_id"] == str(ids["B"])
    assert line["debtor_name"] == "'" + FORMULA and line["phone"] == "+447700900123"


def test_the_print_batch_manifest(dunning_runtime):
    rt = open_runtime(dunning_runtime)
    add_case(rt, debtor_id="D1", name=FORMULA)
    assert dispatch.run(rt, DAY1).sent == 1
    [manifest] = batch_files(rt, ".csv")
    with manifest.open(encoding="utf-8-sig", newline="") as f:
        [row] = list(csv.DictReader(f))
    assert row["debtor_name"] == "'" + FORMULA


def test_the_call_export(calls_project):  # noqa: F811
    setup(calls_project, [debtor("F", name=FORMULA)])
    calls_project("run", now=DPD1)
    [row] = list(csv.DictReader(io.StringIO(calls_project("calls", "export", now=DPD1).stdout)))
    assert row["name"] == "'" + FORMULA and row["phone_number"] == "+447700900123"


def test_the_legal_statement_keeps_negative_balances_as_numbers():
    obligations = [Obligation(case_id=1, reference=FORMULA, amount=10000, currency="EUR", issued_on=None,
                              due_on=dt.date(2026, 3, 1))]
    payments = [Payment(case_id=1, amount=15000, at=dt.datetime(2026, 3, 5, tzinfo=dt.UTC),
                        reference="@bank", id=1)]
    text = statement.to_csv(statement.statement_lines(obligations, payments, dt.UTC), "EUR").decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1][2] == "'" + FORMULA and rows[2][2] == "'@bank"
    assert rows[2][5] == "-50.00"  # an overpayment's balance stays a number a spreadsheet adds up


def _row(debtor_id: str, amount: str) -> dict[str, str]:
    from tests.conftest import row

    return row(debtor_id, f"INV-{debtor_id}1", amount, "2026-03-01")

