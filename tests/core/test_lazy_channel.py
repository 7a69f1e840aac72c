"""A channel registered as a LazyChannel: its module is imported when the channel is used, not by every command."""

from __future__ import annotations

import datetime as dt
import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dunning import Delivery, LazyChannel, dispatch, hookimpl
from dunning.compliance.media import declared_medium
from dunning.config import ConfigError
from dunning.lazy_channel import ChannelTable
from dunning.runtime import Runtime


@pytest.fixture
def dunning_runtime(dunning_database: str | Path, dunning_runtime: Callable[..., Runtime]) -> Callable[..., Runtime]:
    """Every runtime here opens its store on SQLite, then (the test's second run) on PostgreSQL. The database is
    asked for first, so it outlives the runtimes: they are closed before it is dropped."""
    return functools.partial(dunning_runtime, database=dunning_database)


DAY1 = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
POLICY = 'name = "r"\n[[steps]]\nname = "note"\ndpd = 1\nchannels = ["receipts"]\ntemplate = "n"\n'
# Read by the factory below: which keys the last built Receipts channel was handed.
sent_keys: list[str] = []


class Receipts:
    name, medium, needs = "receipts", "other", ()

    def send(self, action: Any, case: Any, ctx: Any) -> Delivery:
        sent_keys.append(ctx.key)
        return Delivery.sent(f"r:{ctx.key}")


class LazyReceipts:
    """A plugin registering its channel by where it lives; ``target`` may name a module that does not exist."""

    plugin_name = "receipts"

    def __init__(self, target: str = f"{__name__}:Receipts") -> None:
        self.target = target

    @hookimpl
    def register_channels(self, register: Any) -> None:
        register(LazyChannel("receipts", self.target, medium="other"))


@pytest.mark.parametrize("plugin", ["email", "letter", "phone", "visit", "agency", "legal"])
def test_each_built_in_lazy_channel_builds_the_channel_it_names_with_the_medium_it_declares(plugin: str):
    module = __import__(f"dunning.plugins.{plugin}", fromlist=["register_channels"])
    found: list[LazyChannel] = []
    module.register_channels(found.append)
    assert found and all(isinstance(entry, LazyChannel) for entry in found)
    for entry in found:
        channel = entry.build()
        assert channel.name == entry.name
        # The contact rules read the medium off the entry, unbuilt: it must be the channel's own.
        assert declared_medium(entry) == declared_medium(channel) == getattr(channel, "medium", None)


def test_a_disabled_lazy_channel_is_known_by_name_and_medium_and_never_imported(dunning_runtime):
    rt = dunning_runtime(plugins=[LazyReceipts("tests.core.no_such_module:Receipts")])
    assert "receipts" in rt.plugins.known_channels()
    assert rt.plugins.media["receipts"] == "other"
    assert rt.plugins.channel("receipts") is None  # not enabled
    assert "tests.core.no_such_module" not in sys.modules


def test_an_enabled_lazy_channel_is_built_at_start_up_and_delivers(dunning_runtime, case_factory):
    sent_keys.clear()
    rt = dunning_runtime(plugins=[LazyReceipts()], enabled=["receipts"], policy=POLICY)
    channel = rt.plugins.channel("receipts")
    assert isinstance(channel, Receipts) and rt.plugins.channels["receipts"] is channel  # built once, kept
    case = case_factory(rt)
    assert dispatch.run(rt, DAY1).sent == 1
    assert sent_keys == [f"{case.id}:note:receipts:2026-03-02"]


def test_an_enabled_lazy_channel_that_cannot_be_built_leaves_its_plugin_out_by_name(dunning_runtime):
    with pytest.raises(ConfigError) as raised:
        dunning_runtime(plugins=[LazyReceipts("tests.core.no_such_module:Receipts")], enabled=["receipts"],
                        policy=POLICY)
    message = str(raised.value)
    assert "'channels.enabled' lists 'receipts', but no installed plugin provides it" in message
    assert "plugin receipts register_channels raised ModuleNotFoundError" in message


def test_a_factory_that_makes_another_channel_is_refused_when_built():
    table = ChannelTable({"receipt": LazyChannel("receipt", f"{__name__}:Receipts")})
    assert "receipt" in table and list(table) == ["receipt"]
    with pytest.raises(TypeError, match="did not make a channel called 'receipt'"):
        table["receipt"]
