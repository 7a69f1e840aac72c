"""Shared test set-up: no installed plugin loads unless a test asks for it."""

from __future__ import annotations

import csv
import datetime as dt
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from dunning import Delivery, hookimpl
from dunning.cli import cli
from dunning.plugin_manager import LOAD_ENV
from dunning.store import Store
# Also a pytest11 plugin once dunning is installed again; imported here too, so a virtualenv made before it
# was added finds the PostgreSQL fixtures.
from dunning.testing_postgres import dunning_database, dunning_postgres, dunning_postgres_url  # noqa: F401

HEADER = ["debtor_id", "name", "kind", "email", "mobile", "work_phone", "home_phone", "address", "country",
          "timezone", "reference", "amount", "currency", "issued_on", "due_on"]


@pytest.fixture(autouse=True)
def no_installed_plugins(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    monkeypatch.setenv(LOAD_ENV, "")
    monkeypatch.delenv("DUNNING_CONFIG", raising=False)
    # Each test's checked configs are kept apart from the user's cache and from other tests' (dunning.checked_cache).
    monkeypatch.setenv("DUNNING_CACHE_DIR", str(tmp_path_factory.mktemp("checked")))


class RecordingChannel:
    """A channel that remembers what it was asked to send."""

    def __init__(self, name: str, *, fail_with: Exception | None = None):
        self.name = name
        self.needs = ()
        self.sent: list[tuple[str, int, str | None]] = []
        self.fail_with = fail_with

    def send(self, action: Any, case: Any, ctx: Any) -> Delivery:
        if self.fail_with is not None:
            raise self.fail_with
        self.sent.append((ctx.key, case.id, action.template))
        return Delivery.sent(f"rec:{ctx.key}")


class ChannelsPlugin:
    """Registers recording channels under the given names."""

    def __init__(self, *names: str, **special: RecordingChannel):
        self.channels = {n: RecordingChannel(n) for n in names} | special
        self.plugin_name = "test-channels"

    @hookimpl
    def register_channels(self, register: Callable[[Any], None]) -> None:
        for channel in self.channels.values():
            register(channel)


def dump(db: Path) -> list[str]:
    """The database as SQL, to show a refused command changed nothing."""
    conn = sqlite3.connect(db)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=HEADER)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: row.get(k, "") for k in HEADER})
    return path


def row(debtor_id: str = "C001", reference: str = "INV-1", amount: str = "1200.00", due_on: str = "2026-03-01",
        **extra: str) -> dict[str, str]:
    base = {"debtor_id": debtor_id, "name": f"Customer {debtor_id}", "kind": "company", "email": "ap@example.com",
            "mobile": "+44 7700 900123", "country": "GB", "timezone": "Europe/London", "reference": reference,
            "amount": amount, "currency": "EUR", "issued_on": "2026-02-01", "due_on": due_on}
    return base | extra


class Project:
    """A folder with a dunning.toml, and a runner for the CLI in it."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.config = folder / "dunning.toml"
        self.runner = CliRunner()

    def write_config(
        self, policy: str = "trade-receivables", enabled: list[str] | None = None, extra: str = ""
    ) -> None:
        enabled_list = ", ".join(f'"{e}"' for e in (enabled or []))
        self.config.write_text(
            f'policy = "{policy}"\ndb = "dunning.db"\ntimezone = "UTC"\n\n[channels]\nenabled = '
            f'[{enabled_list}]\n{extra}\n'
            '[notify]\nsupervisor = "Sam Supervisor <sam@example.com>"\nmanager = "morgan@example.com"\n'
            'general_manager = "Gale <gale@example.com>"\n',
            encoding="utf-8",
        )
        if not self.db.exists():
            Store(self.db).close()  # as `dunning init` does: the database the config names exists

    def __call__(
        self, *args: str, now: str | None = None, expect: int | None = 0, env: dict[str, str] | None = None
    ) -> Result:
        argv = ["--config", str(self.config)] + (["--now", now] if now else []) + list(args)
        result = self.runner.invoke(cli, argv, env=env, catch_exceptions=False)
        if expect is not None:
            assert result.exit_code == expect, f"dunning {' '.join(args)} -> {result.exit_code}\n{result.output}"
        return result

    @property
    def db(self) -> Path:
        return self.folder / "dunning.db"


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    p = Project(tmp_path)
    p.write_config()
    yield p


def at(day: dt.date, hour: int = 9) -> str:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC).isoformat()
