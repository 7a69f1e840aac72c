"""Build the plugin manager: specs, built-ins, entry points, the enabled set.

``DUNNING_LOAD_PLUGINS=a,b`` limits which entry points load (empty: none),
so tests never pick up whatever happens to be installed.
"""

from __future__ import annotations

import importlib.metadata
import os
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import attrs
import pluggy
import sqlite_utils
import structlog

from dunning import builtin, hookspecs
from dunning.compliance import rules as compliance_rules
from dunning.channels import STANDARD_CHANNELS, Channel
from dunning.compliance.media import MEDIA, declared_medium
from dunning.config import Config, ConfigError

log = structlog.get_logger("dunning.plugins")

ENTRY_POINT_GROUP = "dunning"
LOAD_ENV = "DUNNING_LOAD_PLUGINS"


@attrs.frozen
class PluginInfo:
    name: str
    version: str | None
    hooks: tuple[str, ...]
    channels: tuple[str, ...]
    enabled: bool
    source: str  # "built-in", "entry point", "registered"


@attrs.frozen
class Plugins:
    """The loaded plugin manager and what the plugins registered."""

    pm: pluggy.PluginManager
    channels: dict[str, Channel]  # every channel registered, enabled or not
    enabled: tuple[str, ...]
    info: tuple[PluginInfo, ...]
    migrations: dict[str, list[tuple[str, Callable[[sqlite_utils.Database], None]]]]

    @property
    def hook(self) -> Any:
        return self.pm.hook

    def known_channels(self) -> set[str]:
        return set(STANDARD_CHANNELS) | set(self.channels)

    def channel(self, name: str) -> Channel | None:
        return self.channels.get(name) if name in self.enabled else None

    @property
    def media(self) -> dict[str, str | None]:
        """Each registered channel's declared medium (None: declares none, held to the strictest rules)."""
        return {name: declared_medium(channel) for name, channel in self.channels.items()}


# Plugin objects registered in-process (tests, the demo) on top of entry points.
registered: list[object] = []


def new_plugin_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager("dunning")
    pm.add_hookspecs(hookspecs)
    return pm


def load_plugins(config: Config, extra: Sequence[object] = ()) -> Plugins:
    """Load built-ins and entry points (as limited by the environment), then ``extra``.

    A plugin that registers channels takes part only when at least one of
    them is enabled; plugins without channels (rules, mirrors) take part
    unless listed in ``[plugins] disabled``.
    """
    pm = new_plugin_manager()
    sources: dict[str, tuple[str, str | None]] = {}
    pm.register(builtin, name="dunning.builtin")
    sources["dunning.builtin"] = ("built-in", None)
    if "dunning.compliance" not in config.disabled_plugins:
        pm.register(compliance_rules, name="dunning.compliance")
        sources["dunning.compliance"] = ("built-in", None)
    for ep in _entry_points():
        if ep.name in config.disabled_plugins:
            continue
        plugin = ep.load()
        if pm.is_registered(plugin):
            continue
        pm.register(plugin, name=ep.name)
        sources[ep.name] = ("entry point", ep.dist.version if ep.dist else None)
    for index, plugin in enumerate([*registered, *extra]):
        name = getattr(plugin, "plugin_name", None) or getattr(plugin, "__name__", None) or f"{type(plugin).__name__}-{index}"
        if name in config.disabled_plugins:
            continue
        pm.register(plugin, name=name)
        sources[name] = ("registered", None)
    pm.check_pending()

    owners: dict[str, str] = {}
    channels: dict[str, Channel] = {}
    for plugin_name, plugin in list(pm.list_name_plugin()):
        impl = getattr(plugin, "register_channels", None)
        if impl is None:
            continue
        for channel in _collect_channels(impl):
            if channel.name in channels:
                raise ConfigError(
                    f"channel '{channel.name}' is registered by both {owners[channel.name]} and {plugin_name}"
                )
            channels[channel.name] = channel
            owners[channel.name] = plugin_name

    for name in config.enabled_channels:
        if name not in channels:
            where = f"{config.path}: " if config.path else ""
            raise ConfigError(
                f"{where}'channels.enabled' lists '{name}', but no installed plugin provides it "
                f"(available: {', '.join(sorted(channels)) or 'none'})"
            )
    for name in config.channel_settings:
        if name not in channels and name not in STANDARD_CHANNELS:
            where = f"{config.path}: " if config.path else ""
            raise ConfigError(f"{where}unknown key 'channels.{name}': no installed plugin provides a channel '{name}'")
    for name in config.enabled_channels:
        check = getattr(channels[name], "check_settings", None)
        if check is not None:
            try:
                check(config.settings_for(name))
            except ValueError as exc:
                where = f"{config.path}: " if config.path else ""
                raise ConfigError(f"{where}channels.{name}: {exc}") from None

    for name in config.enabled_channels:
        if declared_medium(channels[name]) is None:
            # Not an error: the channel still runs, under the strictest window and the "other" caps.
            log.warning(f"channel '{name}' declares no medium ({', '.join(MEDIA)}); it gets the strictest "
                        "contact window and the caps for 'other'", channel=name,
                        declared=getattr(channels[name], "medium", None))

    info: list[PluginInfo] = []
    for plugin_name, plugin in list(pm.list_name_plugin()):
        own = tuple(sorted(c for c, owner in owners.items() if owner == plugin_name))
        enabled = not own or any(c in config.enabled_channels for c in own)
        hooks = tuple(sorted(h.name for h in (pm.get_hookcallers(plugin) or [])))
        source, version = sources.get(plugin_name, ("registered", None))
        info.append(PluginInfo(plugin_name, version, hooks, own, enabled, source))
        if not enabled:
            pm.unregister(plugin)

    migrations: dict[str, list[tuple[str, Callable[[sqlite_utils.Database], None]]]] = {}
    for plugin_name, plugin in pm.list_name_plugin():
        impl = getattr(plugin, "register_migrations", None)
        if impl is None:
            continue
        steps: list[tuple[str, Callable[[sqlite_utils.Database], None]]] = []
        impl(register=lambda name, fn, _steps=steps: _steps.append((name, fn)))
        if steps:
            migrations[plugin_name] = steps
    return Plugins(pm=pm, channels=channels, enabled=config.enabled_channels, info=tuple(info), migrations=migrations)


def _collect_channels(impl: Callable[..., None]) -> list[Channel]:
    found: list[Channel] = []

    def register(channel: Channel) -> None:
        if not isinstance(getattr(channel, "name", None), str) or not callable(getattr(channel, "send", None)):
            raise TypeError(f"{channel!r} is not a channel: it needs a 'name' and a 'send' method")
        found.append(channel)

    impl(register=register)
    return found


def _entry_points() -> Iterable[importlib.metadata.EntryPoint]:
    wanted = os.environ.get(LOAD_ENV)
    names = None if wanted is None else {n.strip() for n in wanted.split(",") if n.strip()}
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if names is not None and ep.name not in names:
            continue
        yield ep
