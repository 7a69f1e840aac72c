"""A disputed item from the command line: the supervisor's notice (queued once per dispute, delivered by the run,
listed by `dunning notices`), and the lift that Reg F holds back until verification of the debt was sent."""

from __future__ import annotations

import json

import pytest

from dunning.plugins.email.loopback import LoopbackSMTP
from tests.conftest import Project, dump, row, write_csv


NOW = "2026-03-10T14:00:00Z"  # INV-1 and INV-2 fell due on 1 March
LATER = "2026-03-12T14:00:00Z"
REG_F = '\n[compliance]\nprofile = "default"\n\n[compliance.jurisdictions]\nUS = "us-regf"\n'


def _consumer(reference: str, amount: str) -> dict[str, str]:
    return row("P001", reference, amount, name="Pat Doe", kind="person", country="US", region="US-NY",
               timezone="America/New_York", mobile="+1 212 555 0142", email="pat@example.com")


def _import(project: Project, rows: list[dict[str, str]]) -> None:
    project.write_config(extra=REG_F)
    project("import", str(write_csv(project.folder / "in.csv", rows)), now="2026-02-20T09:00:00Z")


def _json(project: Project, *args: str, now: str = NOW) -> list[dict]:
    return json.loads(project(*args, "--json", now=now).stdout)


def test_a_dispute_queues_one_notice_to_the_supervisor_that_the_run_delivers(project: Project):
    _import(project, [_consumer("INV-1", "1200.00"), _consumer("INV-2", "250.00")])
    said = project("dispute", "1/INV-2", "--reason", "never delivered", "--by", "ana", now=NOW)
    assert said.output.strip() == ("1/INV-2: disputed since 2026-03-10; held out of demands; "
                                   "the supervisor is sent a notice")
    assert _notice_actions(project) == [("pending", "supervisor")]  # queued now, delivered by the next run
    project("run", now=NOW)
    project("run", now=NOW)  # a rerun delivers nothing twice
    assert _notice_actions(project) == [("sent", "supervisor")]
    [notice] = _json(project, "notices", "--role", "supervisor")
    assert (notice["case_id"], notice["role"], notice["open"]) == (1, "supervisor", True)
    assert notice["why"] == ("item 1/INV-2 (EUR 250.00 open) disputed: never delivered; held out of demands until "
                             "verification of the debt was sent (Reg F): dunning dispute 1/INV-2 --lift "
                             "--verification-sent")
    [sent] = _json(project, "events", "--kind", "notice")
    assert (sent["case_id"], sent["step"], sent["data"]["role"]) == (1, "item-dispute", "supervisor")
    assert "never delivered" in sent["data"]["why"]
    [disputed] = _json(project, "events", "--kind", "obligation_disputed")
    assert (disputed["data"]["reference"], disputed["data"]["by"], disputed["data"]["open"]) == ("INV-2", "ana", 25000)
    # Disputing it again while it stands is refused, and queues nothing.
    before = dump(project)
    again = project("dispute", "1/INV-2", "--reason", "still wrong", now=NOW, expect=1)
    assert again.output.strip() == "Error: 1/INV-2 is already disputed (since 2026-03-10)"
    assert dump(project) == before
    assert project("verify", now=NOW).exit_code == 0


