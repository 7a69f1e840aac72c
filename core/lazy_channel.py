"""A channel registered by name, its module imported only when the channel is used.

Every command loads the plugins and calls ``register_channels``, enabled or
not, to know which channel names exist: a reading command (``cases show``)
needs the names and the media, never a channel's code. A plugin registers
``LazyChannel("email", "dunning.plugins.email.channel:EmailChannel",
medium="email")`` and the module (with ``email.headerregistry``, ``socket``
and the rest) is imported the first time the channel is looked up: to check
its settings when it is enabled, to send, to render. A plugin may still
register a channel object; both live in a ``ChannelTable``.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from dunning.channels import Channel


@attrs.frozen
class LazyChannel:
    """A channel's name, its declared medium, and where its factory lives ("module:attribute").

    The factory is called with no arguments (a class, usually). ``medium``
    must be the one the channel itself declares: the contact rules read it
    without building the channel (a test keeps the built-in plugins' in step).
    """

    name: str
    target: str
    medium: str | None = None

    def build(self) -> Channel:
        module, _, attribute = self.target.partition(":")
        factory: Any = getattr(importlib.import_module(module), attribute)
        channel = factory()
        if getattr(channel, "name", None) != self.name or not callable(getattr(channel, "send", None)):
            raise TypeError(f"{self.target} did not make a channel called '{self.name}' with a 'send' method")
        return channel  # type: ignore[no-any-return]


class ChannelTable(Mapping[str, "Channel"]):
    """Every registered channel by name; a ``LazyChannel`` is built on its first lookup and kept."""

    def __init__(self, entries: Mapping[str, Channel | LazyChannel] | None = None) -> None:
        self._entries: dict[str, Channel | LazyChannel] = dict(entries or {})

    def add(self, channel: Channel | LazyChannel) -> None:
        self._entries[channel.name] = channel

    def __getitem__(self, name: str) -> Channel:
        entry = self._entries[name]
        if isinstance(entry, LazyChannel):
            built = entry.build()
            self._entries[name] = built
            return built
        return entry

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def unbuilt(self, name: str) -> Channel | LazyChannel:
        """The entry as registered (or as built by now), without building it: for its name and medium."""
        return self._entries[name]

    def __repr__(self) -> str:
        return f"ChannelTable({sorted(self._entries)!r})"
