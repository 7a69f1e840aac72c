"""Import is validated whole: one bad row and nothing is written."""

from __future__ import annotations

import json

from tests.conftest import Project, dump, row, write_csv



def test_a_good_file_imports_and_reimporting_it_changes_nothing(project: Project):
    path = write_csv(project.folder / "in.csv", [row("C1", "INV-1"), row("C1", "INV-2", "300.50", "2026-04-01"),
                                                  row("C2", "INV-9", "99.99")])
    out = json.loads(project("import", str(path), "--json", now="2026-02-20T08:00:00Z").stdout)
    warnings = out.pop("warnings")
    assert out == {
        "debtors": 2,
        "cases_opened": 2,
        "obligations_added": 3,
        "obligations_unchanged": 0,
        "dry_run": False,
    }
    # The UK's drama numbers have the right shape but are not in use: imported, and reported.
    assert [w.split(": ", 1)[1] for w in warnings] == [
        f"line {n}: mobile: +447700900123 is not a number in use in its country's numbering plan" for n in (2, 3, 4)]
    # On stderr (cron mail, log files) the same warnings name line and field, with the number masked.
    stderr = project("import", str(path), "--dry-run").stderr
    assert "line 2: mobile: ***123 is not a number in use" in stderr and "7700900123" not in stderr
    cases = {c["debtor_id"]: c for c in json.loads(project("cases", "list", "--json").stdout)}
    assert cases["C1"]["balance"] == "1500.50" and cases["C1"]["balance_minor"] == 150050
    assert cases["C1"]["currency"] == "EUR"
    again = json.loads(project("import", str(path), "--json").stdout)
    assert again["obligations_added"] == 0 and again["obligations_unchanged"] == 3


def test_a_bad_file_names_every_bad_line_and_field_and_writes_nothing(project: Project):
    good = write_csv(project.folder / "good.csv", [row("C1", "INV-1")])
    project("import", str(good), now="2026-02-20T08:00:00Z")
    before = dump(project)
    bad = write_csv(project.folder / "bad.csv", [
        row("C2", "INV-2"),
        row("C3", "INV-3", amount="12,34"),
        row("C4", "INV-4", due_on="2026-02-30", email="not-an-email"),
        row("C5", "INV-5", currency="XYZ"),
        row("C2", "INV-2"),
        row("C1", "INV-1", amount="999.00"),
        row("", "INV-7"),
    ])
    result = project("import", str(bad), expect=1)
    lines = result.output.strip().splitlines()
    assert f"Error: {bad}: line 3: amount: not an amount: '12,34'" in lines
    assert any(f"{bad}: line 4: due_on: not a date" in line for line in lines)
    assert any(f"{bad}: line 4: email: not an email address" in line for line in lines)
    assert any(f"{bad}: line 5: currency: unknown currency 'XYZ'" in line for line in lines)
    assert any(f"{bad}: line 6: reference: 'INV-2' for debtor 'C2' already appears on line 2" in line for line in lines)
    assert any(f"{bad}: line 7: reference: 'INV-1' is already recorded for debtor 'C1'" in line for line in lines)
    assert any(f"{bad}: line 8: debtor_id: is required" in line for line in lines)
    assert dump(project) == before


def test_a_missing_column_is_reported_from_the_header(project: Project):
    path = project.folder / "short.csv"
    path.write_text("debtor_id,name,amount\nC1,Acme,10.00\n")
    result = project("import", str(path), expect=1)
    assert f"{path}: line 1: reference: column is missing from the header" in result.output


def test_json_import_and_dry_run(project: Project):
    path = project.folder / "in.json"
    path.write_text(json.dumps([row("J1", "L-1"), row("J1", "L-2", amount="5.00")]))
    dry = json.loads(project("import", str(path), "--dry-run", "--json").stdout)
    assert dry["obligations_added"] == 2 and dry["dry_run"] is True
    assert json.loads(project("cases", "list", "--json").stdout) == []
    project("import", str(path))
    assert len(json.loads(project("cases", "list", "--json").stdout)) == 1
    path.write_text(json.dumps([row("J2", "L-3", amount="-5.00")]))
    assert f"{path}: item 1: amount" in project("import", str(path), expect=1).output


def test_json_rows_may_carry_third_party_contacts(project: Project):
    path = project.folder / "loans.json"
    good = row("P1", "LN-1") | {"locale": "zh_CN", "contacts": [
        {"kind": "mobile", "value": "+86 138 0013 8000", "role": "spouse", "name": "Wang Fang"},
        {"kind": "work", "value": "+86 10 6552 9988", "role": "employer", "name": "Bright Textiles"}]}
    path.write_text(json.dumps([good]))
    project("import", str(path))
    assert project.sql("SELECT role, name FROM contacts WHERE role != 'debtor' ORDER BY id") == [
        ("spouse", "Wang Fang"), ("employer", "Bright Textiles")]
    assert project.sql("SELECT locale FROM debtors WHERE id = 'P1'") == [("zh_CN",)]
    bad = row("P2", "LN-2") | {
        "contacts": [{"kind": "pager", "value": "1"}, {"kind": "email", "value": "x", "role": "cousin"}]
    }
    path.write_text(json.dumps([bad]))
    out = project("import", str(path), expect=1).output
    assert f"{path}: item 1: contacts[1].kind: must be one of" in out
    assert f"{path}: item 1: contacts[2].role: must be one of" in out


def test_phone_numbers_are_stored_in_e164_and_impossible_ones_are_rejected(project: Project):
    path = write_csv(project.folder / "in.csv", [
        row("C1", "INV-1", mobile="020 7946 0018", country="GB", address="1 The Mall\nLondon\nSW1A 1AA"),
        row("C2", "INV-2", mobile="+1 (212) 555-0100", work_phone="", country="US"),
    ])
    project("import", str(path), now="2026-02-20T08:00:00Z")
    shown = json.loads(project("cases", "list", "--json").stdout)
    assert len(shown) == 2
    numbers = sorted(r[0] for r in project.sql("SELECT value FROM contacts WHERE kind = 'mobile'"))
    [(address,)] = project.sql("SELECT value FROM contacts WHERE kind = 'postal'")
    assert numbers == ["+12125550100", "+442079460018"]
    assert address == "1 The Mall\nLondon\nSW1A 1AA"  # a quoted cell keeps its line breaks
    before = dump(project)
    bad = write_csv(project.folder / "bad.csv", [row("C3", "INV-3"), row("C4", "INV-4", mobile="12", country="GB")])
    result = project("import", str(bad), expect=1)
    assert "bad.csv: line 3: mobile: not a phone number: '12'" in result.output
    assert dump(project) == before
