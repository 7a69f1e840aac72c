"""Fixtures for plugin authors (a pytest plugin, loaded through the ``pytest11`` entry point).

- ``dunning_config``: a Config in a temporary folder (policy file, enabled channels settable).
- ``dunning_runtime``: a Runtime on a temporary SQLite file with the plugins you pass.
- ``case_factory``: makes a debtor, an obligation and its case in that store.
- ``fake_clock``: a moment you move forward by hand (``fake_clock.advance(days=1)``).
- ``register_plugin``: registers a plugin object in-process for the CLI, undone after the test.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from dunning import calendar, phones, plugin_manager
from dunning.config import Config
from dunning.models import Case, Contact, ContactKind, Debtor, DebtorKind
from dunning.runtime import Runtime
from dunning.store import ImportedObligation


class FakeClock:
    """A UTC moment that only moves when told to."""

    def __init__(self, start: dt.datetime):
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now

    def set(self, moment: dt.datetime | str) -> dt.datetime:
        self.now = calendar.parse_moment(moment, dt.timezone.utc) if isinstance(moment, str) else moment
        return self.now

    @property
    def today(self) -> dt.date:
        return self.now.date()


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone.utc))


@pytest.fixture
def dunning_config(tmp_path: Path) -> Callable[..., Config]:
    """Build a Config: ``dunning_config(policy="...toml text or preset", enabled=[...], **settings)``."""

    def make(policy: str = "trade-receivables", enabled: Sequence[str] = (), timezone: str = "UTC",
             channel_settings: dict[str, dict[str, Any]] | None = None, **extra: Any) -> Config:
        if "\n" in policy:
            path = tmp_path / "policy.toml"
            path.write_text(policy, encoding="utf-8")
            policy = str(path)
        return Config(path=tmp_path / "dunning.toml", policy=policy, db=tmp_path / "dunning.db", timezone=timezone,
                      enabled_channels=tuple(enabled), channel_settings=channel_settings or {}, **extra)

    return make


@pytest.fixture
def dunning_runtime(dunning_config: Callable[..., Config]) -> Iterator[Callable[..., Runtime]]:
    """``dunning_runtime(plugins=[...], policy=..., enabled=[...])`` opens a Runtime; closed after the test."""
    opened: list[Runtime] = []

    def make(plugins: Sequence[object] = (), **config: Any) -> Runtime:
        rt = Runtime(dunning_config(**config), extra_plugins=plugins)
        opened.append(rt)
        return rt

    yield make
    for rt in opened:
        rt.close()


@pytest.fixture
def case_factory() -> Callable[..., Case]:
    """``case_factory(rt, amount="1200.00", due_on=date, currency="EUR", debtor_id=..., email=..., now=...)``.

    The debtor is a company unless ``kind="person"`` (consumer rules such as Reg F bind persons only).
    """
    counter = {"n": 0}

    def make(rt: Runtime, *, amount: str = "1200.00", due_on: dt.date = dt.date(2026, 3, 1), currency: str = "EUR",
             debtor_id: str | None = None, name: str = "Acme Trading Ltd", email: str | None = "ap@acme.example",
             mobile: str | None = "+44 7700 900123", reference: str | None = None, locale: str | None = None,
             timezone: str | None = None, country: str | None = None, now: dt.datetime | None = None,
             kind: str = "company", region: str | None = None) -> Case:
        from dunning import money

        counter["n"] += 1
        debtor_id = debtor_id or f"D{counter['n']:04d}"
        contacts = []
        if email:
            contacts.append(Contact(debtor_id=debtor_id, kind=ContactKind.EMAIL, value=email))
        if mobile:
            # Stored as an import would store it: in E.164.
            contacts.append(Contact(debtor_id=debtor_id, kind=ContactKind.MOBILE,
                                    value=phones.normalise(mobile, country).e164))
        item = ImportedObligation(
            debtor=Debtor(id=debtor_id, name=name, kind=DebtorKind(kind), country=country, timezone=timezone,
                          locale=locale, region=region),
            contacts=contacts, reference=reference or f"INV-{counter['n']:04d}", amount=money.parse(amount, currency),
            currency=currency, issued_on=None, due_on=due_on)
        moment = now or dt.datetime.combine(due_on, dt.time(8), tzinfo=dt.timezone.utc) - dt.timedelta(days=30)
        _, touched = rt.store.import_obligations([item], moment, rt.today(moment))
        return rt.store.case(touched[0])

    return make


@pytest.fixture
def register_plugin() -> Iterator[Callable[[object], object]]:
    """Register a plugin object so that CLI commands run in this test load it."""
    added: list[object] = []

    def register(plugin: object) -> object:
        plugin_manager.registered.append(plugin)
        added.append(plugin)
        return plugin

    yield register
    for plugin in added:
        plugin_manager.registered.remove(plugin)
