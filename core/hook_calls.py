"""Calling a hook through pluggy one plugin at a time, so one plugin's failure never stops another's.

pluggy stops a hook call at the first implementation that raises. The core
wants every plugin heard, and the one that failed named, so it calls each
implementation through ``pm.subset_hook_caller`` with the other
implementations left out. Wrappers (``wrapper=True`` or old-style
``hookwrapper=True``) stay in every subset: a wrapper wraps each plugin's
call and sees that call's result or exception. ``specname`` and ordering
(``tryfirst``/``trylast``) work as pluggy documents them, because pluggy
does the calling.

A hook with no wrapper at all (``check_action`` in most setups) is asked
once per action for every action delivered: for it each plugin's functions
are called directly, in the order and with the arguments pluggy would use
(``_direct``), which spares the subset caller's call machinery. Whenever
that could differ from pluggy (a wrapper, ``firstresult``, a historic hook,
defaults in the spec, keyword-only arguments, pluggy's call tracing), pluggy
calls it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import attrs
import pluggy

# What a plugin manager calls hooks with while no tracing (``add_hookcall_monitoring``) wraps it; None with
# another pluggy, where every hook goes through pluggy.
_PLAIN_CALL: Any
try:
    from pluggy._callers import _multicall as _PLAIN_CALL
except ImportError:
    _PLAIN_CALL = None

# A plugin's implementations of a hook, called directly: (function, the names of the arguments it takes).
_Direct = tuple[tuple[str, tuple[tuple[Any, tuple[str, ...]], ...]], ...]


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
        # By hook: the implementations it was worked out from, and the direct calls (None: pluggy calls).
        self._direct: dict[str, tuple[list[Any], _Direct | None]] = {}

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
        direct = self._direct_calls(hook)
        if direct is not None:
            yield from _call_directly(direct, kwargs)
            return
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
        self._direct.clear()

    def _direct_calls(self, hook: str) -> _Direct | None:
        """Each plugin's functions for ``hook``, in pluggy's order, when calling them directly is what pluggy does."""
        if _PLAIN_CALL is None or getattr(self.pm, "_inner_hookexec", None) is not _PLAIN_CALL:
            return None  # pluggy's call tracing is on: pluggy calls, so the tracer sees every call
        caller = getattr(self.pm.hook, hook)
        impls = caller.get_hookimpls()
        known = self._direct.get(hook)
        if known is not None and known[0] == impls:  # the same implementations (HookImpl compares by identity)
            return known[1]
        direct = _direct_of(caller, impls)
        self._direct[hook] = (impls, direct)
        return direct


def _direct_of(caller: Any, impls: list[Any]) -> _Direct | None:
    """The direct calls of a hook with these implementations, or None where only pluggy's call is the same."""
    spec = caller.spec
    if (not impls or spec is None or caller.is_historic() or spec.opts.get("firstresult")
            or getattr(spec, "kwargdefaults", None)):
        return None
    by_plugin: dict[str, list[tuple[Any, tuple[str, ...]]]] = {}
    for impl in reversed(impls):  # pluggy calls the last registered (and tryfirst) first
        if impl.wrapper or impl.hookwrapper or getattr(impl, "kwargnames", None):
            return None
        by_plugin.setdefault(impl.plugin_name, []).append((impl.function, tuple(impl.argnames)))
    return tuple((plugin, tuple(functions)) for plugin, functions in by_plugin.items())


def _call_directly(direct: _Direct, kwargs: Mapping[str, Any]) -> Iterator[Answer]:
    """Each plugin's answer as pluggy's call of that plugin alone gives it: its results but None, or its error."""
    for plugin, functions in direct:
        results: list[Any] = []
        try:
            for function, names in functions:
                try:
                    args = [kwargs[name] for name in names]
                except KeyError as exc:
                    raise pluggy.HookCallError(f"hook call must provide argument {exc.args[0]!r}") from exc
                result = function(*args)
                if result is not None:
                    results.append(result)
        except Exception as exc:  # the plugin failed: the caller names it
            yield Answer(plugin, error=exc)
            continue
        yield Answer(plugin, tuple(results))
