"""Every hook a plugin can implement, grouped by the phase it belongs to.

Each docstring says whether the results are collected (every plugin's
answer is used) or whether the first answer wins. Every hook is called
through pluggy, so ``specname``, ``tryfirst``/``trylast`` and wrappers
(``wrapper=True``, or the older ``hookwrapper=True``) work as pluggy
documents them. Collected hooks are called one plugin at a time (a subset
of the implementations, see ``dunning.hook_calls``) so that one plugin's
exception never keeps the others from being heard: a wrapper therefore
wraps each plugin's call, and sees that call's result or exception. ``docs/plugins.md`` has a
section and an example for each; ``tests/core/test_hooks.py`` holds a
``test_hook_<name>`` for each.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import click
import pluggy

if TYPE_CHECKING:
    import sqlite_utils

    from dunning.channels import Channel, RuleContext, StageContext
    from dunning.lazy_channel import LazyChannel
    from dunning.models import Action, Case, Event, Stage
    from dunning.portal.providers import PaymentProvider
    from dunning.priority import CaseFacts
    from dunning.verdicts import Verdict
    from dunning.work_lists import WorkList

hookspec = pluggy.HookspecMarker("dunning")


# --- start-up: what plugins add -------------------------------------------


@hookspec
def register_channels(register: Callable[[Channel | LazyChannel], None]) -> None:
    """Add channels by calling ``register(channel)`` once for each.

    Every command calls this hook, enabled or not: register
    ``dunning.LazyChannel(name, "module:Factory", medium=...)`` for a channel
    whose module is heavy, and it is imported only when the channel is used
    (its settings checked when it is enabled, an action sent).

    Collected: every plugin may register any number of channels. A channel
    takes part only if its name is listed in ``[channels] enabled``. A
    plugin whose implementation raises is named in a warning and left out.
    """


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add commands or command groups to the ``dunning`` CLI.

    Collected. Called when the plugins load for a command line (the first
    lookup of a command that is not built in, or ``dunning --help``), never
    on import; ``DUNNING_LOAD_PLUGINS`` and ``[plugins] disabled`` apply. Use
    ``@cli.command()`` or ``cli.add_command(...)``, and ``dunning.LazyCommand``
    for a command whose module is heavy (every command, ``--help`` included,
    calls this hook); commands receive the same
    global options through ``click.pass_obj``. A plugin whose implementation
    raises is named and the others' commands stay; a built-in's name is refused.
    Evidence a command learns goes in with ``dunning.record_event``.
    """


@hookspec
def check_settings(settings: Mapping[str, Any]) -> None:
    """Check this plugin's own settings, its ``[plugins.<name>]`` table in ``dunning.toml``.

    Called once per plugin at start-up, with the plugin's own table (an
    empty mapping when there is none), before anything runs. Raise
    ``ValueError`` naming the key (``"unknown key 'url'"``, ``"'url' must
    be a string"``); the core adds ``<file>: plugins.<name>:`` and the
    command stops with exit code 1. A plugin that needs its settings later
    (a mirror's URL) keeps what it was given. A table for a plugin that
    has no ``check_settings`` is refused, naming its first key.
    """


@hookspec
def register_migrations(register: Callable[[str, Callable[[sqlite_utils.Database], None]], None]) -> None:
    """Declare the tables a plugin keeps, as named migration steps.

    Collected. Call ``register(name, fn)`` for each step in order; ``fn(db)``
    receives a ``sqlite_utils.Database`` and runs once per database, inside
    a transaction, recorded under the plugin's own migration set. Name
    tables with the plugin's prefix (``agency_placements``). A step that
    raises is rolled back; the plugin is then left out (named with the step
    in a warning) and actions on its channels wait, while the rest runs.
    """


