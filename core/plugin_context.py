"""What a plugin's command works with: the public face of one command's runtime.

A plugin's click command gets it from ``dunning.plugin_context()`` (or
``state.plugin_context()`` with the ``@click.pass_obj`` state) instead of
reaching into ``dunning.runtime``: the config and policy, the store as a
read-only ``StoreView``, ``db`` and ``transaction()`` for the plugin's own
tables, and the few writes to the core's tables a plugin makes (an evidence
event, a contact attempt). Payments, promises, holds and the like go through
``dunning.operations``, which take this context as they take the runtime.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sys
import types
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import click
import pluggy

from dunning import event_kinds
from dunning.store_view import ReadOnlyStore, StoreView

if TYPE_CHECKING:
    import sqlite_utils

    from dunning.checkpoints import Checkpoint
    from dunning.config import Config
    from dunning.hook_types import Hooks
    from dunning.models import Case, Event
    from dunning.policy import Policy
    from dunning.priority import CaseFacts
    from dunning.runtime import Runtime


class PluginContext:
    """One command's runtime as a plugin may use it."""

    def __init__(self, runtime: Runtime, now: dt.datetime | None = None):
        self._runtime = runtime
        # The command's moment (``--now`` or the clock) when the caller knows it.
        self.now = now
        self.store: StoreView = ReadOnlyStore(runtime.store)

    @property
    def config(self) -> Config:
        return self._runtime.config

    @property
    def policy(self) -> Policy:
        """The config's policy; where ``[[strategies]]`` are set a case runs under its strategy's: ``policy_for``."""
        return self._runtime.policy

    def policy_for(self, case: Case) -> Policy:
        """The policy ``case`` runs under: its strategy's (``[[strategies]]``), else the config's."""
        return self._runtime.policy_for(case)

    @property
    def db(self) -> sqlite_utils.Database:
        """dunning's database, for the plugin's own tables (write them inside ``transaction()``)."""
        return self._runtime.store.db

    @property
    def enabled(self) -> tuple[str, ...]:
        """The names of the enabled channels."""
        return self._runtime.plugins.enabled

    @property
    def channels(self) -> frozenset[str]:
        """The names of every registered channel, enabled or not."""
        return frozenset(self._runtime.plugins.channels)

    @property
    def hook(self) -> Hooks:
        """The plugin manager's hooks, called as pluggy calls them (one plugin that raises stops the call)."""
        return self._runtime.hook

    def case_priority(self, case: Case, facts: CaseFacts | None) -> float | None:
        """The ``case_priority`` score of ``case``; a plugin that raises or answers a non-number is named, skipped."""
        from dunning import priority_hook  # with the models: `dunning --help` imports this module, not them

        return priority_hook.case_priority(self._runtime.plugins.calls, case, facts)

    def today(self, now: dt.datetime) -> dt.date:
        """The business's date at ``now``, in the configured zone."""
        return self._runtime.today(now)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction for the plugin's tables, its events, attempts and operations; joins an open one."""
        with self._runtime.store.transaction():
            yield

    def append_event(self, kind: str, case: Case | None, now: dt.datetime, **fields: Any) -> Event:
        """Add ``kind`` to the evidence log, stamped with the case's stage and days past due; returns it as stored.

        ``kind`` is the plugin's own, ``<plugin>:<what>`` (``phone:call_logged``);
        one of the core's kinds (``sent``, ``payment``, ...) is refused with an
        ``EventKindError`` naming the plugin: those go through
        ``dunning.operations``. ``fields`` are the event's ``channel``,
        ``step``, ``action_id`` and ``data``. Inside ``transaction()`` it
        commits with the rest.
        """
        try:
            event_kinds.plugin_kind(kind)
        except event_kinds.EventKindError:
            event_kinds.plugin_kind(kind, calling_plugin(self._runtime.plugins.pm))  # the same error, naming it
        with self._runtime.store.transaction():
            return self._runtime.store.append_events([self._runtime.event(kind, case, now, **fields)])[0]

    def record_attempt(self, *, debtor_id: str, case_id: int | None, channel: str, at: dt.datetime, source: str,
                       key: str | None = None, contact: str | None = None, role: str = "debtor",
                       connected: bool | None = None, outcome: str | None = None) -> bool:
        """Count one contact attempt for the frequency caps; with a key, only once. False if it was counted."""
        return self._runtime.store.record_attempt(
            debtor_id=debtor_id, case_id=case_id, channel=channel, at=at, source=source, key=key, contact=contact,
            role=role, connected=connected, outcome=outcome)

    def update_attempt(self, key: str, *, contact: str | None = None, role: str | None = None,
                       connected: bool | None = None, outcome: str | None = None) -> bool:
        """Fill in what the attempt under ``key`` reached once it is known; False if there is none."""
        return self._runtime.store.update_attempt(key, contact=contact, role=role, connected=connected,
                                                  outcome=outcome)

    def render(self, channel: str, template: str, suffix: str, context: Mapping[str, Any]) -> str:
        """Render ``<template>.<suffix>`` as channel ``channel`` would (its templates, the administrator's first)."""
        return self._runtime.render(self._runtime.plugins.channels[channel], template, suffix, context)

    def checkpoint(self, now: dt.datetime) -> Checkpoint | None:
        """Sign the evidence chain's head when a key is configured and no checkpoint covers it yet."""
        return self._runtime.checkpoint(now)


def calling_plugin(pm: pluggy.PluginManager) -> str | None:
    """The registered plugin whose code is on the call stack, nearest first (None if none is)."""
    modules: dict[str, str] = {}
    for name, plugin in pm.list_name_plugin():
        module = plugin.__name__ if isinstance(plugin, types.ModuleType) else type(plugin).__module__
        modules.setdefault(module, name)
    frame = sys._getframe(1)
    while frame is not None:
        caller = str(frame.f_globals.get("__name__", ""))
        for module, name in modules.items():
            if caller == module or caller.startswith(f"{module}."):
                return name
        frame = frame.f_back  # type: ignore[assignment]
    return None


def runtime_of(rt: Any) -> Any:
    """The runtime behind ``rt``: a ``PluginContext``'s, or ``rt`` itself (the core passes its runtime)."""
    return rt._runtime if isinstance(rt, PluginContext) else rt


def plugin_context(now: dt.datetime | None = None) -> PluginContext:
    """The running command's ``PluginContext``, for a plugin's click command (``now``: the command's moment)."""
    return click.get_current_context().find_root().obj.plugin_context(now)  # type: ignore[no-any-return]
