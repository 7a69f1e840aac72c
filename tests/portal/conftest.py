"""A project with the debtors' page configured: one debtor, one invoice overdue and one falling due later."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dunning.config import load_config
from dunning.runtime import Runtime
from tests.conftest import Project, row, write_csv

BASE_URL = "https://pay.acme.example/portal"
PORTAL_TOML = f'[portal]\nbase_url = "{BASE_URL}"\nlink_days = 14\n'
IMPORTED = "2026-02-20T08:00:00Z"
NOW = "2026-03-10T10:00:00Z"  # INV-1 (1200.00, due 1 March) is overdue; INV-2 (300.00, due 30 April) is not


def import_two_items(project: Project) -> None:
    rows = [row("C001", "INV-1", "1200.00", name="Trading Co", email="ap@trading.example"),
            row("C001", "INV-2", "300.00", due_on="2026-04-30", name="Trading Co", email="ap@trading.example")]
    project("import", str(write_csv(project.folder / "in.csv", rows)), now=IMPORTED)


@pytest.fixture
def portal_project(project: Project) -> Project:
    project.write_config(extra=PORTAL_TOML)
    import_two_items(project)
    return project


@pytest.fixture
def open_runtime() -> Iterator[object]:
    """``open_runtime(project, plugins=())``: a Runtime on the project's config, closed after the test."""
    opened: list[Runtime] = []

    def make(project: Project, plugins: tuple[object, ...] = ()) -> Runtime:
        rt = Runtime(load_config(project.config, required=True), extra_plugins=list(plugins))
        opened.append(rt)
        return rt

    yield make
    for rt in opened:
        rt.close()
