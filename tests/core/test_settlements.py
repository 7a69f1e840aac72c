"""Settlement offers from the command line: within the policy's limits, sent, settled when paid in time, lapsed
when missed. Real runs, a real SQLite file, email to a loopback SMTP server and letters read back with pypdf."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from pypdf import PdfReader

from tests.conftest import Project, at, dump, row
from tests.core.test_ledger_interest import POLICY, configure, import_debt, smtp, write_rows  # noqa: F401


SETTLE_POLICY = POLICY.replace("max_discount_percent = 10", "max_discount_percent = 20") + """
[[steps]]
name = "chaser"
dpd = 10
channels = ["email"]
template = "firm-reminder"
"""


def day(n: int, hour: int = 9) -> str:
    return at(dt.date(2026, 3, 1) + dt.timedelta(days=n), hour)


@pytest.fixture
def owing(project, smtp, monkeypatch):  # noqa: F811
    """£1,000 due 1 March, the notice of interest sent on 2 March; on 3 March it owes £1,075.32."""
    configure(project, smtp, monkeypatch, 'interest = "uk-late-payment"')
    (project.folder / "policy.toml").write_text(SETTLE_POLICY, encoding="utf-8")
    import_debt(project)
    project("run", now=day(1))
    project("run", now=day(2))
    return project


def events(project: Project, kind: str) -> list[dict]:
    return json.loads(project("events", "--kind", kind, "--json").stdout)


def test_an_offer_beyond_the_stage_limit_needs_approval_and_nothing_is_written(owing):
    before = dump(owing)
    refused = owing("offer", "1", "--settle", "800.00", "--until", "2026-03-20", "--by", "ann", now=day(2, 12),
                    expect=1)
    assert ("a discount of 25.60% is beyond what the policy allows at internal (at most 20% without approval): "
            "a supervisor must approve it with --approved-by NAME") in refused.output
    assert dump(owing) == before
    assert "less than the GBP 1,075.32" in owing("offer", "1", "--settle", "1100", "--until", "2026-03-20", "--by",
                                                 "ann", now=day(2, 12), expect=1).output
    assert "not in the future" in owing("offer", "1", "--settle", "900", "--until", "2026-03-03", "--by", "ann",
                                        now=day(2, 12), expect=1).output
    done = owing("offer", "1", "--settle", "800.00", "--until", "2026-03-20", "--by", "ann", "--approved-by", "sam",
                 now=day(2, 12))
    assert done.stdout.strip() == ("case 1: offer 1 to settle GBP 800.00 of GBP 1,075.32 by 2026-03-20; "
                                   "collection paused, the offer goes out on the next run")
    [offered] = events(owing, "settlement_offered")
    assert (offered["data"]["concession"], offered["data"]["discount_percent"], offered["data"]["approved_by"]) == \
        (27532, "25.60", "sam")


def test_a_settlement_paid_in_time_resolves_the_case_as_settled(owing, smtp):  # noqa: F811
    owing("offer", "1", "--settle", "950.00", "--until", "2026-03-20", "--by", "ann", now=day(2, 12))
    sent = json.loads(owing("run", "--json", now=day(3)).stdout)
    assert sent["sent"] == 1
    mail = smtp.messages[-1].parsed()
    assert mail["Subject"] == "Settlement offer: pay GBP 950.00 by 2026-03-20 to close your account"
    text = mail.get_body(("plain",)).get_content()
    assert "GBP 1,075.32 owed in all" in text and "write off the remaining GBP 125.32" in text

    # Collection is paused while the offer stands: the day-10 chaser is held back.
    owing("run", now=day(10))
    assert len(smtp.messages) == 2
    [blocked] = [e for e in events(owing, "blocked") if e["step"] == "chaser"]
    assert blocked["data"]["rule"] == "hold:other"

    owing("pay", "1", "950.00", "--at", day(15), now=day(15))
    run = json.loads(owing("run", "--json", now=day(16)).stdout)
    assert run["settlements_settled"] == 1
    shown = json.loads(owing("cases", "show", "1", "--json", now=day(16)).stdout)
    assert shown["status"] == "settled"
    assert shown["settlements"][0]["status"] == "settled"
    [settled] = events(owing, "settlement_settled")
    # The concession: the £950 paid the compensation, the fee and the interest first ([ledger]
    # allocation's default order), then principal; what is forgone is the principal left.
    assert settled["data"]["forgone"] == {"principal": 12788, "interest": 0, "fee": 0, "compensation": 0}
    assert settled["data"]["concession"] == 12788
    [resolved] = events(owing, "resolved")
    assert resolved["data"]["as"] == "settled"
    assert json.loads(owing("run", "--json", now=day(17)).stdout)["settlements_settled"] == 0
    assert owing("verify").exit_code == 0


def test_a_missed_settlement_lapses_and_collection_resumes(owing, smtp):  # noqa: F811
    owing("offer", "1", "--settle", "950.00", "--until", "2026-03-19", "--by", "ann", now=day(2, 12))
    owing("run", now=day(3))
    owing("pay", "1", "100.00", "--at", day(12), now=day(12))
    assert json.loads(owing("run", "--json", now=day(18)).stdout)["settlements_lapsed"] == 0  # the last day
    lapsed = json.loads(owing("run", "--json", now=day(19)).stdout)
    assert lapsed["settlements_lapsed"] == 1
    [event] = events(owing, "settlement_lapsed")
    assert event["data"]["missed"] == {"due_on": "2026-03-19", "owed_by_then": 95000, "paid_by_then": 10000}
    assert json.loads(owing("cases", "show", "1", "--json", now=day(19)).stdout)["status"] == "open"
    # Collection resumes: the day-20 reminder goes out.
    owing("run", now=day(20))
    assert smtp.messages[-1].parsed()["Subject"].startswith("Action required")


def test_the_offer_in_chinese_with_the_interest_lines(project, smtp, monkeypatch):  # noqa: F811
    configure(project, smtp, monkeypatch, 'interest = "uk-late-payment"')
    (project.folder / "policy.toml").write_text(SETTLE_POLICY, encoding="utf-8")
    import_debt(project, locale="zh_CN")
    for n in (1, 2):
        project("run", now=day(n))
    project("offer", "1", "--settle", "950.00", "--until", "2026-03-20", "--instalments", "2", "--by", "ann",
            now=day(2, 12))
    project("run", now=day(3))
    mail = smtp.messages[-1].parsed()
    colon = "\uff1a"  # the full-width colon Chinese text uses
    assert mail["Subject"].startswith("和解方案" + colon)
    text = mail.get_body(("plain",)).get_content()
    assert "逾期利息" + colon in text and "含利息及费用合计" + colon in text
    assert "分2期支付和解金额" in text


def test_a_missed_instalment_lapses_the_offer_before_its_end(owing):
    owing("offer", "1", "--settle", "950.00", "--until", "2026-03-21", "--instalments", "2", "--by", "ann",
          now=day(2, 12))
    owing("run", now=day(3))
    # Offered 3 March, until 21 March: GBP 475.00 by 12 March, GBP 475.00 by 21 March.
    [offered] = [a for a in json.loads(owing("cases", "show", "1", "--json").stdout)["settlements"]]
    assert offered["instalments"] == 2
    assert json.loads(owing("run", "--json", now=day(11)).stdout)["settlements_lapsed"] == 0
    assert json.loads(owing("run", "--json", now=day(12)).stdout)["settlements_lapsed"] == 1
    [event] = events(owing, "settlement_lapsed")
    assert event["data"]["missed"]["due_on"] == "2026-03-12"


def test_the_offer_and_the_interest_lines_in_a_letter(project: Project, monkeypatch):
    monkeypatch.setenv("DUNNING_LOAD_PLUGINS", "letter")
    policy = SETTLE_POLICY.replace('channels = ["email"]', 'channels = ["letter"]').replace(
        'template = "firm-reminder"', 'template = "warning"')
    (project.folder / "policy.toml").write_text(policy, encoding="utf-8")
    project.write_config(policy="policy.toml", enabled=["letter"], extra=(
        '\n[channels.letter]\nsender_name = "Northwind Supplies Ltd"\n'
        'sender_address = "1 Quay Street, Bristol BS1 4DJ"\n\n[ledger]\ninterest = "uk-late-payment"\n'))
    debt = row("C001", "INV-1", "1000.00", "2026-03-01", currency="GBP", address="Acme Ltd, 12 Harbour Road, Leeds")
    project("import", str(write_rows(project.folder / "in.csv", [debt])), now="2026-02-20T08:00:00Z")
    project("run", now=day(1))
    project("run", now=day(2))
    project("offer", "1", "--settle", "950.00", "--until", "2026-03-20", "--by", "ann", now=day(2, 12))
    project("run", now=day(3))
    pdfs = sorted((project.folder / "letters").rglob("*.pdf"))
    offer = PdfReader(pdfs[-1]).pages[0].extract_text()
    # The letter writes the offer's figures and dates the debtor's way (Babel, en_GB).
    assert "Settlement offer: £950.00 by 20 March 2026" in offer
    # The letter goes out a day after the offer: two days' interest by then, and the total with it.
    assert "Interest on arrears\n £0.64" in offer
    assert "Fees\n £75.00" in offer
    assert "Total\n £1,000.00\n £1,075.64" in offer
    assert "write off the remaining £125.32" in offer
