"""Build the plugin manager: specs, built-ins, entry points, the enabled set.

``DUNNING_LOAD_PLUGINS=a,b`` limits which entry points load (empty: none),
so tests never pick up whatever happens to be installed.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Iterable, Sequence
from typing import TYPE_CHECKING, cast

import attrs
import click
import pluggy

from dunning import builtin, hookspecs
from dunning.compliance.media import MEDIA, declared_medium
from dunning.hook_calls import HookCalls
from dunning.lazy_channel import ChannelTable, LazyChannel
from dunning.log import get_logger

if TYPE_CHECKING:
    import sqlite_utils

    from dunning.channels import Channel
    from dunning.config import Config
    from dunning.entry_points import EntryPoint
    from dunning.hook_types import Hooks

# Every command, `dunning --help` included, builds a plugin manager to find the plugins' commands: what this
# module imports at its top is paid by all of them. The channels' and the compliance rules' modules are
# imported where they are needed.

log = get_logger("dunning.plugins")

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
    # Why the plugin is left out (it failed to import, to register, or a migration failed).
    problem: str | None = None


@attrs.frozen
class Plugins:
    """The loaded plugin manager and what the plugins registered."""

    pm: pluggy.PluginManager
    # Every channel registered, enabled or not; a plugin's ``LazyChannel`` is built on its first lookup.
    channels: ChannelTable
    enabled: tuple[str, ...]
    info: tuple[PluginInfo, ...]
    migrations: dict[str, list[tuple[str, Callable[[sqlite_utils.Database], None]]]]
    # Which plugin registered each channel.
    owners: dict[str, str] = attrs.field(factory=dict)
    # Plugins left out, with the reason (named once in a warning).
    broken: dict[str, str] = attrs.field(factory=dict)
    # Calls hooks one plugin at a time (see ``dunning.hook_calls``).
    calls: HookCalls = attrs.field(default=attrs.Factory(lambda self: HookCalls(self.pm), takes_self=True), eq=False)

    @property
    def hook(self) -> Hooks:
        """The hooks, called as pluggy calls them; typed to the hookspecs (``dunning.hook_types``)."""
        return cast("Hooks", self.pm.hook)

    def known_channels(self) -> set[str]:
        from dunning.standard_channels import STANDARD_CHANNELS

        return set(STANDARD_CHANNELS) | set(self.channels)

    def channel(self, name: str) -> Channel | None:
        if self.owners.get(name) in self.broken:
            return None
        return self.channels.get(name) if name in self.enabled else None

    def broken_owner(self, channel: str) -> str | None:
        """The plugin behind ``channel`` when it was left out (a migration failed), else None."""
        owner = self.owners.get(channel)
        return owner if owner in self.broken else None

    def leave_out(self, plugin: str, problem: str) -> None:
        """Take a plugin out of every hook from now on (its migration failed, say); warns once."""
        if plugin not in self.broken:
            _drop(self.pm, self.calls, self.broken, plugin, problem)

    @property
    def media(self) -> dict[str, str | None]:
        """Each registered channel's declared medium (None: declares none, held to the strictest rules)."""
        return {name: declared_medium(self.channels.unbuilt(name)) for name in self.channels}


# Plugin objects registered in-process (tests, the demo) on top of entry points.
registered: list[object] = []

# Entry points that failed to import in this process: each is named once.
_failed_imports: dict[str, str] = {}


def new_plugin_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager("dunning")
    pm.add_hookspecs(hookspecs)
    return pm


@attrs.frozen
class _Registered:
    pm: pluggy.PluginManager
    sources: dict[str, tuple[str, str | None]]
    broken: dict[str, str]


def _register(disabled: Collection[str], extra: Sequence[object], versions: bool = False,
              built_ins: bool = True) -> _Registered:
    """Built-ins, entry points (as limited by the environment and ``disabled``, the config's
    ``[plugins] disabled``), then ``extra``.

    An entry point that fails to import is named once (a warning) and left out. ``versions``: read each
    entry point's version from its distribution's metadata (only ``dunning plugins`` shows them).
    ``built_ins``: the core's own hook implementations too (the fallbacks and the compliance rules, which add
    no command).
    """
    pm = new_plugin_manager()
    sources: dict[str, tuple[str, str | None]] = {}
    broken: dict[str, str] = {}
    if built_ins:
        pm.register(builtin, name="dunning.builtin")
        sources["dunning.builtin"] = ("built-in", None)
    if built_ins and "dunning.compliance" not in disabled:
        # The two hooks alone: the rules' module (caps, limitation, verdicts) loads when a rule is first asked.
        from dunning.compliance import rules_plugin

        pm.register(rules_plugin, name="dunning.compliance")
        sources["dunning.compliance"] = ("built-in", None)
    for ep in _entry_points():
        if ep.name in disabled:
            continue
        version = ep.version() if versions else None
        try:
            plugin = ep.load()
        except Exception as exc:  # a broken plugin must not take every command down with it
            problem = f"failed to import: {type(exc).__name__}: {exc}"
            if ep.name not in _failed_imports:
                log.warning(f"plugin {ep.name} {problem}; it is left out", plugin=ep.name)
            _failed_imports[ep.name] = problem
            broken[ep.name] = problem
            sources[ep.name] = ("entry point", version)
            continue
        if pm.is_registered(plugin):
            continue
        pm.register(plugin, name=ep.name)
        sources[ep.name] = ("entry point", version)
    for index, plugin in enumerate([*registered, *extra]):
        name = (
            getattr(plugin, "plugin_name", None)
            or getattr(plugin, "__name__", None)
            or f"{type(plugin).__name__}-{index}"
        )
        if name in disabled or pm.is_registered(plugin):
            continue
        pm.register(plugin, name=name)
        sources[name] = ("registered", None)
    pm.check_pending()
    return _Registered(pm, sources, broken)


