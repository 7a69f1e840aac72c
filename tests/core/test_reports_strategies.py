"""``dunning report`` split by strategy: a small history in two strategies, its figures worked out by hand below.

The history is made through the real commands, in UTC. The strategies are
champion (trade-receivables, 80 %) and challenger (consumer-loans, 20 %),
salt "autumn": the ids 2 to 5 take the places that make 2 and 4 champions,
3 and 5 challengers (checked first, from dunning.strategies).

    case 1  E  EUR   300.00 due 1 Mar   imported and paid on 1 Feb, before the strategies: strategy (none)
    case 2  A  EUR 1,000.00 due 1 Mar   champion
    case 3  B  EUR   600.00 due 1 Mar   challenger
    case 4  C  EUR 2,000.00 due 1 Mar   champion
    case 5  D  EUR   400.00 due 1 Mar   challenger

    01 Feb 09:00  import E (no strategies yet)
    01 Feb 09:30  E pays 300: paid in full
    01 Feb 10:00  [[strategies]] set; import A, B, C, D: each assigned its strategy on import
    10 Mar 12:00  A pays 400
    15 Mar 12:00  B pays 600: paid in full
    20 Mar 09:30  sam escalates C to onsite by hand
    05 Apr 12:00  C pays 500
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dunning.strategies import Strategy, assign
from tests.conftest import Project
from tests.core.module_databases import DATABASES, module_database
from tests.core import test_reports as reports_test
from tests.core.test_reports import rows

STRATEGIES = """
[[strategies]]
name = "champion"
policy = "trade-receivables"
share = 80

