"""Interest and fees from the command line: the notice of interest, daily accrual, reruns, demands, waivers.

Real runs against a real SQLite file, with the email channel sending to a
loopback SMTP server.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from dunning.plugins.email.loopback import LoopbackSMTP
from tests.conftest import HEADER, Project, at, dump, row


POLICY = """
name = "ledger-test"

[stages.internal]
max_discount_percent = 10

[[steps]]
name = "interest-notice"
dpd = 1
channels = ["email"]
template = "firm-reminder"
notice_of_interest = true
fee = "5.00"

[[steps]]
name = "second-reminder"
dpd = 20
channels = ["email"]
template = "firm-reminder"
"""


@pytest.fixture
def smtp() -> Iterator[LoopbackSMTP]:
    with LoopbackSMTP() as server:
        yield server


def configure(project: Project, smtp: LoopbackSMTP, monkeypatch: pytest.MonkeyPatch, ledger: str,
              compliance: str = "") -> None:
    monkeypatch.setenv("DUNNING_LOAD_PLUGINS", "email")
    (project.folder / "policy.toml").write_text(POLICY, encoding="utf-8")
    project.write_config(policy="policy.toml", enabled=["email"], extra=f"""
[channels.email]
host = "{smtp.host}"
port = {smtp.port}
security = "none"
sender = "Acme Credit Control <credit@acme.example>"

