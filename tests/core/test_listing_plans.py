"""Every listing's queries use an index: ``EXPLAIN QUERY PLAN`` of each statement the listings run.

A full ``SCAN`` of a big table (cases, events, actions, payments, obligations) would make a listing's pages
cost more the further it reads: at a million cases, hours. The statements are the ones the store really
runs (caught with the connection's trace callback), over a database from bench/dispatch.py's generator.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
from pathlib import Path

import pytest

from dunning.models import ActionStatus
from dunning.store import Store

# SQLite's query plans (EXPLAIN QUERY PLAN, over the file bench/dispatch.py writes) are SQLite's alone.
pytestmark = pytest.mark.sqlite_only
ROOT = Path(__file__).resolve().parents[2]
BIG = ("cases", "events", "actions", "payments", "obligations", "promises", "contacts", "debtors")
TODAY = dt.date(2026, 3, 2)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    db = tmp_path_factory.mktemp("plans") / "dunning.db"
    subprocess.run([sys.executable, "-c", "import sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]); "
                    "import dispatch; dispatch.generate(Path(sys.argv[2]), int(sys.argv[3]))",
                    str(ROOT / "bench"), str(db), "50"], check=True, timeout=60)
    return Store(db)


def _statements(store: Store, read: object) -> list[str]:
    """The SELECTs run while ``read()`` runs, with their parameters in place."""
    seen: list[str] = []
    store.conn.set_trace_callback(seen.append)
    try:
        read()  # type: ignore[operator]
    finally:
        store.conn.set_trace_callback(None)
    return [s for s in seen if s.lstrip().upper().startswith("SELECT")]


def _full_scans(store: Store, sql: str) -> list[str]:
    plan = [row[3] for row in store.conn.execute("EXPLAIN QUERY PLAN " + sql)]
    return [step for step in plan if re.match(rf"SCAN ({'|'.join(BIG)})\b", step)]


def _listing_reads(store: Store) -> dict[str, object]:
    cases = next(store.case_pages())
    ids = [c.id or 0 for c in cases]
    waiting = [ActionStatus.AWAITING_APPROVAL.value]
    return {
        "cases list": lambda: list(store.case_pages(page=10)),
        "cases list --stage": lambda: list(store.case_pages(stage="internal", status="open", page=10)),
        "cases list, a page a query": lambda: list(store.case_listing_pages(TODAY, page=10)),
        "cases list --stage, a page a query": lambda: list(store.case_listing_pages(
            TODAY, stage="internal", status="open", page=10)),
        "a page's debtors": lambda: store.debtor_names(c.debtor_id for c in cases),
        "a page's obligations": lambda: store.obligations_of(ids),
        "a page's owed figures": lambda: store.owed_figures_of(ids, TODAY),
        "a page's first obligations": lambda: store.first_obligations_of(ids),
        "a page's priority facts": lambda: store.priority_facts_of(cases, TODAY),
        "one case's priority facts": lambda: store.priority_facts(cases[0], TODAY),
        "a case's payments": lambda: store.payments(ids[0]),
        "events": lambda: list(store.event_pages(page=10)),
        "events --kind": lambda: list(store.event_pages(kind="sent", page=10)),
        "events --case": lambda: list(store.event_pages(case_id=ids[0], page=10)),
        "approvals": lambda: list(store.action_pages(waiting, page=10)),
        "approvals' cases": lambda: store.cases_by_id(ids),
        "cases list --strategy": lambda: list(store.case_pages(strategy="challenger", page=10)),
        "cases list's strategy column": store.has_strategies,
        "a run's cases to assign a strategy": lambda: store.unassigned_open_cases(0, 10),
    }


@pytest.mark.parametrize("listing", [
    "cases list", "cases list --stage", "cases list, a page a query", "cases list --stage, a page a query",
    "a page's debtors", "a page's obligations", "a page's owed figures",
    "a page's first obligations", "a page's priority facts",
    "one case's priority facts", "a case's payments", "events", "events --kind", "events --case", "approvals",
    "approvals' cases", "cases list --strategy", "cases list's strategy column",
    "a run's cases to assign a strategy"])
def test_listing_queries_search_an_index(store: Store, listing: str) -> None:
    statements = _statements(store, _listing_reads(store)[listing])
    assert statements, f"{listing}: no query caught"
    for sql in statements:
        assert _full_scans(store, sql) == [], f"{listing}: {sql}"


def test_a_full_scan_is_caught(store: Store) -> None:
    # The check itself: a case's payments without the m022 index would read the whole table.
    assert _full_scans(store, "SELECT 1 FROM payments NOT INDEXED WHERE case_id = 1") == ["SCAN payments"]
    assert _full_scans(store, "SELECT id FROM cases WHERE balance > 0") == ["SCAN cases"]


def test_a_page_of_priority_facts_looks_its_cases_up(store: Store) -> None:
    # The promises by case (not every pending promise due from today on), the payments by case (m022).
    cases = next(store.case_pages())
    plans = [step for sql in _statements(store, lambda: store.priority_facts_of(cases, TODAY))
             for _, _, _, step in store.conn.execute("EXPLAIN QUERY PLAN " + sql)]
    assert any("promises USING INDEX promises_case" in step for step in plans), plans
    assert any("payments USING INDEX payments_case_at" in step for step in plans), plans


def test_the_page_a_query_listing_scans_nothing(store: Store) -> None:
    # Its query names its tables by alias (c, o, p, ...), which the check above reads past: no SCAN at all.
    for sql in _statements(store, lambda: list(store.case_listing_pages(TODAY, page=10))):
        plan = [row[3] for row in store.conn.execute("EXPLAIN QUERY PLAN " + sql)]
        assert not [step for step in plan if step.startswith("SCAN")], plan
