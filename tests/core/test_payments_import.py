"""`dunning payments import`: bank statements in camt.053 and MT940, matched to cases or put in suspense."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import HEADER, Project, dump, row, write_csv


BANK = Path(__file__).parent / "bank"
CAMT_02 = BANK / "statement-2026-12-04.camt053.xml"
MT940 = BANK / "statement-2026-12-07.mt940.sta"
CAMT_08 = BANK / "statement-2026-12-08.camt053v08.xml"


def _portfolio(project: Project) -> None:
    """Cases 1-5: Acme, Beta, Gamma and Epsilon owe in euro, Delta in US dollars."""
    rows = [row("C001", "INV-1001", "1200.00", "2026-11-01", name="Acme Trading Ltd"),
            row("C002", "INV-2044", "99.50", "2026-11-10", name="Beta Bakery"),
            row("C003", "INV-3001", "500.00", "2026-11-05", name="G. Gamma"),
            row("C004", "INV-4001", "300.00", "2026-11-05", name="Delta Imports Inc", currency="USD"),
            row("C005", "INV-5001", "150.00", "2026-11-20", name="Epsilon Oy")]
    project("import", str(write_csv(project.folder / "open-items.csv", rows)), now="2026-11-25T08:00:00Z")


def _with_iban(path: Path, rows: list[dict[str, str]]) -> Path:
    """An import file with the optional ``iban`` column."""
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=[*HEADER, "iban"])
        writer.writeheader()
        writer.writerows({k: r.get(k, "") for k in [*HEADER, "iban"]} for r in rows)
    return path


def _import(project: Project, path: Path, now: str, *extra: str) -> list[dict]:
    result = project("payments", "import", str(path), "--json", *extra, now=now)
    return json.loads(result.stdout)["credits"]


def _case(project: Project, case_id: int) -> dict:
    return json.loads(project("cases", "show", str(case_id), "--json").stdout)


def test_statements_are_matched_by_reference_invoice_and_account_and_the_rest_waits_in_suspense(project: Project):
    _portfolio(project)
    credits = _import(project, CAMT_02, "2026-12-04T19:00:00Z")
    # The bank's charge (a debit) is not a payment.
    assert [(c["bank_reference"], c["outcome"], c["case_id"], c["matched_by"]) for c in credits] == [
        ("2026120400012345", "applied", 1, "creditor_reference"),
        ("2026120400012346", "applied", 2, "invoice_reference"),
        ("2026120400012347", "suspense", None, None),
        ("2026120400012349", "suspense", None, "invoice_reference"),
    ]
    assert credits[2]["reason"] == "no payment reference, invoice number or known account"
    assert credits[3]["reason"] == "currency EUR differs from case 4's USD"
    assert _case(project, 1)["status"] == "paid" and _case(project, 2)["status"] == "paid"
    payment = json.loads(project("events", "--case", "1", "--kind", "payment", "--json").stdout)[0]["data"]
    assert payment["reference"] == "2026120400012345" and payment["matched_by"] == "creditor_reference"
    assert payment["allocation"] == [{"reference": "INV-1001", "kind": "principal", "amount": 120000,
                                      "obligation_id": 1}]

    # The same statement again applies nothing and writes nothing.
    before = dump(project)
    again = _import(project, CAMT_02, "2026-12-05T08:00:00Z")
    assert {c["outcome"] for c in again} == {"already imported"}
    assert dump(project) == before

    waiting = json.loads(project("payments", "unmatched", "--json").stdout)
    assert [w["bank_reference"] for w in waiting] == ["2026120400012347", "2026120400012349"]

    # Gamma's first part is assigned by hand: the account becomes known as Gamma's.
    assigned = project("payments", "assign", "2026120400012347", "3", "--by", "Kim", now="2026-12-05T09:00:00Z")
    assert "EUR 200.00 applied to case 3" in assigned.stdout
    assert _case(project, 3)["balance_minor"] == 30000
    assert "2026120400012347" not in project("payments", "unmatched").stdout

    # The MT940 statement: Gamma's rest comes from the same account and is matched by it.
    mt = _import(project, MT940, "2026-12-07T19:00:00Z")
    assert [(c["bank_reference"], c["outcome"], c["case_id"], c["matched_by"]) for c in mt] == [
        ("BK2612070001", "applied", 3, "iban"),
        ("BK2612070002", "suspense", None, None),
    ]
    assert mt[0]["payer"] == "G. Gamma" and mt[0]["resolved"] is True
    assert _case(project, 3)["status"] == "paid"
    before = dump(project)
    assert {c["outcome"] for c in _import(project, MT940, "2026-12-08T08:00:00Z")} == {"already imported"}
    assert dump(project) == before

    # camt.053.001.08, a batch booking of two transfers: one names case 5 in groups of four.
    batch = _import(project, CAMT_08, "2026-12-08T19:00:00Z")
    assert [(c["bank_reference"], c["amount"], c["outcome"], c["case_id"]) for c in batch] == [
        ("2026120800050001-1", "150.00", "applied", 5),
        ("2026120800050001-2", "500.00", "suspense", None),
    ]
    assert _case(project, 5)["status"] == "paid"
    assert len(json.loads(project("payments", "unmatched", "--json").stdout)) == 3
    assert project("verify").exit_code == 0


def test_a_dry_run_says_what_each_credit_would_do_and_writes_nothing(project: Project):
    _portfolio(project)
    before = dump(project)
    result = project("payments", "import", str(CAMT_02), "--dry-run", now="2026-12-04T19:00:00Z")
    assert "case 1 by payment reference" in result.stdout
    assert "would apply 2, suspense 2, already imported 0" in result.stdout
    assert dump(project) == before


def test_a_payments_csv_is_read_by_its_columns(project: Project):
    _portfolio(project)
    csv_file = project.folder / "bank.csv"
    csv_file.write_text("reference,amount,currency,paid_on,payer,payer_iban,bank_reference\n"
                        "RF47 0000 0002,99.50,EUR,2026-12-04,Beta Bakery,DE02120300000000202051,CSV-1\n"
                        "INV-3001,100.00,EUR,2026-12-04,G. Gamma,,CSV-2\n", encoding="utf-8")
    credits = _import(project, csv_file, "2026-12-04T19:00:00Z")
    assert [(c["case_id"], c["matched_by"]) for c in credits] == [(2, "creditor_reference"), (3, "invoice_reference")]
    assert _case(project, 3)["balance_minor"] == 40000


@pytest.mark.parametrize(("name", "broken", "message"), [
    ("camt.xml", ("<Amt Ccy=\"EUR\">99.50</Amt>", "<Amt Ccy=\"EUR\">99,50</Amt>"),
     "entry 2 of statement 20261204-DE89370400440532013000: not an amount: '99,50'"),
    ("camt.xml", ("<AcctSvcrRef>2026120400012346</AcctSvcrRef>", "<AcctSvcrRef>2026120400012345</AcctSvcrRef>"),
     "entry 2 of statement 20261204-DE89370400440532013000: bank reference '2026120400012345' was already used by "
     "entry 1"),
    ("camt.xml", ("</Document>", "</Documen>"), "not well-formed XML"),
])
def test_a_bad_statement_is_refused_whole_naming_the_file_and_entry(project: Project, name: str,
                                                                     broken: tuple[str, str], message: str):
    _portfolio(project)
    bad = project.folder / name
    bad.write_text(CAMT_02.read_text(encoding="utf-8").replace(*broken), encoding="utf-8")
    before = dump(project)
    result = project("payments", "import", str(bad), now="2026-12-04T19:00:00Z", expect=1)
    assert result.output.startswith(f"Error: {bad}: ") and message in result.output
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output
    assert dump(project) == before


def test_a_bad_mt940_line_is_refused(project: Project):
    _portfolio(project)
    bad = project.folder / "bad.sta"
    shutil.copy(MT940, bad)
    bad.write_text(MT940.read_text().replace(":61:2612071207CR50,00", ":61:2612071207CR0,00"))
    result = project("payments", "import", str(bad), expect=1)
    assert f"{bad}: transaction 2: the amount must be positive" in result.output
    assert project.sql("SELECT count(*) FROM bank_credits") == [(0,)]


def test_an_iban_given_on_import_matches_the_debtors_transfers(project: Project):
    rows = [row("C003", "INV-3001", "500.00", "2026-11-05", iban="GB33 BUKB 2020 1555 5555 55")]
    project("import", str(_with_iban(project.folder / "items.csv", rows)), now="2026-11-25T08:00:00Z")
    credits = _import(project, MT940, "2026-12-07T19:00:00Z")
    assert [(c["bank_reference"], c["case_id"], c["matched_by"]) for c in credits] == [
        ("BK2612070001", 1, "iban"), ("BK2612070002", None, None)]


def test_an_invalid_iban_on_import_is_refused_naming_the_line(project: Project):
    rows = [row("C003", "INV-3001", "500.00", "2026-11-05", iban="GB33BUKB20201555555556")]
    result = project("import", str(_with_iban(project.folder / "items.csv", rows)), expect=1)
    assert "line 2: iban: is not a valid IBAN" in result.output


def test_the_statement_parsers_load_only_when_a_statement_is_read():
    import subprocess
    import sys

    code = ("import sys, dunning.cli; "
            "print(sorted(m for m in ('lxml', 'mt940', 'schwifty') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