[ledger]
{ledger}
{compliance}
""")


def write_rows(path: Path, rows: list[dict[str, str]]) -> Path:
    """A CSV with the optional interest_rate and locale columns beside the usual ones."""
    with path.open("w", newline="", encoding="utf-8") as f:
        columns = [*HEADER, "interest_rate", "locale"]
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows({k: r.get(k, "") for k in columns} for r in rows)
    return path


def import_debt(project: Project, **extra: str) -> None:
    debt = row("C001", "INV-1", "1000.00", "2026-03-01", currency="GBP", country="GB", email="ap@trading.example")
    project("import", str(write_rows(project.folder / "in.csv", [debt | extra])), now="2026-02-20T08:00:00Z")


def day(n: int, hour: int = 9) -> str:
    return at(dt.date(2026, 3, 1) + dt.timedelta(days=n), hour)


def charges(project: Project) -> list[dict]:
    return json.loads(project("cases", "show", "1", "--json").stdout)["charges"]


def test_uk_interest_runs_from_the_notice_posts_once_and_shows_in_demands(project, smtp, monkeypatch):
    configure(project, smtp, monkeypatch, 'interest = "uk-late-payment"')
    import_debt(project)

    first = json.loads(project("run", "--json", now=day(1)).stdout)
    assert first["sent"] == 1 and first["charges_posted"] == 0  # the notice goes out; no day has run since
    notice = json.loads(project("events", "--kind", "interest_notice", "--json").stdout)
    assert [e["data"]["sent_on"] for e in notice] == ["2026-03-02"]
    # The notice step's fee is posted when its message is sent.
    assert [(c["kind"], c["amount"], c["rule"]) for c in charges(project)] == [
        ("fee", "5.00", "step-fee:interest-notice")]

    second = json.loads(project("run", "--json", now=day(2)).stdout)
    assert second["charges_posted"] == 2  # £70 fixed compensation, one day's interest
    # The Bank Rate on 31 December 2025 was 3.75 %: 11.75 % a year, £1,000 x 11.75 % / 365 = 32p a day.
    posted = {c["kind"]: c for c in charges(project)}
    assert posted["compensation"]["amount"] == "70.00"
    assert (posted["interest"]["amount"], posted["interest"]["accrued_from"], posted["interest"]["accrued_to"]) \
        == ("0.32", "2026-03-02", "2026-03-02")

    # A rerun on the same day posts nothing twice, and the store is as it was apart from the run's own records.
    again = json.loads(project("run", "--json", now=day(2, 15)).stdout)
    assert again["charges_posted"] == 0
    assert len(charges(project)) == 3

    # Nine days later: nine more days of interest in one posting, keyed by its period (the run's
    # plain summary line counts it).
    assert ", charges posted 1" in project("run", now=day(11)).stdout
    interest = [c for c in charges(project) if c["kind"] == "interest"]
    assert [(c["accrued_from"], c["accrued_to"], c["amount"]) for c in interest] == [
        ("2026-03-02", "2026-03-02", "0.32"), ("2026-03-03", "2026-03-11", "2.88")]
    shown = json.loads(project("cases", "show", "1", "--json", now=day(11)).stdout)
    assert (shown["principal"], shown["interest"], shown["fees"], shown["total_due"]) == \
        ("1000.00", "3.20", "75.00", "1078.20")
    assert shown["interest_notice_on"] == "2026-03-02"
    text = project("cases", "show", "1", now=day(11)).stdout
    assert ("principal GBP 1,000.00, interest GBP 3.20, fees GBP 75.00, total GBP 1,078.20 "
            "(notice of interest 2026-03-02)") in text

    # The second reminder states the interest and fees, a line each, and the total with them.
    project("run", now=day(20))
    mail = smtp.messages[-1].parsed()
    body = mail.get_body(("plain",)).get_content()
    assert "Interest on arrears: GBP 6.08" in body  # 19 days at 32p
    assert "Fees: GBP 75.00" in body
    assert "Total with interest and fees: GBP 1,081.08" in body
    html = mail.get_body(("html",)).get_content()
    assert "Interest on arrears" in html and "GBP 1,081.08" in html
    # The first message, before any charge, had no such lines.
    assert "Interest on arrears" not in smtp.messages[0].parsed().get_body(("plain",)).get_content()


def test_nothing_is_charged_without_the_rule(project, smtp, monkeypatch):
    configure(project, smtp, monkeypatch, 'interest = "none"')
    import_debt(project)
    for n in (1, 2, 12):
        project("run", now=day(n))
    # The step fee is the policy's, not the interest rule's; interest and compensation need a rule.
    assert [c["kind"] for c in charges(project)] == ["fee"]


def test_a_contract_rate_given_on_import_comes_before_the_statutory_rule(project, smtp, monkeypatch):
    configure(project, smtp, monkeypatch, 'interest = "uk-late-payment"')
    import_debt(project, interest_rate="0.1%/day")
    for n in (1, 11):
        project("run", now=day(n))
    [interest] = [c for c in charges(project) if c["kind"] == "interest"]
    assert (interest["rule"], interest["amount"]) == ("contract", "10.00")  # £1,000 x 0.1 % x 10 days
    assert not [c for c in charges(project) if c["kind"] == "compensation"]


def test_a_bad_interest_rate_on_import_names_the_row_and_writes_nothing(project, smtp, monkeypatch):
    configure(project, smtp, monkeypatch, 'interest = "contract"')
    before = dump(project)
    debt = row("C001", "INV-1", "1000.00", "2026-03-01", interest_rate="lots")
    result = project("import", str(write_rows(project.folder / "bad.csv", [debt])), expect=1)
    assert "line 2: interest_rate: must be a rate such as" in result.output
    assert dump(project) == before


def test_a_consumer_gets_no_interest_or_fee_unless_the_profile_allows(project, smtp, monkeypatch):
    configure(project, smtp, monkeypatch, 'interest = "de-bgb"')
    debt = dict(kind="person", country="DE", currency="EUR")
    import_debt(project, **debt)
    for n in (1, 11):
        project("run", now=day(n))
    assert charges(project) == []


def test_a_consumer_is_charged_bgb_consumer_interest_where_the_profile_allows(project, smtp, monkeypatch):
    configure(project, smtp, monkeypatch, 'interest = "de-bgb"', "[compliance]\ncharges_on_consumer_debts = true")
    import_debt(project, kind="person", country="DE", currency="EUR")
    for n in (1, 11):
        project("run", now=day(n))
    posted = {c["kind"]: c for c in charges(project)}
    assert "compensation" not in posted  # § 288(5): no Pauschale from a consumer
    # Basiszinssatz 1.27 % + 5 = 6.27 %: €1,000 x 6.27 % x 10 / 365 = €1.72.
    assert (posted["interest"]["amount"], posted["fee"]["amount"]) == ("1.72", "5.00")


def test_waive_needs_approval_above_the_limit_and_records_who_and_why(project, smtp, monkeypatch):
    configure(project, smtp, monkeypatch, 'interest = "uk-late-payment"\nwaive_approval_above = "50.00"')
    import_debt(project)
    for n in (1, 11):
        project("run", now=day(n))
    before = dump(project)
    refused = project("waive", "1", "--fees", "--by", "ann", "--reason", "goodwill", expect=1)
    assert "waiving GBP 75.00 is above 50.00 ([ledger] waive_approval_above)" in refused.output
    assert "--approved-by" in refused.output
    assert dump(project) == before
    assert "say what to waive" in project("waive", "1", "--by", "ann", "--reason", "x", expect=1).output

    done = project("waive", "1", "--interest", "--by", "ann", "--reason", "disputed late delivery")
    assert done.stdout.strip() == "case 1: waived GBP 3.20 of interest"
    project("waive", "1", "--fees", "--by", "ann", "--reason", "goodwill", "--approved-by", "sam")
    shown = json.loads(project("cases", "show", "1", "--json").stdout)
    assert (shown["interest"], shown["fees"], shown["total_due"]) == ("0.00", "0.00", "1000.00")
    assert {c["kind"]: c["waived"] for c in shown["charges"]}["compensation"] == "70.00"
    again = project("waive", "1", "--interest", "--by", "ann", "--reason", "twice", expect=1)
    assert "case 1 has no open interest to waive" in again.output
    events = json.loads(project("events", "--kind", "charges_waived", "--json").stdout)
    assert [(e["data"]["what"], e["data"]["amount"], e["data"]["by"], e["data"]["approved_by"], e["data"]["reason"])
            for e in events] == [(["interest"], 320, "ann", None, "disputed late delivery"),
                                 (["fees"], 7500, "ann", "sam", "goodwill")]
    assert project("verify").exit_code == 0


def test_rates_list_and_set_with_an_event(project, smtp, monkeypatch):
    configure(project, smtp, monkeypatch, 'interest = "uk-late-payment"')
    listed = json.loads(project("rates", "list", "--json").stdout)
    assert {"name": "de-basiszins", "valid_from": "2025-07-01", "rate": "1.27", "set_by": "published",
            "set_at": "2025-07-01"} in listed
    assert [r["rate"] for r in listed if r["name"] == "boe-base"][-1] == "3.75"
    out = project("rates", "set", "boe-base", "--from", "2026-02-05", "--rate", "3.5", "--by", "ann",
                  now="2026-02-05T12:00:00Z").stdout
    assert out.strip() == "boe-base: 3.5% from 2026-02-05"
    [event] = json.loads(project("events", "--kind", "rate_set", "--json").stdout)
    assert event["data"] == {"name": "boe-base", "valid_from": "2026-02-05", "rate": "3.5", "replaced": None,
                             "by": "ann"}
    bad = project("rates", "set", "boe-base", "--from", "2026-02-05", "--rate", "lots", "--by", "ann", expect=1)
    assert "--rate must be a percentage" in bad.output


def test_a_rate_change_mid_period_splits_the_accrual(project, smtp, monkeypatch):
    configure(project, smtp, monkeypatch, 'interest = "de-bgb"')
    import_debt(project, country="DE", currency="EUR")
    project("rates", "set", "de-basiszins", "--from", "2026-03-06", "--rate", "2.27", "--by", "ann")
    for n in (1, 11):
        project("run", now=day(n))
    [accrued] = json.loads(project("events", "--kind", "charges_accrued", "--json").stdout)[-1:]
    [interest] = [p for p in accrued["data"]["postings"] if p["kind"] == "interest"]
    assert interest["rates"] == ["10.27%/year 2026-03-02..2026-03-05", "11.27%/year 2026-03-06..2026-03-11"]
    # €1,000 x (10.27 % x 4 + 11.27 % x 6) / 365 = 1.1255 + 1.8526 = €2.98.
    assert interest["amount"] == 298


def test_policy_check_refuses_a_notice_of_interest_by_phone(project: Project, tmp_path: Path):
    policy = tmp_path / "p.toml"
    policy.write_text(POLICY.replace('channels = ["email"]\ntemplate = "firm-reminder"\nnotice_of_interest',
                                     'channels = ["phone"]\ntemplate = "call"\nnotice_of_interest'), encoding="utf-8")
    result = project("policy", "check", str(policy), expect=1)
    assert "step 'interest-notice': 'notice_of_interest' needs a letter or email step; phone is not" in result.output
