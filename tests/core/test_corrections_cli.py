"""Corrections from the command line: debtors, contacts, adjust, dispute, escalate's checks, de-escalate, and the
sync's dry run and refusals."""

from __future__ import annotations

import json

from tests.conftest import Project, dump, row, write_csv


NOW = "2026-09-15T08:00:00Z"  # 198 days past due 2026-03-01: past every stage's entry


def _import(project: Project, *rows: dict[str, str], sync: bool = False) -> None:
    args = ["import", str(write_csv(project.folder / "in.csv", list(rows or [row()])))]
    project(*args, *(["--sync"] if sync else []), now=NOW)


def test_a_plain_reimport_with_a_new_name_or_email_is_refused_and_points_to_sync(project: Project):
    _import(project, row())
    before = dump(project)
    renamed = write_csv(project.folder / "renamed.csv", [row(name="Acme Holdings", email="billing@example.com")])
    result = project("import", str(renamed), now=NOW, expect=1)
    lines = result.output.strip().splitlines()
    assert lines[0].startswith(f"Error: {renamed}: line 2: name: debtor 'C001' is recorded with name "
                               "'Customer C001', the file says 'Acme Holdings'")
    assert "--sync" in lines[0] and "line 2: email: debtor 'C001' has no email contact 'b***@example.com'" in lines[1]
    assert dump(project) == before
    synced = project("import", str(renamed), "--sync", now=NOW)
    assert "name: 'Customer C001' -> 'Acme Holdings'" in synced.output
    assert "contact inactive: email a***@example.com" in synced.output


def test_a_sync_dry_run_prints_per_debtor_and_changes_nothing_and_bad_rows_are_one_line_each(project: Project):
    _import(project, row(reference="INV-1"), row(reference="INV-2"))
    before = dump(project)
    books = write_csv(project.folder / "books.csv", [row(reference="INV-1", amount="1000.00")])
    dry = project("import", str(books), "--sync", "--dry-run", now=NOW)
    assert dry.stdout.splitlines() == [
        "debtor C001 (Customer C001):",
        "  adjusted INV-1: EUR 1,200.00, open EUR 1,200.00, due 2026-03-01 -> EUR 1,000.00, open EUR 1,000.00, "
        "due 2026-03-01",
        "  closed INV-2 as paid_elsewhere (was open EUR 1,200.00)",
        "would sync 1 debtors: 0 added, 1 adjusted, 1 closed, 0 debtors changed",
    ]
    assert dump(project) == before
    bad = project.folder / "bad.csv"
    bad.write_text("debtor_id,name,reference,amount,currency,due_on,open_amount,status\n"
                   "C001,Customer C001,INV-1,100.00,EUR,2026-03-01,150.00,open\n"
                   "C001,Customer C001,INV-2,100.00,EUR,2026-03-01,,lost\n", encoding="utf-8")
    refused = project("import", str(bad), "--sync", now=NOW, expect=1)
    assert refused.output.strip().splitlines() == [
        f"Error: {bad}: line 2: open_amount: EUR 150.00 is more than the amount EUR 100.00",
        f"{bad}: line 3: status: must be one of open, paid, credited, got 'lost'",
    ]
    assert dump(project) == before
    assert "--full goes with --sync" in project("import", str(books), "--full", now=NOW, expect=1).output


