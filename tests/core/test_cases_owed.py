"""``cases list`` and ``cases show`` state the overdue amount and what is not yet due beside the balance."""

from __future__ import annotations

import json

from dunning.creditor_reference import for_case, printed
from tests.conftest import Project, row, write_csv


NOW = "2026-04-01T09:00:00+00:00"  # 31 days past the first due date, two weeks before the second


def two_instalments(project: Project) -> None:
    path = write_csv(project.folder / "debts.csv", [
        row("C001", "INV-1", "400.00", "2026-03-01"),
        row("C001", "INV-2", "1590.00", "2026-04-15"),
    ])
    project("import", str(path), now="2026-02-01T09:00:00+00:00")


def test_cases_list_json_carries_the_overdue_and_not_yet_due_beside_the_balance(project: Project):
    two_instalments(project)
    [case] = json.loads(project("cases", "list", "--json", now=NOW).stdout)
    assert (case["balance"], case["overdue"], case["not_yet_due"]) == ("1990.00", "400.00", "1590.00")
    assert (case["balance_minor"], case["overdue_minor"], case["not_yet_due_minor"]) == (199000, 40000, 159000)
    assert case["creditor_reference"] == for_case(case["id"])


def test_cases_list_prints_the_figures_with_thousands_separators(project: Project):
    # Found as a new user: `cases list` printed "GBP 1990.00".
    two_instalments(project)
    lines = project("cases", "list", now=NOW).stdout.splitlines()
    assert lines[0].split() == ["id", "debtor", "name", "stage", "status", "overdue", "not", "yet", "due", "balance",
                                "dpd", "risk"]
    assert "EUR 400.00" in lines[1] and "EUR 1,590.00" in lines[1] and "EUR 1,990.00" in lines[1]
    assert "1990.00" not in lines[1]


def test_cases_show_marks_the_overdue_items_and_gives_the_payment_reference(project: Project):
    two_instalments(project)
    shown = json.loads(project("cases", "show", "1", "--json", now=NOW).stdout)
    assert (shown["overdue"], shown["not_yet_due"], shown["balance"]) == ("400.00", "1590.00", "1990.00")
    assert [(o["reference"], o["overdue"], o["days_overdue"]) for o in shown["obligations"]] == [
        ("INV-1", True, 31), ("INV-2", False, 0)]
    text = project("cases", "show", "1", now=NOW).stdout
    assert "balance EUR 1,990.00 (overdue EUR 400.00, not yet due EUR 1,590.00)" in text
    assert f"payment reference {printed(for_case(1))}" in text
    [first] = [line for line in text.splitlines() if line.startswith("INV-1")]
    [second] = [line for line in text.splitlines() if line.startswith("INV-2")]
    assert first.split()[-2:] == ["overdue", "31d"] and "EUR 400.00" in first
    assert second.split()[-3:] == ["1,590.00", "due", "later"]
