"""Fixtures for plugin authors (a pytest plugin, loaded through the ``pytest11`` entry point).

docs/plugins.md, "Testing your plugin", shows each one at work:

- ``dunning_config``: writes a ``dunning.toml`` (and the database it names) in a temporary folder.
- ``dunning_runtime``: a Runtime on that configuration with the plugins you pass; closed after the test.
- ``dunning_case``: makes a debtor, an obligation and its case in a runtime's store.
- ``dunning_clock``: a moment you move forward by hand (``dunning_clock.advance(days=1)``).
- ``dunning_run``: one ``dunning run`` in-process, at the clock's time unless told another.
- ``dunning_contexts``: the real ``DeliveryContext`` and ``RuleContext`` for an action on a case.
- ``dunning_register_plugin``: registers a plugin object in-process for the CLI, undone after the test.

``fake_clock``, ``case_factory`` and ``register_plugin`` are the earlier names of
``dunning_clock``, ``dunning_case`` and ``dunning_register_plugin``; they stay for
one more release and then go.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import attrs
import pytest

from dunning import calendar, dispatch, phones, plugin_manager
from dunning.config import DEFAULT_CONFIG_NAME, Config, load_config
from dunning.models import Case, Contact, ContactKind, Debtor, DebtorKind
from dunning.policy import PolicyError
from dunning.runtime import Runtime, missing_templates
from dunning.store import ImportedObligation, Store
from dunning.store.database import database_exists, opened_as
from dunning.testing_contexts import Contexts, contexts_for


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
        self.now = calendar.parse_moment(moment, dt.UTC) if isinstance(moment, str) else moment
        return self.now

    @property
    def today(self) -> dt.date:
        return self.now.date()


@pytest.fixture
def dunning_clock() -> FakeClock:
    """A clock at Monday 2 March 2026, 09:00 UTC; ``dunning_run`` runs at its time."""
    return FakeClock(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC))


@pytest.fixture
def dunning_config(tmp_path: Path) -> Callable[..., Config]:
    """Write ``<tmp_path>/dunning.toml`` (and create the database it names) and return it loaded.

    ``dunning_config(policy="preset name, file or TOML text", enabled=[...], timezone="UTC",
    channel_settings={name: {...}}, templates=path, notify={role: address}, disabled_plugins=[...],
    toml="extra tables", **fields)``. The file is read back with the loader ``dunning`` uses, so a
    setting the CLI would refuse fails here too. ``fields`` are Config attributes; those with a
    spelling in ``dunning.toml`` (``max_attempts``, ``retry_after``, ``claim_timeout``, ``synchronous``)
    are written to it, any other (``claim_timeout=timedelta(0)``, ``compliance=Profile``) is set on
    the returned Config only.
    """

    def make(policy: str = "trade-receivables", enabled: Sequence[str] = (), timezone: str = "UTC",
             channel_settings: Mapping[str, Mapping[str, Any]] | None = None, *, templates: Path | str | None = None,
             notify: Mapping[str, str] | None = None, disabled_plugins: Sequence[str] = (), toml: str = "",
             **fields: Any) -> Config:
        if "\n" in policy:
            (tmp_path / "policy.toml").write_text(policy, encoding="utf-8")
            policy = "policy.toml"
        path = tmp_path / DEFAULT_CONFIG_NAME
        written, kept = config_toml(policy=policy, enabled=enabled, timezone=timezone,
                                    channel_settings=channel_settings or {}, templates=templates, notify=notify or {},
                                    disabled_plugins=disabled_plugins, fields=fields)
        path.write_text(written + toml, encoding="utf-8")
        config = load_config(path, required=True)
        if not database_exists(config.db):
            Store(opened_as(config.db)).close()  # as `dunning init` does: commands refuse a missing database
        return attrs.evolve(config, **kept) if kept else config

    return make


@pytest.fixture
def dunning_runtime(dunning_config: Callable[..., Config]) -> Iterator[Callable[..., Runtime]]:
    """``dunning_runtime(plugins=[...], database=None, **dunning_config_arguments)`` opens a Runtime; closed after
    the test. ``database`` (a file or a ``postgresql://`` URL, as ``dunning_database`` gives) is the store it
    opens in place of the configuration's file."""
    opened: list[Runtime] = []

    def make(plugins: Sequence[object] = (), database: str | Path | None = None, **config: Any) -> Runtime:
        # Runtime opens any database Store takes: a file or a postgresql:// URL.
        rt = Runtime(dunning_config(**config), db_path=cast(Path | None, database), extra_plugins=plugins)
        opened.append(rt)
        return rt

    yield make
    for rt in opened:
        rt.close()


@pytest.fixture
def dunning_run(dunning_clock: FakeClock) -> Callable[..., dispatch.RunSummary]:
    """``dunning_run(rt, now=None)``: what ``dunning run`` does, in-process, at ``now`` or the clock's time.

    Like the command it refuses a policy whose templates an enabled channel
    lacks (``PolicyError``), plans and delivers, and signs a checkpoint when
    the configuration has an evidence key.
    """

    def run(rt: Runtime, now: dt.datetime | None = None) -> dispatch.RunSummary:
        moment = now or dunning_clock()
        missing = missing_templates(rt.policy, rt.plugins, rt.config)
        if missing:
            raise PolicyError(f"{rt.policy.source}: " + f"\n{rt.policy.source}: ".join(missing))
        summary = dispatch.run(rt, moment)
        rt.checkpoint(moment)
        return summary

    return run


@pytest.fixture
def dunning_contexts(dunning_clock: FakeClock) -> Callable[..., Contexts]:
    """``dunning_contexts(rt, case, channel="sms", template="overdue-notice", step="test-step", now=None,
    kind="outreach", options=None)``: the action and the contexts a run would hand plugins for it.

    Returns ``Contexts`` with ``action``, ``case`` (re-read from the store),
    ``rule`` (the ``RuleContext`` for ``check_action``) and ``delivery`` (the
    ``DeliveryContext`` for the channel's ``send``; outreach on an enabled
    channel only). ``now`` defaults to the clock's time.
    """

    def make(rt: Runtime, case: Case, channel: str | None = None, template: str | None = "overdue-notice", *,
             step: str = "test-step", now: dt.datetime | None = None, kind: str = "outreach",
             options: Mapping[str, Any] | None = None) -> Contexts:
        return contexts_for(rt, case, now or dunning_clock(), channel=channel, template=template, step=step,
                            kind=kind, options=options)

    return make


@pytest.fixture
def dunning_case() -> Callable[..., Case]:
    """``dunning_case(rt, amount="1200.00", due_on=date, currency="EUR", debtor_id=..., email=..., now=...)``.

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
        moment = now or dt.datetime.combine(due_on, dt.time(8), tzinfo=dt.UTC) - dt.timedelta(days=30)
        _, touched = rt.store.import_obligations([item], moment, rt.today(moment))
        return rt.store.case(touched[0])

    return make


@pytest.fixture
def dunning_register_plugin() -> Iterator[Callable[[object], object]]:
    """Register a plugin object so that CLI commands run in this test load it."""
    added: list[object] = []

    def register(plugin: object) -> object:
        plugin_manager.registered.append(plugin)
        added.append(plugin)
        return plugin

    yield register
    for plugin in added:
        plugin_manager.registered.remove(plugin)


# --- the earlier names, kept for one more release ------------------------------------


@pytest.fixture
def fake_clock(dunning_clock: FakeClock) -> FakeClock:
    """The earlier name of ``dunning_clock`` (the same clock)."""
    return dunning_clock


@pytest.fixture
def case_factory(dunning_case: Callable[..., Case]) -> Callable[..., Case]:
    """The earlier name of ``dunning_case``."""
    return dunning_case


@pytest.fixture
def register_plugin(dunning_register_plugin: Callable[[object], object]) -> Callable[[object], object]:
    """The earlier name of ``dunning_register_plugin``."""
    return dunning_register_plugin


# --- writing dunning.toml ----------------------------------------------------------------

# Config attributes that have a spelling in dunning.toml: (table, key, how the value is written).
_WRITTEN_FIELDS: dict[str, tuple[str, str, Callable[[Any], Any]]] = {
    "max_attempts": ("delivery", "max_attempts", lambda v: v),
    "retry_after": ("delivery", "retry_after_minutes", lambda v: v.total_seconds() / 60),
    "claim_timeout": ("delivery", "claim_timeout_seconds", lambda v: v.total_seconds()),
    "synchronous": ("store", "synchronous", lambda v: v),
}


def config_toml(
    *,
    policy: str,
    enabled: Sequence[str],
    timezone: str,
    channel_settings: Mapping[str, Mapping[str, Any]],
    templates: Path | str | None,
    notify: Mapping[str, str],
    disabled_plugins: Sequence[str],
    fields: Mapping[str, Any],
) -> tuple[str, dict[str, Any]]:
    """The ``dunning.toml`` text for these settings, and the Config fields it cannot hold."""
    tables: dict[str, dict[str, Any]] = {}
    kept: dict[str, Any] = {}
    for name, value in fields.items():
        spelling = _WRITTEN_FIELDS.get(name)
        written = spelling[2](value) if spelling else None
        # Whole positive numbers only, as the loader wants them; anything else stays off the file.
        if spelling and isinstance(written, (int, float, str)) and (isinstance(written, str) or
                                                                     (written > 0 and written == int(written))):
            tables.setdefault(spelling[0], {})[spelling[1]] = written if isinstance(written, str) else int(written)
        else:
            kept[name] = value
    lines = [f"policy = {_toml(policy)}", 'db = "dunning.db"', f"timezone = {_toml(timezone)}"]
    if templates is not None:
        lines.append(f"templates = {_toml(str(templates))}")
    lines += ["", "[channels]", f"enabled = {_toml(list(enabled))}"]
    for channel, settings in channel_settings.items():
        lines += ["", f"[channels.{_key(channel)}]"] + [f"{_key(k)} = {_toml(v)}" for k, v in settings.items()]
    for table, values in [*tables.items(), ("notify", dict(notify)),
                          ("plugins", {"disabled": list(disabled_plugins)} if disabled_plugins else {})]:
        if values:
            lines += ["", f"[{table}]"] + [f"{_key(k)} = {_toml(v)}" for k, v in values.items()]
    return "\n".join(lines) + "\n", kept


def _toml(value: Any) -> str:
    """One TOML value (strings, numbers, booleans, dates, lists and inline tables)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (str, Path)):
        return json.dumps(str(value), ensure_ascii=False)  # a JSON string is a TOML basic string
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_key(str(k))} = {_toml(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"dunning_config cannot write {value!r} to dunning.toml")


def _key(name: str) -> str:
    """A TOML key: bare when it can be, quoted otherwise."""
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else _toml(name)