@hookspec
def register_payment_providers(register: Callable[[PaymentProvider], None]) -> None:
    """Add ways for a debtor to pay from their page, by calling ``register(provider)`` once for each.

    Collected. A provider (``dunning.portal.providers.PaymentProvider``) has
    a ``name``, ``start(request) -> URL`` (where to send the debtor to pay
    ``request.amount`` on ``request.case_id``) and ``confirmation(body,
    headers)``, which checks the signature of the webhook the provider posts
    back and reads it, or raises ``BadConfirmation``. The core records a
    confirmed payment through the ledger once per provider payment id, however
    often the webhook is posted. A plugin whose implementation raises, or that
    registers a name another plugin has, is named in a warning and left out.
    """


@hookspec
def register_work_lists(register: Callable[[WorkList], None]) -> None:
    """Give the browser console a channel's work, by calling ``register(work_list)`` once for each channel.

    Collected. A work list (a subclass of ``dunning.work_lists.WorkList``)
    names its ``channel`` and is asked only while that channel is enabled:
    ``items(ctx, today, collector)`` is the day's list on "My day",
    ``works_case(ctx, case_id, collector)`` opens a case to a collector,
    ``script(ctx, case, today)`` is shown on the case page, and
    ``outcomes`` with ``record_outcome(ctx, case_id, form)`` make the
    case page's form to record what came of the work (writing through
    ``dunning.operations``, whose refusal is shown beside the field). A
    plugin whose implementation raises, or that registers something else or
    a channel another plugin has, is named in a warning and left out.
    """


# --- planning and delivery: rules -----------------------------------------


@hookspec
def check_action(action: Action, case: Case, now: dt.datetime, ctx: RuleContext) -> Verdict | None:
    """Judge an action just before it is delivered.

    Collected: return a ``Verdict`` (allow, defer until a time, skip this
    occurrence, block with a reason, or needs approval) or ``None`` to
    abstain. The strongest answer wins: block, then skip, then needs
    approval, then defer (latest time), then allow. Every verdict other
    than allow is recorded as an event naming the rule. An implementation
    that raises or returns anything else is named, and the action is
    deferred under the rule ``plugin_error``; the other plugins still count.
    ``ctx.store`` reads what the case alone does not carry (contacts,
    holds, earlier attempts); take ``ctx`` only if the rule needs it.
    """


@hookspec
def escalation_check(case: Case, from_stage: Stage, to_stage: Stage, ctx: RuleContext) -> Verdict | None:
    """Judge a stage change before it happens (limitation period, minimum balance).

    Collected, like ``check_action``: block vetoes the change, needs approval
    sends it to the approval queue, defer postpones it, skip drops this
    planned change. ``ctx`` is the same read-only view ``check_action``
    receives; a raise or a wrong return is a ``plugin_error`` naming the plugin.
    """


# --- after the fact: reactions ------------------------------------------


@hookspec
def stage_entered(case: Case, from_stage: Stage, to_stage: Stage, ctx: StageContext) -> None:
    """Act on a case entering a stage (place it with an agency, open a matter).

    Collected. Runs inside the stage change's transaction, so what the
    plugin writes through ``ctx.db`` and ``ctx.record_event`` commits or
    rolls back with it. An exception is recorded as a ``plugin_error``
    event; the stage change still happens.
    """


@hookspec
def record_event(event: Event) -> None:
    """Observe every evidence event after it has been committed.

    Collected. For mirrors (a CRM, metrics). The event is final: it already
    carries its sequence number and hash. Every event at least once, in
    order: each mirror has a cursor in the database (the last seq it took
    without raising); one that raises is logged, not called again in this
    command, and handed what it missed at the start of the next run
    (``dunning plugins`` shows how far behind it is). A wrapper wraps each
    mirror's call.
    After each run a mirror also gets the run's signed checkpoint as an event
    of kind ``checkpoint`` (not part of the chain; ``data`` holds the
    signature): keeping it lets ``dunning verify --against`` catch a log that
    was cut short or rewritten.
    """


@hookspec(firstresult=True)
def case_priority(case: Case, facts: CaseFacts | None) -> float | None:
    """A score ordering work queues (call list, visit list): higher is worked first.

    First result wins; the built-in fallback is ``trylast``, so any plugin
    returning a number overrides it. ``facts`` (first-instalment default,
    promise due today, partial payer, lost contact) is given where a queue
    has worked them out, else None.
    """