def _drop(pm: pluggy.PluginManager, calls: HookCalls, broken: dict[str, str], plugin: str, problem: str) -> None:
    broken[plugin] = problem
    found = pm.get_plugin(plugin)
    if found is not None:
        pm.unregister(found)
    calls.forget()
    log.warning(f"plugin {plugin}: {problem}; it is left out", plugin=plugin)


def load_plugins(config: Config, extra: Sequence[object] = (), *, versions: bool = False) -> Plugins:
    """Load built-ins and entry points (as limited by the environment), then ``extra``.

    A plugin that registers channels takes part only when at least one of
    them is enabled; plugins without channels (rules, mirrors) take part
    unless listed in ``[plugins] disabled``. Every hook is called through
    pluggy, one plugin at a time (``HookCalls``): a plugin whose
    ``register_channels`` or ``register_migrations`` raises is named and
    left out, and the others load. ``versions``: fill in each entry point's
    version (a metadata lookup per plugin, for ``dunning plugins``).
    """
    from dunning.standard_channels import STANDARD_CHANNELS
    from dunning.config import ConfigError

    loaded = _register(config.disabled_plugins, extra, versions)
    pm, sources, broken = loaded.pm, loaded.sources, dict(loaded.broken)
    calls = HookCalls(pm)

    owners: dict[str, str] = {}
    channels = ChannelTable()
    for plugin_name in calls.implementers("register_channels"):
        found: list[Channel | LazyChannel] = []
        answer = calls.call_one("register_channels", plugin_name, {"register": _channel_collector(found)})
        if answer.error is not None:
            _drop(pm, calls, broken, plugin_name,
                  f"register_channels raised {type(answer.error).__name__}: {answer.error}")
            continue
        try:  # an enabled channel is built now: one that cannot be is named and its plugin left out, as above
            found = [c.build() if isinstance(c, LazyChannel) and c.name in config.enabled_channels else c
                     for c in found]
        except Exception as exc:
            _drop(pm, calls, broken, plugin_name, f"register_channels raised {type(exc).__name__}: {exc}")
            continue
        for channel in found:
            if channel.name in channels:
                raise ConfigError(
                    f"channel '{channel.name}' is registered by both {owners[channel.name]} and {plugin_name}"
                )
            channels.add(channel)
            owners[channel.name] = plugin_name

    for name in config.enabled_channels:
        if name not in channels:
            where = f"{config.path}: " if config.path else ""
            left_out = "; ".join(f"plugin {p} {why}" for p, why in broken.items())
            raise ConfigError(
                f"{where}'channels.enabled' lists '{name}', but no installed plugin provides it "
                f"(available: {', '.join(sorted(channels)) or 'none'})" + (f" ({left_out})" if left_out else "")
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
        if declared_medium(channels.unbuilt(name)) is None:
            # Not an error: the channel still runs, under the strictest window and the "other" caps.
            log.warning(f"channel '{name}' declares no medium ({', '.join(MEDIA)}); it gets the strictest "
                        "contact window and the caps for 'other'", channel=name,
                        declared=getattr(channels.unbuilt(name), "medium", None))

    info: list[PluginInfo] = []
    for plugin_name, plugin in list(pm.list_name_plugin()):
        own = tuple(sorted(c for c, owner in owners.items() if owner == plugin_name))
        enabled = not own or any(c in config.enabled_channels for c in own)
        hooks = tuple(sorted(h.name for h in (pm.get_hookcallers(plugin) or [])))
        source, version = sources.get(plugin_name, ("registered", None))
        info.append(PluginInfo(plugin_name, version, hooks, own, enabled, source))
        if not enabled:
            pm.unregister(plugin)
    calls.forget()
    for plugin_name, problem in broken.items():
        source, version = sources.get(plugin_name, ("registered", None))
        info.append(PluginInfo(plugin_name, version, (), (), False, source, problem))

    known = set(sources) | set(config.disabled_plugins)
    check_plugin_settings(config, calls, known if set(config.plugin_settings) <= known else known | _installed_names())

    migrations: dict[str, list[tuple[str, Callable[[sqlite_utils.Database], None]]]] = {}
    for plugin_name in calls.implementers("register_migrations"):
        steps: list[tuple[str, Callable[[sqlite_utils.Database], None]]] = []
        answer = calls.call_one("register_migrations", plugin_name,
                                {"register": lambda name, fn, _steps=steps: _steps.append((name, fn))})
        if answer.error is not None:
            _drop(pm, calls, broken, plugin_name,
                  f"register_migrations raised {type(answer.error).__name__}: {answer.error}")
            continue
        if steps:
            migrations[plugin_name] = steps
    return Plugins(pm=pm, channels=channels, enabled=config.enabled_channels, info=tuple(info), migrations=migrations,
                   owners=owners, broken=broken, calls=calls)


def check_plugin_settings(config: Config, calls: HookCalls, known: set[str]) -> None:
    """Each ``[plugins.<name>]`` table goes to its plugin's ``check_settings``; unknown names and keys are errors."""
    from dunning.config import ConfigError

    where = f"{config.path}: " if config.path else ""
    for name in config.plugin_settings:
        if name not in known:
            raise ConfigError(f"{where}unknown key 'plugins.{name}': no installed plugin is called '{name}'")
    checking = set(calls.implementers("check_settings"))
    for name, _plugin in calls.pm.list_name_plugin():
        table = dict(config.plugin_settings.get(name, {}))
        if name not in checking:
            if table:
                raise ConfigError(f"{where}unknown key 'plugins.{name}.{next(iter(table))}': "
                                  f"plugin {name} takes no settings")
            continue
        answer = calls.call_one("check_settings", name, {"settings": table})
        if isinstance(answer.error, ValueError):
            raise ConfigError(f"{where}plugins.{name}: {answer.error}") from None
        if answer.error is not None:
            raise ConfigError(f"{where}plugins.{name}: check_settings raised "
                              f"{type(answer.error).__name__}: {answer.error}") from None


def plugin_commands(disabled: Collection[str] = (), taken: Iterable[str] = (), extra: Sequence[object] = ()
                    ) -> dict[str, tuple[str, click.Command]]:
    """The commands plugins add (``register_commands``), by name, each with the plugin that added it.

    ``DUNNING_LOAD_PLUGINS`` and ``disabled`` (the config's ``[plugins] disabled``) apply; a plugin that
    fails to import or whose ``register_commands`` raises is named and left
    out; a command whose name is ``taken`` (a built-in) is refused with a warning.
    """
    loaded = _register(disabled, extra, built_ins=False)
    calls = HookCalls(loaded.pm)
    commands: dict[str, tuple[str, click.Command]] = {}
    for plugin_name in calls.implementers("register_commands"):
        scratch = click.Group(name="dunning")
        answer = calls.call_one("register_commands", plugin_name, {"cli": scratch})
        if answer.error is not None:
            log.warning(f"plugin {plugin_name} could not add its commands: {answer.error}", plugin=plugin_name)
            continue
        for name, command in scratch.commands.items():
            if name in taken or name in commands:
                log.warning(f"plugin {plugin_name}: a command '{name}' exists already; its own is left out",
                            plugin=plugin_name)
                continue
            commands[name] = (plugin_name, command)
    return commands


def _channel_collector(found: list[Channel | LazyChannel]) -> Callable[[Channel | LazyChannel], None]:
    def register(channel: Channel | LazyChannel) -> None:
        if isinstance(channel, LazyChannel):  # its factory is checked when it is built
            found.append(channel)
            return
        if not isinstance(getattr(channel, "name", None), str) or not callable(getattr(channel, "send", None)):
            raise TypeError(f"{channel!r} is not a channel: it needs a 'name' and a 'send' method")
        found.append(channel)

    return register


def _installed_names() -> set[str]:
    """Every installed plugin's entry-point name, whether or not the environment lets it load."""
    from dunning.entry_points import entry_points

    return {ep.name for ep in entry_points(ENTRY_POINT_GROUP)}


def _entry_points() -> Iterable[EntryPoint]:
    from dunning.entry_points import entry_points

    wanted = os.environ.get(LOAD_ENV)
    names = None if wanted is None else {n.strip() for n in wanted.split(",") if n.strip()}
    for ep in entry_points(ENTRY_POINT_GROUP):
        if names is not None and ep.name not in names:
            continue
        yield ep