def test_debtor_edits_and_contacts_are_events_with_who_and_why_and_removed_contacts_are_kept_inactive(
        project: Project):
    _import(project, row())
    project("debtors", "edit", "C001", "--name", "Acme Ltd", "--timezone", "Europe/Paris", "--by", "ana",
            "--reason", "letterhead", now=NOW)
    assert "--timezone: " in project("debtors", "edit", "C001", "--timezone", "Mars/Olympus", "--by", "ana",
                                     "--reason", "x", now=NOW, expect=1).output
    added = project("contacts", "add", "C001", "mobile", "07700 900456", "--by", "ana", "--reason", "called in",
                    now=NOW)
    assert "added (mobile ***456)" in added.output
    assert "not an email address" in project("contacts", "add", "C001", "email", "nope", "--by", "ana", "--reason",
                                             "x", now=NOW, expect=1).output
    project("contacts", "remove", "C001", "+447700900123", "--by", "ana", "--reason", "number given up", now=NOW)
    project("contacts", "mark-bad", "C001", "ap@example.com", "--by", "ana", "--reason", "bounces", now=NOW)
    shown = json.loads(project("debtors", "show", "C001", "--json", now=NOW).output)
    assert (shown["name"], shown["timezone"]) == ("Acme Ltd", "Europe/Paris")
    states = {c["value"]: (c["active"], c["bad"], c["source"]) for c in shown["contacts"]}
    assert states == {"ap@example.com": (True, True, "import"), "+447700900123": (False, False, "import"),
                      "+447700900456": (True, False, "operator")}
    events = json.loads(project("events", "--kind", "debtor_changed", "--json", now=NOW).output)
    assert events[0]["data"]["changes"] == {"name": {"before": "Customer C001", "after": "Acme Ltd"},
                                            "timezone": {"before": "Europe/London", "after": "Europe/Paris"}}
    assert [(e["data"]["by"], e["data"]["reason"]) for e in events] == [
        ("ana", "letterhead"), ("ana", "called in"), ("ana", "number given up")]
    assert events[2]["data"]["contacts_inactive"] == [{"kind": "mobile", "role": "debtor", "value": "***123"}]


def test_adjust_to_zero_credits_the_item_and_resolves_the_case_and_unknown_obligations_are_one_line(
        project: Project):
    _import(project, row(reference="INV-1"), row(reference="INV-2", amount="300.00"))
    before = dump(project)
    unknown = project("adjust", "INV-404", "--amount", "1", "--reason", "x", "--by", "ana", now=NOW, expect=1)
    assert unknown.output.strip() == ("Error: no obligation 'INV-404': name it as CASE/REFERENCE (4/INV-1001) or by "
                                      "its invoice reference")
    assert dump(project) == before
    out = project("adjust", "1/INV-1", "--amount", "1000.00", "--reason", "credit note CN-7", "--by", "ana", now=NOW)
    assert out.output.strip() == "1/INV-1: EUR 1,200.00 -> EUR 1,000.00; balance EUR 1,300.00"
    project("adjust", "INV-1", "--amount", "0", "--reason", "cancelled", "--by", "ana", now=NOW)
    last = project("adjust", "INV-2", "--amount", "0", "--reason", "cancelled", "--by", "ana", now=NOW)
    assert last.output.strip().endswith("balance EUR 0.00; case resolved as paid")
    case = json.loads(project("cases", "show", "1", "--json", now=NOW).output)
    assert case["status"] == "paid"


def test_escalate_meets_the_policys_minimum_and_approval_unless_forced(project: Project):
    _import(project, row(amount="1200.00"))
    before = dump(project)
    refused = project("escalate", "1", "--to", "litigation", "--reason", "no answer", now=NOW, expect=1)
    assert refused.output.strip() == (
        "Error: case 1 cannot go to litigation: the balance EUR 1,200.00 is below the policy's minimum for "
        "litigation (5000.00); `--force --by NAME --reason TEXT` overrides, recorded as forced")
    assert dump(project) == before
    assert "--force needs --by NAME" in project("escalate", "1", "--to", "litigation", "--reason", "x", "--force",
                                                now=NOW, expect=1).output
    forced = project("escalate", "1", "--to", "litigation", "--reason", "absconded", "--force", "--by", "sam",
                     now=NOW)
    assert forced.output.startswith("case 1 is now at litigation (forced, overriding: the balance")
    back = project("de-escalate", "1", "--to", "internal", "--reason", "paying by instalments", "--by", "sam",
                   now=NOW)
    assert back.output.startswith("case 1 is back at internal")
    moves = json.loads(project("events", "--kind", "stage_changed", "--json", now=NOW).output)
    assert [(m["data"]["to"], m["data"].get("forced"), m["data"].get("de_escalated")) for m in moves] == [
        ("litigation", True, None), ("internal", None, True)]


