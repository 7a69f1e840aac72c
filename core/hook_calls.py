"""Calling a hook through pluggy one plugin at a time, so one plugin's failure never stops another's.

pluggy stops a hook call at the first implementation that raises. The core
wants every plugin heard, and the one that failed named, so it calls each
implementation through ``pm.subset_hook_caller`` with the other
implementations left out. Wrappers (``wrapper=True`` or old-style
``hookwrapper=True``) stay in every subset: a wrapper wraps each plugin's
call and sees that call's result or exception. ``specname`` and ordering
(``tryfirst``/``trylast``) work as pluggy documents them, because pluggy
does the calling.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import attrs
import pluggy


@attrs.frozen
class Answer:
    """One plugin's answer to a hook call: its results, or the exception it raised."""

    plugin: str
    results: tuple[Any, ...] = ()
    error: BaseException | None = None


class HookCalls:
    """Per-plugin calls of the hooks of one plugin manager (subset callers cached)."""

    def __init__(self, pm: pluggy.PluginManager):
        self.pm = pm
        self._callers: dict[tuple[str, str], Any] = {}

    def implementers(self, hook: str) -> list[str]:
        """The plugins with a plain (non-wrapper) implementation of ``hook``, in the order pluggy calls them."""
        names: list[str] = []
        for impl in reversed(getattr(self.pm.hook, hook).get_hookimpls()):
            if not (impl.wrapper or impl.hookwrapper) and impl.plugin_name not in names:
                names.append(impl.plugin_name)
        return names

    def caller(self, hook: str, plugin: str) -> Any:
        """A HookCaller for ``hook`` that calls ``plugin``'s implementations and every wrapper."""
        key = (hook, plugin)
        found = self._callers.get(key)
        if found is None:
            others = [self.pm.get_plugin(name) for name in self.implementers(hook) if name != plugin]
            found = self._callers[key] = self.pm.subset_hook_caller(hook, [p for p in others if p is not None])
        return found

    def call_one(self, hook: str, plugin: str, kwargs: Mapping[str, Any]) -> Answer:
        try:
            results = self.caller(hook, plugin)(**kwargs)
        except Exception as exc:  # the plugin (or a wrapper around it) failed: the caller names it
            return Answer(plugin, error=exc)
        return Answer(plugin, tuple(results) if isinstance(results, list) else (results,))

    def call_each(self, hook: str, **kwargs: Any) -> Iterator[Answer]:
        """Call ``hook`` once per implementing plugin, in pluggy's order; each answer names its plugin.

        With no plain implementation the hook is still called once, so
        wrappers run (around nothing) as they would under ``pm.hook``.
        """
        plugins = self.implementers(hook)
        if not plugins:
            try:
                getattr(self.pm.hook, hook)(**kwargs)
            except Exception as exc:
                impls = getattr(self.pm.hook, hook).get_hookimpls()
                yield Answer(impls[-1].plugin_name if impls else "?", error=exc)
            return
        for plugin in plugins:
            yield self.call_one(hook, plugin, kwargs)

    def forget(self) -> None:
        """Drop cached callers (after plugins were registered or unregistered)."""
        self._callers.clear()
