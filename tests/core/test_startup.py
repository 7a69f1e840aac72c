"""Start-up: light commands import no heavy library, and the lists that keep them light agree with the commands.

No timings here (they vary from machine to machine, see bench/startup.py): each command runs in a fresh
interpreter with the built-in plugins installed, and the test reads which modules it imported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from dunning.cli import BUILT_IN, cli, load_built_in
from dunning.entry_points import entry_points
from dunning.lazy_command import LazyCommand
from dunning.plugin_manager import LOAD_ENV

from tests.conftest import row, write_csv

BUILT_IN_PLUGINS = "agency,email,legal,letter,phone,visit"
# PDF, templates, HTTP, SMTP, phone numbers, holidays, and structlog (which imports rich when it is installed).
HEAVY = ("reportlab", "pypdf", "jinja2", "smtplib", "http.client", "urllib.request", "phonenumbers", "holidays",
         "structlog", "rich")
# What prints the modules a command imported, once the command has exited (click ends with sys.exit).
PROBE = ("import atexit, json, sys\n"
         "atexit.register(lambda: open({out!r}, 'w').write(json.dumps(sorted(sys.modules))))\n"
         "sys.argv = ['dunning', *{args!r}]\n"
         "from dunning.cli import cli\n"
         "cli()\n")


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project as `dunning init` and `dunning import` leave it, with one case."""
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    assert runner.invoke(cli, ["init"]).exit_code == 0
    write_csv(tmp_path / "in.csv", [row()])
    assert runner.invoke(cli, ["import", "in.csv"]).exit_code == 0
    return tmp_path