def test_under_reg_f_the_lift_needs_verification_and_a_later_dispute_is_a_new_notice(project: Project):
    _import(project, [_consumer("INV-1", "1200.00"), _consumer("INV-2", "250.00")])
    project("dispute", "1/INV-2", "--reason", "never delivered", now=NOW)
    project("run", now=NOW)
    before = dump(project)
    refused = project("dispute", "1/INV-2", "--lift", "--reason", "invoice copy posted", "--by", "sam", now=LATER,
                      expect=1)
    assert refused.output.strip() == ("Error: 1/INV-2 is disputed: collection resumes only once verification of "
                                      "the debt was sent; say so with --verification-sent")
    misplaced = project("dispute", "1/INV-1", "--verification-sent", "--reason", "x", now=LATER, expect=1)
    assert misplaced.output.strip() == "Error: --verification-sent goes with --lift: it says why the dispute ends"
    assert dump(project) == before
    lifted = project("dispute", "1/INV-2", "--lift", "--verification-sent", "--reason", "invoice copy posted",
                     "--by", "sam", now=LATER)
    assert lifted.output.strip() == "1/INV-2: dispute lifted; collected again"
    [event] = _json(project, "events", "--kind", "dispute_lifted", now=LATER)
    assert (event["data"]["by"], event["data"]["reason"], event["data"]["verification_sent"]) == (
        "sam", "invoice copy posted", True)
    # Disputed again after the lift: a new dispute, so a new notice (and only one).
    project("dispute", "1/INV-2", "--reason", "the copy shows the wrong address", now=LATER)
    project("run", now=LATER)
    project("run", now=LATER)
    notices = _json(project, "notices", now=LATER)
    assert [n["why"].split(": ", 1)[1].split("; held")[0] for n in notices] == [
        "never delivered", "the copy shows the wrong address"]
    assert project("verify", now=LATER).exit_code == 0


def test_where_reg_f_does_not_bind_the_lift_stands_as_it_was(project: Project):
    # A company debtor in the US: Reg F binds consumers only, so the default profile decides.
    _import(project, [row("C001", "INV-1", "1200.00", country="US", timezone="America/New_York",
                          mobile="+1 212 555 0100")])
    project("dispute", "1/INV-1", "--reason", "price agreed was lower", now=NOW)
    project("run", now=NOW)
    [notice] = _json(project, "notices")
    assert "Reg F" not in notice["why"] and notice["why"].endswith("settled: dunning dispute 1/INV-1 --lift")
    project("dispute", "1/INV-1", "--lift", "--reason", "credit note agreed", "--by", "sam", now=LATER)
    [event] = _json(project, "events", "--kind", "dispute_lifted", now=LATER)
    assert event["data"]["by"] == "sam" and "verification_sent" not in event["data"]


def test_with_email_the_notice_reaches_the_supervisors_address_and_is_handled_like_the_others(
        project: Project, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DUNNING_LOAD_PLUGINS", "email")
    with LoopbackSMTP() as smtp:
        project.write_config(enabled=["email"], extra=smtp.settings_toml("Acme Credit Control <credit@acme.example>"))
        project("import", str(write_csv(project.folder / "in.csv", [row("C001", "INV-1", "1200.00"),
                                                                     row("C001", "INV-2", "250.00")])),
                now="2026-02-20T09:00:00Z")
        project("dispute", "1/INV-2", "--reason", "delivered to the wrong site", "--by", "ana", now=NOW)
        project("run", now=NOW)
        told = [m.parsed() for m in smtp.messages if m.rcpt_tos == ("sam@example.com",)]
    [mail] = [m for m in told if "1/INV-2" in m.get_content()]
    assert mail["To"] == "Sam Supervisor <sam@example.com>"
    assert ("Why:      item 1/INV-2 (EUR 250.00 open) disputed: delivered to the wrong site; held out of demands "
            "until the dispute is settled: dunning dispute 1/INV-2 --lift") in mail.get_content()
    [notice] = [n for n in _json(project, "notices", "--role", "supervisor") if "1/INV-2" in n["why"]]
    assert notice["emailed"] is True
    project("notices", "done", str(notice["id"]), "--by", "sam", "--note", "asked the carrier", now=LATER)
    [handled] = _json(project, "events", "--kind", "notice_handled", now=LATER)
    assert (handled["action_id"], handled["data"]["by"]) == (notice["id"], "sam")


def _notice_actions(project: Project) -> list[tuple[str, str]]:
    return [(status, target) for status, target in
            project.sql("SELECT status, target FROM actions WHERE step = 'item-dispute' ORDER BY id")]