def test_an_escalation_the_policy_must_approve_waits_in_the_approval_queue(project: Project):
    _import(project, row(amount="6000.00"))
    asked = project("escalate", "1", "--to", "litigation", "--reason", "no answer", now=NOW)
    assert "entering litigation needs approval; queued as action" in asked.output
    waiting = json.loads(project("approvals", "--json", now=NOW).output)
    assert [(a["kind"], a["target"], a["why"]) for a in waiting] == [
        ("escalate", "litigation", "the policy requires approval to enter litigation")]
    case = json.loads(project("cases", "show", "1", "--json", now=NOW).output)
    assert case["stage"] == "internal"
    approved = waiting[0]["id"]
    project("approve", str(approved), "--by", "Jo Director", now=NOW)
    project("run", now="2026-09-15T09:00:00Z")
    case = json.loads(project("cases", "show", "1", "--json", now=NOW).output)
    assert case["stage"] == "litigation"
    moved = json.loads(project("events", "--kind", "stage_changed", "--json", now=NOW).output)
    assert (moved[-1]["data"]["to"], moved[-1]["data"]["approved_by"]) == ("litigation", "Jo Director")


def test_a_full_sync_of_an_empty_export_is_refused_and_json_lists_every_change(project: Project):
    _import(project, row(reference="INV-1"))
    before = dump(project)
    empty = write_csv(project.folder / "empty.csv", [])
    refused = project("import", str(empty), "--sync", "--full", now=NOW, expect=1)
    assert "lists no open items; with --full that would close every open item" in refused.output
    assert dump(project) == before
    books = project.folder / "books.csv"
    books.write_text("debtor_id,name,kind,email,mobile,country,reference,amount,currency,due_on,open_amount\n"
                     "C001,Customer C001,company,ap@example.com,+44 7700 900123,GB,INV-1,1200.00,EUR,2026-03-01,"
                     "200.00\n", encoding="utf-8")
    done = json.loads(project("import", str(books), "--sync", "--json", now=NOW).stdout)
    assert (done["adjusted"], done["closed"], done["dry_run"]) == (1, 0, False)
    [change] = done["changes"]
    assert change["adjusted"][0]["after"]["open"] == 20000


def test_corrections_refuse_in_one_line_and_change_nothing(project: Project):
    _import(project, row(reference="INV-1"))
    project("dispute", "INV-1", "--reason", "damaged", now=NOW)
    before = dump(project)
    refusals = [
        (("dispute", "INV-1", "--reason", "again"), "Error: 1/INV-1 is already disputed (since 2026-09-15)"),
        (("contacts", "add", "C404", "email", "a@b.example", "--by", "ana", "--reason", "x"),
         "Error: no debtor with id 'C404'"),
        (("contacts", "remove", "C001", "+44 7700 900999", "--by", "ana", "--reason", "x"),
         "Error: debtor 'C001' has no contact '+44 7700 900999'"),
        (("debtors", "edit", "C001", "--by", "ana", "--reason", "x"),
         "Error: nothing to change: give --name, --address, --timezone, --locale, --kind, --country or --region"),
        (("adjust", "1/INV-1", "--amount", "-5", "--reason", "x", "--by", "ana"),
         "Error: --amount must not be negative"),
        (("de-escalate", "1", "--to", "onsite", "--reason", "x", "--by", "ana"),
         "Error: case 1 is at internal; onsite is not an earlier stage (use `dunning escalate` to move forward)"),
    ]
    for args, message in refusals:
        assert project(*args, now=NOW, expect=1).output.strip() == message, args
    assert dump(project) == before
    project("dispute", "INV-1", "--reason", "settled", "--lift", now=NOW)
    assert "is not disputed" in project("dispute", "INV-1", "--reason", "x", "--lift", now=NOW, expect=1).output