def imported_by(folder: Path, *args: str) -> tuple[set[str], str]:
    """The modules ``dunning ARGS`` imported, run in a new interpreter with the built-in plugins, and its output."""
    out = folder / "modules.json"
    env = {k: v for k, v in os.environ.items() if k != "DUNNING_CONFIG"} | {LOAD_ENV: BUILT_IN_PLUGINS}
    done = subprocess.run([sys.executable, "-c", PROBE.format(out=str(out), args=list(args))], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return set(json.loads(out.read_text(encoding="utf-8"))), done.stdout


def test_help_imports_no_heavy_library_and_still_lists_plugin_commands(folder: Path):
    modules, out = imported_by(folder, "--help")
    assert sorted(m for m in (*HEAVY, "sqlite_utils") if m in modules) == []
    # No command's code either: each built-in's module waits until it runs.
    assert sorted(m for m in modules if m.startswith("dunning.cli_") and m != "dunning.cli_support") == []
    assert "dunning.runtime" not in modules and "dunning.config" not in modules
    # Nor the models (nine attrs classes and their enums) or the priority rules: only a command reads cases.
    assert sorted(m for m in ("dunning.models", "dunning.priority", "dunning.priority_hook") if m in modules) == []
    assert "importlib.metadata" not in modules  # the entry points are read without it (dunning.entry_points)
    for command in ("agency", "calls", "legal", "letters", "visits", "cases", "run", "notices"):
        assert f"\n  {command} " in out, command


# What a command that only reads a migrated database and the config `dunning init` wrote must not load either:
# sqlite-utils (numpy with it, where installed) is for migrations and plugins' tables, pycountry for a country
# code not in dunning.compliance.country_codes, the interest rules for a config that names one.
READ_PATH_HEAVY = ("sqlite_utils", "numpy", "pycountry", "dunning.ledger.interest_rules")
# Nor, once a first start has checked them (dunning.checked_cache), the config's checker (cattrs, tomllib) or the
# policy (dunning.policy and the strategies' policies, with the ledger's commands that check offers against it),
# which a reading command does not use.
READ_PATH_CHECKED = ("cattrs", "tomllib", "dunning.policy", "dunning.strategy_policies", "dunning.cli_ledger",
                     "dunning.ledger.settlement")
# Nor the channels' code, no channel being enabled (the plugins register them as dunning.LazyChannel): the email
# channel's email.headerregistry and socket; nor python-stdnum (and its ssl), which only making or checking a
# payment reference needs.
READ_PATH_LAZY = ("email.headerregistry", "socket", "ssl", "stdnum", "dunning.channels",
                  *(f"dunning.plugins.{plugin}.channel" for plugin in BUILT_IN_PLUGINS.split(",")),
                  "dunning.plugins.phone.sms")
# Nor what only writing, running or a PostgreSQL store needs, each with the record classes attrs would make for it:
# the contact rules' module (registered through dunning.compliance.rules_plugin), its caps, limitation periods and
# verdicts; the ledger's allocation, payment and bank records and reference rates (dunning.store's ledger, bank and
# rates parts import them where a payment is applied or read back); planning's event templates; the rewriting of
# SQL for PostgreSQL (the reports' queries take their fragment from dunning.store.dialect_names); hashlib, which
# loads OpenSSL (the evidence chain imports it on its first hash, the checked config hashes with the interpreter's
# own SHA-256), and base64 (a checkpoint's key and signature).
READ_PATH_UNUSED = ("dunning.compliance.rules", "dunning.compliance.caps", "dunning.compliance.limitation",
                    "dunning.verdicts", "dunning.ledger.allocation", "dunning.ledger.records", "dunning.ledger.rates",
                    "dunning.store.planned_events", "dunning.store.dialect", "hashlib", "_hashlib", "base64")


@pytest.mark.parametrize("args", [("cases", "list"), ("cases", "show", "1")])
def test_reading_commands_import_no_heavy_library_and_not_the_code_of_run(folder: Path, args: tuple[str, ...]):
    first, out = imported_by(folder, *args)  # checks the config and loads the policy: the first start since import
    assert "Customer C001" in out
    assert sorted(m for m in (*HEAVY, *READ_PATH_HEAVY, *READ_PATH_LAZY, *READ_PATH_UNUSED) if m in first) == []
    assert "dunning.dispatch" not in first and "dunning.cli_run" not in first
    again, out_again = imported_by(folder, *args)
    assert out_again == out
    assert sorted(m for m in (*HEAVY, *READ_PATH_HEAVY, *READ_PATH_LAZY, *READ_PATH_UNUSED, *READ_PATH_CHECKED)
                  if m in again) == []


def test_plugins_lists_versions_without_importlib_metadata_or_the_store(folder: Path):
    imported_by(folder, "plugins")
    modules, out = imported_by(folder, "plugins")
    assert "email" in out and "yes" in out
    # Versions are read from each distribution's METADATA; the store only to ask a mirror how far behind it is.
    assert sorted(m for m in ("importlib.metadata", "email.message", "zipfile", "dunning.store", "cattrs",
                              "dunning.policy", *HEAVY) if m in modules) == []


def test_the_registered_contact_rules_are_the_rules_own_hooks():
    """Every command registers ``rules_plugin``; its hooks take what the rules' hooks take and hand it on."""
    import inspect

    from dunning.compliance import rules, rules_plugin

    for hook in ("check_action", "escalation_check"):
        assert inspect.signature(getattr(rules_plugin, hook)) == inspect.signature(getattr(rules, hook)), hook
        assert vars(getattr(rules_plugin, hook))["dunning_impl"] == vars(getattr(rules, hook))["dunning_impl"]
    hooks = {name for name in dir(rules) if hasattr(getattr(rules, name), "dunning_impl")}
    assert hooks == {name for name in dir(rules_plugin) if hasattr(getattr(rules_plugin, name), "dunning_impl")}


def test_the_sql_dialect_names_its_light_fragments_as_its_own():
    from dunning.store import dialect, dialect_names

    assert (dialect.SQLITE, dialect.POSTGRESQL) == (dialect_names.SQLITE, dialect_names.POSTGRESQL)
    assert dialect.json_field is dialect_names.json_field
    assert dialect.json_field(dialect.SQLITE, "data", "amount") == "json_extract(data, '$.amount')"
    assert dialect.json_field(dialect.POSTGRESQL, "data", "amount", "bigint") == "(data::jsonb ->> 'amount')::bigint"


def test_the_checked_config_s_digest_is_hashlib_s_sha256():
    import hashlib

    from dunning.checked_cache import _sha256

    for text in (b"", b"dunning.toml", bytes(range(256)) * 100):
        assert _sha256()(text).hexdigest() == hashlib.sha256(text).hexdigest()


def test_the_chain_hashes_with_hashlib_from_its_first_event():
    import hashlib

    from dunning import evidence

    body = {"seq": 1, "kind": "case_opened", "data": {"a": 1}}
    first = evidence.chain_hash(evidence.GENESIS, body)
    hashed = {name: body.get(name) for name in evidence.HASHED_FIELDS}
    assert first == hashlib.sha256(evidence.GENESIS.encode() + evidence.canonical(hashed)).hexdigest()
    assert evidence.chain_hash(evidence.GENESIS, body) == first
    assert evidence._sha256 is hashlib.sha256  # bound on the first hash: later ones call it directly


def test_a_plugin_command_loads_its_module_when_it_runs(folder: Path):
    modules, out = imported_by(folder, "calls", "--help")
    assert "dunning.plugins.phone.cli" in modules and "Usage: dunning calls" in out
    modules, _ = imported_by(folder, "--help")
    assert "dunning.plugins.phone.cli" not in modules


@pytest.mark.parametrize("name", sorted(BUILT_IN))
def test_the_table_of_built_in_commands_agrees_with_each_command(name: str):
    command = load_built_in(name)
    assert command.name == name
    listed = click.Command(name, help=BUILT_IN[name][1])
    for limit in (30, 45, 80, 200):
        assert listed.get_short_help_str(limit) == command.get_short_help_str(limit), (name, limit)


def test_plugins_lazy_commands_agree_with_their_commands():
    from dunning.plugins import agency, legal, phone, visit

    registered: list[click.Command] = []
    group = click.Group()
    group.add_command = lambda command, name=None: registered.append(command)  # type: ignore[method-assign]
    for plugin in (agency, legal, phone, visit):
        plugin.register_commands(group)
    assert {c.name for c in registered} == {"agency", "legal", "calls", "visits"}
    for stand_in in registered:
        assert isinstance(stand_in, LazyCommand)
        command = stand_in.load()
        assert command.name == stand_in.name
        for limit in (30, 45, 80, 200):
            assert stand_in.get_short_help_str(limit) == command.get_short_help_str(limit), (stand_in.name, limit)


@pytest.mark.parametrize("group", ["dunning", "console_scripts", "pytest11"])
def test_entry_points_are_those_importlib_metadata_finds_in_its_order(group: str):
    import importlib.metadata

    expected = [(ep.name, ep.value) for ep in importlib.metadata.entry_points(group=group)]
    assert [(ep.name, ep.value) for ep in entry_points(group)] == expected
    if group == "dunning":
        assert {ep.name for ep in entry_points(group)} >= set(BUILT_IN_PLUGINS.split(","))
        first = next(iter(importlib.metadata.entry_points(group=group)))
        assert entry_points(group)[0].version() == first.dist.version


def test_each_distribution_s_version_is_the_one_importlib_metadata_reads():
    import importlib.metadata

    from dunning.entry_points import _distributions, _version_header

    checked = 0
    for _name, dist_path in _distributions():
        assert _version_header(Path(dist_path)) == importlib.metadata.Distribution.at(dist_path).version, dist_path
        checked += 1
    assert checked > 10  # the test tools' distributions at least
