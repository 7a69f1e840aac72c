"""`dunning pay` allocates by [ledger] allocation and the debtor's profile; a case is paid only when charges are too."""

from __future__ import annotations

import json

from tests.conftest import Project, row, write_csv



def _with_charges(project: Project, kind: str = "company") -> None:
    project("import", str(write_csv(project.folder / "in.csv", [row(kind=kind)])), now="2026-02-20T08:00:00Z")
    # What the interest and fee rules post: a fixed compensation and interest on INV-1 (obligation 1).
    for kind_, amount, rule, key in [("compensation", 4000, "uk-late-payment", "c1"),
                                     ("interest", 1000, "uk-late-payment", "i1")]:
        project.sql("INSERT INTO charges (case_id, obligation_id, kind, amount, rule, key, created_at) "
                    "VALUES (1, 1, ?, ?, ?, ?, '2026-03-10T00:00:00Z')", (kind_, amount, rule, key))


def _allocation(project: Project) -> list[tuple[str, int]]:
    events = json.loads(project("events", "--kind", "payment", "--json").stdout)
    return [(a["kind"], a["amount"]) for a in events[-1]["data"]["allocation"]]


def test_the_default_order_pays_fees_and_interest_before_principal(project: Project):
    _with_charges(project)
    project("pay", "1", "1200.00", now="2026-03-11T10:00:00Z")
    assert _allocation(project) == [("compensation", 4000), ("interest", 1000), ("principal", 115000)]
    case = json.loads(project("cases", "show", "1", "--json").stdout)
    assert case["status"] == "open" and case["balance_minor"] == 5000
    project("pay", "1", "50.00", now="2026-03-12T10:00:00Z")
    assert json.loads(project("cases", "show", "1", "--json").stdout)["status"] == "paid"


def test_a_configured_order_and_a_consumer_profile_put_principal_first(project: Project):
    project.write_config(extra='[ledger]\nallocation = ["interest", "fees", "principal"]\n')
    _with_charges(project)
    project("pay", "1", "20.00", now="2026-03-11T10:00:00Z")
    assert _allocation(project) == [("interest", 1000), ("compensation", 1000)]


def test_principal_first_leaves_the_case_open_until_the_charges_are_paid(project: Project):
    project.write_config(extra='[compliance.jurisdictions]\nGB = "uk"\n')
    _with_charges(project, kind="person")
    project("pay", "1", "1200.00", now="2026-03-11T10:00:00Z")
    assert _allocation(project) == [("principal", 120000)]
    payment = json.loads(project("events", "--kind", "payment", "--json").stdout)[-1]["data"]
    assert payment["order"] == ["principal", "fees", "interest"] and payment["charges_after"] == 5000
    case = json.loads(project("cases", "show", "1", "--json").stdout)
    assert case["balance_minor"] == 0 and case["status"] == "open"  # the charges are still owed
    project("pay", "1", "50.00", now="2026-03-12T10:00:00Z")
    assert json.loads(project("cases", "show", "1", "--json").stdout)["status"] == "paid"


def test_an_unknown_ledger_key_is_named(project: Project):
    project.write_config(extra="[ledger]\nallocaton = [\"fees\"]\n")
    result = project("cases", "list", expect=1)
    assert f"{project.config}: unknown key 'ledger.allocaton'" in result.output
