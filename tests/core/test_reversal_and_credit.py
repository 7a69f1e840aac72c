"""A reversed payment reopens and re-plans; an overpayment becomes a credit that pays the next item or is refunded."""

from __future__ import annotations

import json

from tests.conftest import Project, dump, row, write_csv



def _import(project: Project, *rows: dict[str, str], now: str = "2026-02-20T08:00:00Z") -> None:
    project("import", str(write_csv(project.folder / "in.csv", list(rows or [row()]))), now=now)


def _case(project: Project, case_id: int, now: str | None = None) -> dict:
    return json.loads(project("cases", "show", str(case_id), "--json", now=now).stdout)


def _events(project: Project, kind: str) -> list[dict]:
    return json.loads(project("events", "--kind", kind, "--json").stdout)


def test_a_bounced_payment_reopens_the_case_breaks_the_promise_it_kept_and_the_run_plans_again(project: Project):
    _import(project)  # INV-1, EUR 1,200.00 due 1 March
    project("run", now="2026-03-10T08:00:00Z")
    project("promise", "1", "1200.00", "--due", "2026-03-11T12:00:00Z", now="2026-03-10T09:00:00Z")
    project("pay", "1", "1200.00", "--reference", "CHQ-881", now="2026-03-11T10:00:00Z")
    project("run", now="2026-03-11T14:00:00Z")  # the promise is kept
    assert _case(project, 1)["status"] == "paid"
    assert _case(project, 1)["promises"][0]["status"] == "kept"

    payments = json.loads(project("payments", "list", "--case", "1", "--json").stdout)
    result = project("payments", "reverse", str(payments[0]["id"]), "--reason", "cheque returned unpaid",
                     "--by", "Kim", now="2026-03-15T08:00:00Z")
    assert "reopened at internal" in result.stdout and "promise 1 broken" in result.stdout
    case = _case(project, 1, now="2026-03-15T08:00:00Z")
    assert (case["status"], case["stage"], case["balance_minor"], case["dpd"]) == ("open", "internal", 120000, 14)
    assert case["promises"][0]["status"] == "broken" and case["broken_promises"] == 1
    assert case["obligations"][0]["paid"] == "0.00"
    reversed_ = _events(project, "payment_reversed")[0]["data"]
    assert (reversed_["reason"], reversed_["by"], reversed_["amount"]) == ("cheque returned unpaid", "Kim", 120000)
    assert _events(project, "reopened")[0]["data"]["was"] == "paid"
    listed = json.loads(project("payments", "list", "--json").stdout)[0]
    assert listed["reversal_reason"] == "cheque returned unpaid"

    # The runner plans from the reopened state: day 14 is a follow-up day in trade-receivables.
    summary = json.loads(project("run", "--json", now="2026-03-15T09:00:00Z").stdout)
    assert summary["planned"] > 0
    planned = project.sql("SELECT DISTINCT step FROM actions WHERE case_id = 1 AND planned_for = '2026-03-15'")
    assert planned == [("follow-up",)]

    again = project("payments", "reverse", str(payments[0]["id"]), "--reason", "twice", expect=1)
    assert "already reversed" in again.output
    assert project("verify").exit_code == 0


def test_a_case_paid_at_the_agency_stage_comes_back_to_it_after_a_reversal(project: Project):
    # Found as a new user: a case paid at day 100 (agency) and reversed stayed at internal for good,
    # because its stage changes were keyed by the days they were first due and were never made again.
    _import(project)  # INV-1, EUR 1,200.00 due 1 March: onsite at day 31, agency at day 91 (trade-receivables)
    project("run", now="2026-06-09T09:00:00Z")  # day 100
    assert _case(project, 1)["stage"] == "agency"
    project("pay", "1", "1200.00", now="2026-06-09T10:00:00Z")
    payment_id = json.loads(project("payments", "list", "--case", "1", "--json").stdout)[0]["id"]
    project("payments", "reverse", str(payment_id), "--reason", "charge-back", "--by", "Kim",
            now="2026-06-10T08:00:00Z")
    assert _case(project, 1, now="2026-06-10T08:00:00Z")["stage"] == "internal"

    project("run", now="2026-06-10T09:00:00Z")
    case = _case(project, 1, now="2026-06-10T09:00:00Z")
    assert (case["status"], case["stage"], case["dpd"]) == ("open", "agency", 101)
    moves = [(e["data"]["from"], e["data"]["to"]) for e in _events(project, "stage_changed")]
    assert moves == [("internal", "onsite"), ("onsite", "agency"), ("internal", "onsite"), ("onsite", "agency")]
    keys = [k for (k,) in project.sql("SELECT key FROM actions WHERE case_id = 1 AND kind = 'escalate' ORDER BY id")]
    # The first time round on the days they fell due (caught up on day 100), the second on the day after the reversal.
    assert keys == ["1:enter-onsite:escalate:2026-06-09", "1:enter-agency:escalate:2026-06-09",
                    "1:enter-onsite:escalate:2026-06-10", "1:enter-agency:escalate:2026-06-10"]
    # Nothing already sent goes out twice: no action key appears twice.
    all_keys = [k for (k,) in project.sql("SELECT key FROM actions WHERE case_id = 1")]
    assert len(all_keys) == len(set(all_keys))
    assert project("verify").exit_code == 0