[[strategies]]
name = "challenger"
policy = "consumer-loans"
share = 20
"""


def config(project: Project, *, strategies: bool) -> None:
    top = 'strategy_salt = "autumn"\n' if strategies else ""
    db = project.database or "dunning.db"
    project.config.write_text(
        f'policy = "trade-receivables"\ndb = "{db}"\ntimezone = "UTC"\n{top}\n[channels]\nenabled = []\n'
        + (STRATEGIES if strategies else "")
        + '\n[notify]\nsupervisor = "sam@example.com"\nmanager = "morgan@example.com"\n'
          'general_manager = "gale@example.com"\n', encoding="utf-8")


def debts(project: Project, name: str, rows: list[tuple[str, str]]) -> str:
    path = project.folder / name
    path.write_text(json.dumps([
        {"debtor_id": debtor, "name": f"Debtor {debtor} Ltd", "kind": "company", "country": "GB",
         "email": f"ap@{debtor.lower()}.example.com", "reference": f"{debtor}-1", "amount": amount, "currency": "EUR",
         "issued_on": "2026-02-01", "due_on": "2026-03-01"} for debtor, amount in rows]), encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module", params=DATABASES)
def history(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    with module_database(request) as database:
        yield _history(Project(tmp_path_factory.mktemp("strategies"), database))


def _history(project: Project) -> Project:
    project.write_config()
    config(project, strategies=False)
    project("import", debts(project, "e.json", [("E", "300.00")]), now="2026-02-01T09:00:00Z")
    project("pay", "1", "300", now="2026-02-01T09:30:00Z")
    config(project, strategies=True)
    project("import", debts(project, "abcd.json", [("A", "1000.00"), ("B", "600.00"), ("C", "2000.00"),
                                                   ("D", "400.00")]), now="2026-02-01T10:00:00Z")
    project("pay", "2", "400", now="2026-03-10T12:00:00Z")
    project("pay", "3", "600", now="2026-03-15T12:00:00Z")
    project("escalate", "4", "--to", "onsite", "--reason", "asked for a visit", "--by", "sam",
            now="2026-03-20T09:30:00Z")
    project("pay", "4", "500", now="2026-04-05T12:00:00Z")
    return project


def report(project: Project, name: str, *args: str) -> dict[str, Any]:
    """The report as JSON, its CSV checked to hold the same rows (strategy column included), as in test_reports."""
    return reports_test.report(project, name, *args, env=None)


def test_the_cases_strategies(history: Project):
    strategies = [Strategy("champion", "trade-receivables", 80), Strategy("challenger", "consumer-loans", 20)]
    assert [assign(case_id, strategies, "autumn").name for case_id in range(2, 6)] == [
        "champion", "challenger", "champion", "challenger"]
    listed = {r["id"]: r["strategy"] for r in json.loads(history("cases", "list", "--json").stdout)}
    assert listed == {1: None, 2: "champion", 3: "challenger", 4: "champion", 5: "challenger"}
    assert [r["id"] for r in json.loads(history("cases", "list", "--strategy", "champion", "--json").stdout)] == [2, 4]


def test_aging_split_by_strategy(history: Project):
    # 31 March. A: 1,000 - 400 = 600, 30 days past due (1-30); C: 2,000 (1-30); D: 400 (1-30). B and E are paid.
    data = report(history, "aging", "--as-of", "2026-03-31")
    assert rows(data, "totals", "strategy", "currency", "cases", "overdue", "not_yet_due", "balance") == [
        ("challenger", "EUR", 1, 40000, 0, 40000), ("champion", "EUR", 2, 260000, 0, 260000)]
    assert [r for r in rows(data, "buckets", "strategy", "bucket", "cases", "balance") if r[2]] == [
        ("challenger", "1-30", 1, 40000), ("champion", "1-30", 2, 260000)]
    assert any(note.startswith("Split by strategy") for note in data["notes"])
    # One strategy: the same rows as its part of the split.
    data = report(history, "aging", "--as-of", "2026-03-31", "--strategy", "champion")
    assert rows(data, "totals", "strategy", "currency", "cases", "balance") == [("champion", "EUR", 2, 260000)]
    assert data["filters"] == {"strategy": "champion"}
    # By policy, unsplit: consumer-loans is the challenger's; trade-receivables the champion's and E's (the
    # config's policy), and E owes nothing on 31 March.
    data = report(history, "aging", "--as-of", "2026-03-31", "--policy", "consumer-loans", "--no-split")
    assert rows(data, "totals", "currency", "cases", "balance") == [("EUR", 1, 40000)]
    data = report(history, "aging", "--as-of", "2026-03-31", "--policy", "trade-receivables", "--no-split")
    assert rows(data, "totals", "currency", "cases", "balance") == [("EUR", 2, 260000)]
    # Unsplit and unfiltered: all three open cases.
    data = report(history, "aging", "--as-of", "2026-03-31", "--no-split")
    assert rows(data, "totals", "currency", "cases", "balance") == [("EUR", 3, 300000)]


def test_recovery_by_strategy(history: Project):
    data = report(history, "recovery", "--as-of", "2026-04-30", "--periods", "3")
    # Everything placed and collected by 30 April: (none) E 300 of 300; challenger B 600 + D 400 placed, B's 600
    # collected; champion A 1,000 + C 2,000 placed, A's 400 and C's 500 collected.
    assert rows(data, "by_strategy", "strategy", "currency", "cases", "placed", "collected", "rate") == [
        ("challenger", "EUR", 2, 100000, 60000, 0.6), ("champion", "EUR", 2, 300000, 90000, 0.3),
        ("(none)", "EUR", 1, 30000, 30000, 1.0)]
    # By stage within each strategy: C entered onsite on 20 March owing 2,000 and paid 500 there; A's 400 was
    # paid while internal.
    assert rows(data, "by_stage", "strategy", "stage", "cases", "placed", "collected", "rate") == [
        ("challenger", "internal", 2, 100000, 60000, 0.6),
        ("champion", "internal", 2, 300000, 40000, 0.1333), ("champion", "onsite", 1, 200000, 50000, 0.25),
        ("(none)", "internal", 1, 30000, 30000, 1.0)]
    # No contact before any payment.
    assert rows(data, "by_channel", "strategy", "channel", "payments", "collected", "share") == [
        ("challenger", "(no contact)", 1, 60000, 1.0), ("champion", "(no contact)", 2, 90000, 1.0),
        ("(none)", "(no contact)", 1, 30000, 1.0)]
    # Curves, opened in February: challenger 600 / 1,000 from March; champion 400 / 3,000 in March, 900 / 3,000
    # by April; E paid in its first month.
    assert rows(data, "curves", "strategy", "cohort", "cases", "placed", "m0", "m1", "m2") == [
        ("challenger", "2026-02", 2, 100000, 0.0, 0.6, 0.6),
        ("champion", "2026-02", 2, 300000, 0.0, 0.1333, 0.3),
        ("(none)", "2026-02", 1, 30000, 1.0, 1.0, 1.0)]
    # The config's policy runs the champion's cases and E: internal 3,300 placed, 700 collected.
    data = report(history, "recovery", "--as-of", "2026-04-30", "--policy", "trade-receivables", "--no-split")
    assert rows(data, "by_stage", "stage", "cases", "placed", "collected", "rate") == [
        ("internal", 3, 330000, 70000, 0.2121), ("onsite", 1, 200000, 50000, 0.25)]
    data = report(history, "recovery", "--as-of", "2026-04-30", "--strategy", "(none)")
    assert rows(data, "by_strategy", "strategy", "cases", "placed", "collected") == [("(none)", 1, 30000, 30000)]


def test_activity_split_by_strategy(history: Project):
    data = report(history, "activity", "--as-of", "2026-03-31", "--days", "31")
    assert rows(data, "collected", "strategy", "day", "currency", "payments", "amount") == [
        ("challenger", "2026-03-15", "EUR", 1, 60000), ("champion", "2026-03-10", "EUR", 1, 40000)]
    assert [(r[0], r[1]) for r in rows(data, "days", "strategy", "day", "stage_changes") if r[2]] == [
        ("champion", "2026-03-20")]
    assert len(data["tables"]["days"]["rows"]) == 3 * 31  # every day, for each strategy and (none)


def test_a_table_for_people_and_unknown_names(history: Project):
    lines = [line.rstrip() for line in history("report", "aging", "--as-of", "2026-03-31").stdout.splitlines()]
    assert "  strategy    currency  cases  overdue       not_yet_due  balance" in lines
    assert "  champion    EUR       2      EUR 2,600.00  EUR 0.00     EUR 2,600.00" in lines
    result = history("report", "aging", "--strategy", "champoin", expect=1)
    assert result.output.strip() == ("Error: --strategy: no strategy 'champoin'; strategies: champion, challenger, "
                                     "(none)")
    result = history("report", "aging", "--policy", "consumer", expect=1)
    assert result.output.strip() == ("Error: --policy: no case runs under 'consumer'; policies: trade-receivables, "
                                     "consumer-loans")


def test_the_html_page_compares_the_strategies_then_shows_each(history: Project, tmp_path: Path):
    out = tmp_path / "report.html"
    result = history("report", "html", "--out", str(out), "--as-of", "2026-04-30")
    assert result.stdout.strip() == f"wrote {out} (as of 2026-04-30)"
    text = out.read_text(encoding="utf-8")
    assert "split by strategy" in text
    # First what each strategy placed and collected (as recovery's by_strategy table above).
    compared = text[text.index('<section id="by_strategy">'):text.index('<div class="strategy"')]
    assert "<td>champion</td><td>EUR</td><td>2</td><td>EUR 3,000.00</td><td>EUR 900.00</td><td>30.0%</td>" in compared
    assert "<td>challenger</td><td>EUR</td><td>2</td><td>EUR 1,000.00</td><td>EUR 600.00</td><td>60.0%</td>" in compared
    # Then every report for each strategy in turn (by name, then the cases with none), its six charts beside its
    # own figures.
    starts = [text.index(f'<div class="strategy" id="strategy-{name}">') for name in ("challenger", "champion",
                                                                                        "(none)")]
    assert starts == sorted(starts)
    challenger, champion, none = (text[a:b] for a, b in zip(starts, [*starts[1:], len(text)], strict=True))
    for part in (champion, challenger, none):
        assert len(re.findall(r"<svg ", part)) == 6
        assert len(re.findall(r'<section id="[^"]+-(aging|roll-rates|recovery|promises|contacts|activity)"', part)) == 6
    # C entered onsite owing 2,000 and paid 500 there (champion); the challenger's cases stayed internal.
    onsite = "<td>EUR</td><td>onsite</td><td>1</td><td>EUR 2,000.00</td><td>EUR 500.00</td><td>25.0%</td>"
    assert onsite in champion and "onsite" not in challenger.split('id="challenger-roll-rates"')[0]
    assert "<td>EUR</td><td>internal</td><td>2</td><td>EUR 1,000.00</td><td>EUR 600.00</td><td>60.0%</td>" in challenger
    assert "<td>EUR</td><td>internal</td><td>1</td><td>EUR 300.00</td><td>EUR 300.00</td><td>100.0%</td>" in none
    # One set of figures for all, or for one strategy, as the text reports give them.
    whole = tmp_path / "whole.html"
    history("report", "html", "--out", str(whole), "--as-of", "2026-04-30", "--no-split")
    page = whole.read_text(encoding="utf-8")
    assert len(re.findall(r"<svg ", page)) == 6 and "strategy-champion" not in page
    assert "<td>EUR</td><td>internal</td><td>5</td><td>EUR 4,300.00</td>" in page
    one = tmp_path / "champion.html"
    history("report", "html", "--out", str(one), "--as-of", "2026-04-30", "--strategy", "champion")
    page = one.read_text(encoding="utf-8")
    assert len(re.findall(r"<svg ", page)) == 6 and "strategy champion" in page and onsite in page


@pytest.mark.skipif(shutil.which("chromium") is None, reason="needs Debian's chromium (.ci/run installs it)")
def test_chromium_renders_every_strategy_s_charts(history: Project, tmp_path: Path):
    out = tmp_path / "report.html"
    history("report", "html", "--out", str(out), "--as-of", "2026-04-30")
    flags = [str(shutil.which("chromium")), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([*flags, "--dump-dom", out.as_uri()], capture_output=True, text=True, timeout=120,
                         check=True).stdout
    charts = re.findall(r"<svg .*?</svg>", dom, flags=re.S)
    assert len(charts) == 18 and all("<path" in chart for chart in charts)
    assert dom.count("Recovery curves by month opened") == 3
