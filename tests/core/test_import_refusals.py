"""Files that cannot be imported as they are: one line each naming file, line and field; the store as it was."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Project, dump, row, write_csv


HEADER = "debtor_id,name,reference,amount,currency,due_on"


@pytest.fixture
def started(project: Project) -> Project:
    project("import", str(write_csv(project.folder / "first.csv", [row("C1")])), now="2026-02-20T08:00:00Z")
    return project


def refused(project: Project, path: Path, *args: str) -> str:
    before = dump(project)
    result = project("import", str(path), *args, expect=1)
    assert "Traceback" not in result.output
    assert dump(project) == before
    return result.output


def test_a_file_that_is_not_utf8_says_so_and_cp1252_reads_it(started: Project):
    path = started.folder / "export.csv"
    path.write_bytes(f"{HEADER}\nC2,Caf\xe9 M\xfcller,INV-2,10.00,EUR,2026-03-01\n".encode("cp1252"))
    out = refused(started, path)
    assert (
        f"{path}: line 2: file: not utf-8 text: byte 0xe9 cannot be read (a spreadsheet export? try --encoding cp1252)"
        in out
    )
    started("import", str(path), "--encoding", "cp1252")
    assert "Café Müller" in started("cases", "list").stdout
    assert "unknown encoding 'klingon'" in refused(started, path, "--encoding", "klingon")


def test_non_ascii_digits_and_huge_amounts_are_refused(started: Project):
    path = started.folder / "digits.csv"
    path.write_text(f"{HEADER}\nC2,A,INV-2,８９００.００,EUR,2026-03-01\nC3,B,INV-3,1000000000000000.00,EUR,2026-03-01\n",
                    encoding="utf-8")
    out = refused(started, path)
    assert "line 2: amount: not an amount: '８９００.００'" in out
    assert "line 3: amount: too large an amount" in out


def test_a_cell_over_the_csv_limit_and_json_nested_too_deeply(started: Project):
    big = started.folder / "big.csv"
    big.write_text(f"{HEADER},address\nC2,A,INV-2,1.00,EUR,2026-03-01,\"{'x' * 200_000}\"\n", encoding="utf-8")
    assert f"{big}: line 2: file: not valid CSV: field larger than field limit" in refused(started, big)
    deep = started.folder / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    assert f"{deep}: line 1: file: not valid JSON: nested too deeply" in refused(started, deep)


def test_duplicated_and_misspelt_columns_are_refused(started: Project):
    twice = started.folder / "twice.csv"
    twice.write_text(f"{HEADER},amount\nC2,A,INV-2,1.00,EUR,2026-03-01,2.00\n", encoding="utf-8")
    assert f"{twice}: line 1: amount: column appears twice in the header" in refused(started, twice)
    misspelt = started.folder / "mobil.csv"
    misspelt.write_text(f"{HEADER},mobil,notes\nC2,A,INV-2,1.00,EUR,2026-03-01,+44 7700 900123,ok\n", encoding="utf-8")
    out = refused(started, misspelt)
    assert f"{misspelt}: line 1: mobil: unknown column; did you mean 'mobile'?" in out
    assert "notes" not in out  # a column unlike any known one is just extra
    json_file = started.folder / "typo.json"
    json_file.write_text(json.dumps([{"debtor_id": "C2", "name": "A", "reference": "R", "amount": "1.00",
                                      "currency": "EUR", "due_on": "2026-03-01", "emial": "a@b.example"}]))
    assert f"{json_file}: item 1: emial: unknown column; did you mean 'email'?" in refused(started, json_file)


@pytest.mark.parametrize("field, value", [
    ("name", "Acme\x1b[2J Ltd"), ("name", "Acme\x00"), ("email", "ap@acme.example\x00"), ("debtor_id", "C\x07-2"),
    ("address", "1 High St\x00, London"),
])
def test_control_characters_are_refused_in_every_text_field(started: Project, field: str, value: str):
    path = write_csv(started.folder / "ctl.csv", [row(**{"debtor_id": "C2", "reference": "INV-2", field: value})])
    out = refused(started, path)
    assert f"{path}: line 2: {field}: holds a control character (U+00" in out


def test_a_multiline_address_is_still_welcome(started: Project):
    path = write_csv(started.folder / "addr.csv", [row("C2", "INV-2", address="1 High St\nLondon\nEC1A 1AA")])
    started("import", str(path))


@pytest.mark.parametrize("field, value, message", [
    ("email", "ap@acme", "email: not an email address: 'ap@acme'"),
    ("email", "a p@acme.example", "email: not an email address"),
    ("due_on", "2026-W10-1", "due_on: not a date (YYYY-MM-DD): '2026-W10-1'"),
    ("due_on", "20260301", "due_on: not a date (YYYY-MM-DD): '20260301'"),
    ("issued_on", "２０２６-02-01", "issued_on: not a date (YYYY-MM-DD)"),
    ("timezone", "posixrules", "timezone: unknown time zone 'posixrules'"),
    ("timezone", "localtime", "timezone: unknown time zone 'localtime'"),
    ("country", "UK", "country: must be an ISO 3166-1 two-letter country code, got 'UK'"),
    ("country", "XX", "country: must be an ISO 3166-1 two-letter country code, got 'XX'"),
])
def test_values_that_only_look_right_are_refused(started: Project, field: str, value: str, message: str):
    path = write_csv(started.folder / "look.csv", [row("C2", "INV-2", **{field: value})])
    assert f"{path}: line 2: {message}" in refused(started, path)


def test_international_addresses_are_accepted(started: Project):
    path = write_csv(started.folder / "idn.csv", [row("C2", "INV-2", email="jürgen@bücher.de")])
    started("import", str(path))


def test_a_file_bad_on_every_row_lists_the_first_problems_and_counts_the_rest(started: Project):
    from dunning.importer import SHOWN

    path = started.folder / "shifted.csv"
    rows = "".join(f"C{n},A,INV-{n},1.00,EUR,2026-13-01\n" for n in range(SHOWN + 50))
    path.write_text(f"{HEADER}\n{rows}", encoding="utf-8")
    out = refused(started, path)
    assert f"{path}: line 2: due_on: not a date (YYYY-MM-DD): '2026-13-01'" in out
    assert f"{path}: line {SHOWN + 1}: due_on:" in out and f"line {SHOWN + 2}: due_on:" not in out
    assert f"{path}: and 50 more problems on later lines (the first {SHOWN} are shown)" in out
