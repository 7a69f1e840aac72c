"""`dunning datasette`: the real database served read-only by Datasette over HTTP, with its canned queries."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from dunning.cli import cli

pytest.importorskip("datasette")

AS_OF = "2026-03-01"


@pytest.fixture(scope="module")
def portfolio(demo_loans: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("datasette") / "portfolio"
    shutil.copytree(demo_loans, folder)
    # One bank credit nobody can match: it waits in suspense.
    statement = folder / "statement.csv"
    with statement.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["reference", "amount", "currency", "paid_on", "payer", "payer_iban", "bank_reference"])
        writer.writerow(["", "77.50", "USD", "2026-02-27", "Unknown Payer", "", "BANK-UNMATCHED-1"])
    result = CliRunner().invoke(cli, ["--config", str(folder / "dunning.toml"), "--now", "2026-02-28T10:00",
                                      "payments", "import", str(statement)])
    assert result.exit_code == 0, result.output
    assert "suspense" in result.output
    return folder


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _digest(path: Path) -> tuple[str, int]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


@pytest.fixture(scope="module")
def server(portfolio: Path) -> Iterator[tuple[str, Path, tuple[str, int]]]:
    db = portfolio / "dunning.db"
    before = _digest(db)
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-c", "from dunning.cli import cli; cli()", "--config", str(portfolio / "dunning.toml"),
         "datasette", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(base + "/-/versions.json", timeout=5).read()
                break
            except (urllib.error.URLError, ConnectionError):
                if proc.poll() is not None or time.monotonic() > deadline:
                    output = proc.stdout.read() if proc.stdout else ""
                    raise AssertionError("datasette did not start: " + output) from None
                time.sleep(0.3)
        yield base, db, before
    finally:
        proc.terminate()
        output, _ = proc.communicate(timeout=30)
    assert "personal data" in output  # the warning at start-up


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


def _query(base: str, name: str, **params: str) -> list[dict[str, Any]]:
    query = urllib.parse.urlencode({"_shape": "array", "as_of": AS_OF, **params})
    rows: list[dict[str, Any]] = _get(f"{base}/dunning/{name}.json?{query}")
    return rows


def _ro(db: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True)


def test_tables_are_described_and_pages_render(server: tuple[str, Path, tuple[str, int]]) -> None:
    base, _, _ = server
    with urllib.request.urlopen(base + "/dunning/cases", timeout=30) as response:
        page = response.read().decode()
    assert "travelling internal -&gt; onsite" in page or "travelling internal -> onsite" in page
    metadata = _get(base + "/-/metadata.json")
    queries = metadata["databases"]["dunning"]["queries"]
    assert {"aging", "promises", "activity", "attention_no_next_action", "attention_stuck_in_stage",
            "attention_unmatched_payments", "attention_visits_overdue"} <= set(queries)
    assert "balance" in metadata["databases"]["dunning"]["tables"]["cases"]["columns"]


def test_aging_shows_what_open_items_owe_in_major_units(server: tuple[str, Path, tuple[str, int]]) -> None:
    base, db, _ = server
    rows = _query(base, "aging")
    assert rows
    with _ro(db) as conn:
        owed = dict(conn.execute(
            "SELECT o.currency, sum(o.amount - o.paid) FROM obligations o JOIN cases k ON k.id = o.case_id "
            "WHERE k.status = 'open' AND o.closed_reason IS NULL AND o.amount > o.paid GROUP BY o.currency"))
        open_cases = conn.execute("SELECT count(*) FROM cases WHERE status = 'open'").fetchone()[0]
    for currency, minor in owed.items():
        shown = sum(r["balance"] for r in rows if r["currency"] == currency)
        assert round(shown * 100) == minor  # USD and CNY: two decimals
        assert sum(r["overdue"] + r["not_yet_due"] for r in rows if r["currency"] == currency) == pytest.approx(shown)
    assert sum(r["cases"] for r in rows) == open_cases
    assert {r["bucket"] for r in rows} <= {"not yet due", "1-30", "31-60", "61-90", "91-180", "181+"}


def test_promises_and_activity_count_the_events(server: tuple[str, Path, tuple[str, int]]) -> None:
    base, db, _ = server
    with _ro(db) as conn:
        made = conn.execute("SELECT count(*) FROM promises WHERE substr(created_at, 1, 10) <= ?",
                            (AS_OF,)).fetchone()[0]
        sent = conn.execute("SELECT count(*) FROM events WHERE kind = 'sent' AND substr(at, 1, 10) "
                            "BETWEEN date(?, '-30 days') AND ?", (AS_OF, AS_OF)).fetchone()[0]
    promises = _query(base, "promises")
    assert made > 0 and sum(r["made"] for r in promises) == made
    assert all(r["made"] == r["kept"] + r["broken"] + r["still_open"] for r in promises)
    activity = _query(base, "activity")
    assert sent > 0 and sum(r["sent"] for r in activity) == sent
    assert all(r["day"] <= AS_OF for r in activity)
    assert sum(r["sent"] for r in activity) == sum(v for r in activity for k, v in r.items() if k.startswith("sent_"))


def test_cases_needing_attention(server: tuple[str, Path, tuple[str, int]]) -> None:
    base, db, _ = server
    unmatched = _query(base, "attention_unmatched_payments")
    assert [(r["amount"], r["currency"], r["payer"]) for r in unmatched] == [(77.5, "USD", "Unknown Payer")]

    with _ro(db) as conn:
        late_visits = conn.execute("SELECT id FROM visit_tasks WHERE status = 'open' AND due_on < ?",
                                   (AS_OF,)).fetchall()
        idle = conn.execute(
            "SELECT id FROM cases k WHERE status = 'open' AND next_action_on IS NULL AND NOT EXISTS (SELECT 1 FROM "
            "actions a WHERE a.case_id = k.id AND a.status IN ('pending', 'awaiting_approval', 'sending'))").fetchall()
        internal = conn.execute("SELECT id, anchor_due_on FROM cases WHERE status = 'open' AND stage = 'internal'"
                                ).fetchall()
    visits = _query(base, "attention_visits_overdue")
    assert late_visits and sorted(r["visit"] for r in visits) == sorted(v for (v,) in late_visits)
    assert all(r["days_late"] > 0 for r in visits)
    assert sorted(r["case_id"] for r in _query(base, "attention_no_next_action")) == sorted(c for (c,) in idle)

    # A year on, every case still in the internal stage is past the preset's onsite entry (day 31).
    later = "2027-03-01"
    stuck = {r["case_id"]: r for r in _query(base, "attention_stuck_in_stage", as_of=later)}
    expected = {case for case, due in internal
                if (dt.date.fromisoformat(later) - dt.date.fromisoformat(due)).days >= 31}
    assert stuck and expected <= set(stuck)
    assert all(r["dpd"] >= r["entered_at_dpd"] for r in stuck.values())


def test_nothing_can_write_and_the_file_is_untouched(server: tuple[str, Path, tuple[str, int]]) -> None:
    base, db, before = server
    sql = urllib.parse.urlencode({"sql": "DELETE FROM cases"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{base}/dunning.json?{sql}", timeout=30)
    assert refused.value.code == 400
    attempt = urllib.parse.urlencode({"sql": "SELECT count(*) AS n FROM cases; UPDATE cases SET balance = 0"})
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(f"{base}/dunning.json?{attempt}", timeout=30)
    request = urllib.request.Request(f"{base}/dunning/cases/-/insert", data=b'{"row": {"id": 999}}',
                                     headers={"Content-Type": "application/json"}, method="POST")
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(request, timeout=30)
    for name in ("aging", "promises", "activity", "open_cases"):
        assert isinstance(_query(base, name), list)
    assert _digest(db) == before


def test_metadata_out_writes_the_json_and_serves_nothing(portfolio: Path, tmp_path: Path) -> None:
    out = tmp_path / "metadata.json"
    result = CliRunner().invoke(cli, ["--config", str(portfolio / "dunning.toml"), "datasette", "--metadata-out",
                                      str(out)])
    assert result.exit_code == 0, result.output
    metadata = json.loads(out.read_text(encoding="utf-8"))
    aging = metadata["databases"]["dunning"]["queries"]["aging"]
    assert "/ (CASE currency" in aging["sql"] or "CASE c.currency" in aging["sql"]
    assert aging["params"] == ["as_of"]
    assert f"datasette serve {portfolio / 'dunning.db'}" in result.output
