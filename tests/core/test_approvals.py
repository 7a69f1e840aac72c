"""`dunning approvals`: each waiting action with the debtor, the balance, the overdue amount and why."""

from __future__ import annotations

import json

from dunning.approvals import approval_why
from tests.conftest import Project, row, write_csv


DPD91 = "2026-05-31T09:00:00+00:00"  # trade-receivables: lock-account, which needs approval


def test_approval_why_reads_the_rule_or_the_policy():
    assert approval_why({"reason": "policy", "detail": "step 'lock-account' requires approval"}) == (
        "step 'lock-account' requires approval")
    assert approval_why({"rule": "limitation", "reason": "the claim is time-barred"}) == (
        "limitation: the claim is time-barred")
    assert approval_why(None) == "approval required"


def test_approvals_show_the_debtor_balance_overdue_amount_and_why(project: Project):
    rows = [row("C001", "INV-1", "1200.00", name="Trading Co"),
            row("C001", "INV-2", "300.00", due_on="2026-07-15", name="Trading Co")]
    project("import", str(write_csv(project.folder / "in.csv", rows)), now="2026-02-20T08:00:00Z")
    project("run", now=DPD91)
    waiting = json.loads(project("approvals", "--json", now=DPD91).stdout)
    [lock] = [a for a in waiting if a["step"] == "lock-account"]
    assert {k: lock[k] for k in ("case_id", "debtor_name", "balance", "balance_minor", "overdue", "overdue_minor",
                                 "currency", "why", "status")} == {
        "case_id": 1, "debtor_name": "Trading Co", "balance": "1500.00", "balance_minor": 150000,
        "overdue": "1200.00", "overdue_minor": 120000, "currency": "EUR",
        "why": "step 'lock-account' requires approval", "status": "awaiting_approval"}
    table = project("approvals", now=DPD91).stdout.splitlines()
    assert table[0].split() == ["id", "case", "debtor", "balance", "overdue", "for", "step", "channel", "target", "why"]
    [line] = [t for t in table if "lock-account" in t]
    assert "Trading Co" in line and "EUR 1,500.00" in line and "EUR 1,200.00" in line
    assert line.endswith("step 'lock-account' requires approval")
