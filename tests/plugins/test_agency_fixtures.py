"""Shared set-up for the agency and legal tests: a project with the plugins enabled, a short policy.

No tests here; the agency and legal test modules import what they need.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dunning.cli import load_plugin_commands
from dunning.plugin_manager import LOAD_ENV
from tests.conftest import ChannelsPlugin, Project, at, row, write_csv

DUE = dt.date(2026, 3, 1)

# A short policy: reminders by email until the agency stage at day 10,
# recalled at day 40; email reminders continue at the agency stage so a
# test can see them blocked while the case is placed.
SHORT_POLICY = """
name = "agency-test"

[stages.agency]
entry_dpd = 10
recall_dpd = 40

[[steps]]
name = "reminder"
dpd = [1, 60]
every = 3
channels = ["email"]
template = "reminder"
"""

AGENCIES = """
[channels.agency]
folder = "agency-files"
recovery_window = 10

[channels.agency.agencies.northwind]
name = "Northwind Recoveries Ltd"
commission = "25"
min_balance = "500.00"
max_balance = "20000.00"
capacity = 5

[channels.agency.agencies.eastgate]
name = "Eastgate Collections"
commission = { by = "recovered", bands = [ { from = "0", percent = "30" }, { from = "1000.00", percent = "20" } ] }
min_balance = "100.00"
capacity = 1
placement_days = 20
"""


def use_plugins(monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    """Load these installed plugins (entry points) in the CLI and make sure their commands are there."""
    monkeypatch.setenv(LOAD_ENV, ",".join(names))
    load_plugin_commands()


def day_at(dpd: int, hour: int = 9) -> str:
    return at(DUE + dt.timedelta(days=dpd), hour)


@pytest.fixture
def agency_project(project: Project, register_plugin: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    """A project on the short policy with the agency plugin, a recording email channel and two agencies."""
    use_plugins(monkeypatch, "agency")
    project.email = register_plugin(ChannelsPlugin("email")).channels["email"]  # type: ignore[attr-defined]
    (project.folder / "policy.toml").write_text(SHORT_POLICY, encoding="utf-8")
    project.write_config(policy="policy.toml", enabled=["email", "agency"], extra=AGENCIES)
    yield project


def import_cases(project: Project, *rows: dict[str, str]) -> dict[str, int]:
    """Import these rows (see tests.conftest.row) before the due date; return case ids by debtor id."""
    path = write_csv(project.folder / "portfolio.csv", list(rows))
    project("import", str(path), now=day_at(-5, 8))
    return {c["debtor_id"]: c["id"] for c in json.loads(project("cases", "list", "--json").stdout)}


def run_days(project: Project, first: int, last: int) -> None:
    for dpd in range(first, last + 1):
        project("run", "--now", day_at(dpd), "--json")


def events(project: Project, case_id: int, kind: str | None = None) -> list[dict[str, Any]]:
    args = ["events", "--case", str(case_id), "--json"] + (["--kind", kind] if kind else [])
    return json.loads(project(*args).stdout)


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def write_returns(path: Path, lines: list[dict[str, str]]) -> Path:
    columns = ["agency", "transaction_id", "case_id", "type", "date", "amount", "currency", "detail"]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for line in lines:
            writer.writerow({k: line.get(k, "") for k in columns})
    return path


__all__ = [
    "AGENCIES",
    "DUE",
    "SHORT_POLICY",
    "agency_project",
    "day_at",
    "events",
    "import_cases",
    "read_csv",
    "row",
    "run_days",
    "use_plugins",
    "write_returns",
]