def test_reversing_into_a_debtor_who_has_a_new_open_case_moves_the_items_there(project: Project):
    _import(project)
    project("pay", "1", "1200.00", now="2026-03-05T10:00:00Z")
    _import(project, row(reference="INV-2", amount="300.00", due_on="2026-04-01"), now="2026-03-06T08:00:00Z")
    payment_id = json.loads(project("payments", "list", "--case", "1", "--json").stdout)[0]["id"]
    result = project("payments", "reverse", str(payment_id), "--reason", "charge-back", now="2026-03-07T08:00:00Z")
    assert "moved to the debtor's open case 2" in result.stdout
    assert _case(project, 1)["status"] == "paid"
    assert [o["reference"] for o in _case(project, 2)["obligations"]] == ["INV-1", "INV-2"]
    assert _case(project, 2)["balance_minor"] == 150000


def test_an_overpayment_becomes_a_credit_that_pays_the_next_item_or_is_refunded(project: Project):
    _import(project)
    result = project("pay", "1", "1500.00", now="2026-03-05T10:00:00Z")
    assert "resolved as paid" in result.stdout and "EUR 300.00 beyond the balance is a credit" in result.stdout
    case = _case(project, 1)
    assert case["status"] == "paid" and case["credit"] == "300.00"
    assert "credit EUR 300.00" in project("cases", "show", "1").stdout
    assert _events(project, "credit")[0]["data"]["amount"] == 30000

    refused = project("refund", "C001", "--amount", "400.00", "--reason", "asked", "--by", "Kim", expect=1)
    assert "more than the credit of EUR 300.00" in refused.output
    refunded = project("refund", "C001", "--amount", "100.00", "--reason", "paid back on request", "--by", "Kim",
                       now="2026-03-06T10:00:00Z")
    assert "credit left EUR 200.00" in refunded.stdout
    assert _events(project, "refund")[0]["data"]["by"] == "Kim"

    # A new invoice for the debtor: the next run uses the credit on it before anything is sent.
    _import(project, row(reference="INV-2", amount="800.00", due_on="2026-04-01"), now="2026-03-20T08:00:00Z")
    project("run", now="2026-03-20T09:00:00Z")
    case = _case(project, 2)
    assert case["balance_minor"] == 60000 and case["credit"] == "0.00"
    applied = _events(project, "credit_applied")[0]
    assert (applied["case_id"], applied["data"]["amount"]) == (2, 20000)
    before = dump(project)
    project("run", now="2026-03-20T09:00:00Z")
    assert dump(project) == before  # the credit is used once

    # Undoing the payment the credit made gives the debtor the credit back.
    from_credit = json.loads(project("payments", "list", "--case", "2", "--json").stdout)[0]
    assert from_credit["reference"].startswith("credit:")
    project("payments", "reverse", str(from_credit["id"]), "--reason", "applied to the wrong item",
            now="2026-03-21T09:00:00Z")
    assert _case(project, 2)["credit"] == "200.00" and _case(project, 2)["balance_minor"] == 80000


def test_a_payment_whose_credit_was_used_cannot_be_reversed_first(project: Project):
    _import(project)
    project("pay", "1", "1500.00", now="2026-03-05T10:00:00Z")
    project("refund", "C001", "--amount", "300.00", "--reason", "paid back", "--by", "Kim")
    result = project("payments", "reverse", "1", "--reason", "bounced", expect=1)
    assert "left a credit of EUR 300.00 that was since used or refunded" in result.output
