"""The channel API: what a plugin implements and what the core hands it."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import attrs

from dunning.event_kinds import plugin_kind
from dunning.models import Action, ActionKind, Case, Contact, Debtor, Event, Obligation
# The channel names the core knows, in a module of their own: loading the plugins reads them without this one.
from dunning.standard_channels import STANDARD_CHANNELS as STANDARD_CHANNELS
from dunning.store_view import StoreView, plugin_transaction, read_only, underlying

if TYPE_CHECKING:
    import contextlib

    import sqlite_utils
    import structlog

    from dunning.config import Config


class DeliveryStatus(enum.StrEnum):
    SENT = "sent"
    FAILED = "failed"
    DEFERRED = "deferred"


@attrs.frozen
class Delivery:
    """What a channel says happened to one action. Build with the class methods."""

    status: DeliveryStatus
    reference: str | None = None
    error: str | None = None
    until: dt.datetime | None = None
    # False for failures a retry cannot fix (a rejected address, bad settings).
    retry: bool = True
    # Extra facts for the evidence event: a Message-ID, a file's SHA-256, ...
    data: Mapping[str, Any] = attrs.field(factory=dict)

    @classmethod
    def sent(cls, reference: str, **data: Any) -> Delivery:
        return cls(DeliveryStatus.SENT, reference=reference, data=data)

    @classmethod
    def failed(cls, error: str, *, retry: bool = True, **data: Any) -> Delivery:
        """A failure; retried with backoff unless ``retry=False``."""
        return cls(DeliveryStatus.FAILED, error=error, retry=retry, data=data)

    @classmethod
    def deferred(cls, until: dt.datetime, reason: str = "", **data: Any) -> Delivery:
        if until.tzinfo is None:
            raise ValueError("deferred needs an aware datetime")
        return cls(DeliveryStatus.DEFERRED, until=until, error=reason or None, data=data)


@runtime_checkable
class Channel(Protocol):
    """A way of reaching a debtor, registered through ``register_channels``.

    ``name`` is what the policy and ``[channels] enabled`` refer to;
    ``medium`` says what kind of contact it makes: ``"call"``, ``"text"``,
    ``"email"``, ``"letter"``, ``"visit"`` or ``"other"``. The contact rules
    (windows, caps, opt-outs, holds) bind by medium, so a ``whatsapp``
    channel with ``medium = "text"`` is held to the text rules with no
    configuration; one that declares none gets the strictest window and the
    caps for ``other``, and a warning at start-up.
    ``needs`` lists the contact kinds it can use (``"email"``, ``"mobile"``,
    ``"postal"``, ...); ``send`` delivers one action and must not raise for
    expected failures: return ``Delivery.failed`` or ``Delivery.deferred``.
    ``ctx.key`` is the idempotency key: hand it to the provider so a re-send
    after a crash is recognised there. ``ctx.record_event(kind, data)``
    keeps what the provider said (``whatsapp:delivered``) in the evidence,
    with the outcome.

    A channel may also have ``check_settings(settings)``, called at start-up
    with its ``[channels.<name>]`` table when it is enabled; it raises
    ``ValueError`` naming the key (the core adds the ``channels.<name>:``
    prefix), so bad settings stop the command before anything is sent.

    ``in_doubt`` (optional, "resend" by default) says what the next run does
    with an action this channel had in hand when a run stopped: "resend" it
    under the same key, for providers that recognise the key, or "hold" it
    for a person (``dunning in-doubt``), for those that cannot (SMTP).

    ``deduplicates_by_key`` (optional, False by default) says that the
    provider drops a second message carrying the same ``ctx.key`` (an SMS
    gateway's Idempotency-Key, a task list or a file stored under the key).
    Such a channel's actions are delivered a round at a time: their attempts
    counted in one transaction, sent, and their outcomes recorded in one
    transaction, so a crash may leave the whole round to be sent again, and
    the provider drops the copies. A channel without it (SMTP) is delivered
    one action at a time, each outcome recorded as it comes: a crash leaves
    at most the one message in flight. Only a channel whose ``in_doubt`` is
    "resend" is delivered a round at a time.

    And it may have ``finish_run(ctx: RunContext)``, called once when a
    run's delivery ends (also after an error), for work done per run rather
    than per action: closing a reused SMTP connection, writing the day's
    print batch. It must be safe to call when nothing was sent, and what it
    writes must be redone by the next run if the process dies before it.

    And it may have ``notify_staff(notice: StaffNotice, ctx: RunContext) ->
    Delivery`` to carry the policy's notices to the staff in ``[notify]``
    (``dunning.staff.StaffNotice``: the role, the address, a subject and a
    plain text). The first enabled channel that has it carries them, email
    first; the email channel sends them through its SMTP server.
    """

    name: str

    # Read-only, so a channel may keep its kinds in a tuple or a list.
    @property
    def needs(self) -> Sequence[str]: ...

    def send(self, action: Action, case: Case, ctx: DeliveryContext) -> Delivery: ...


@attrs.frozen
class DeliveryContext:
    """Everything a channel may use to deliver one action."""

    now: dt.datetime
    key: str
    debtor: Debtor
    contacts: Sequence[Contact]
    obligations: Sequence[Obligation]
    dpd: int | None
    settings: Mapping[str, Any]
    config: Config
    db: sqlite_utils.Database
    log: structlog.typing.FilteringBoundLogger
    template_context: Mapping[str, Any]
    _render: Callable[..., str]
    # Whom the step addresses: "debtor" (their own contacts), "attorney" (when
    # the debtor is represented) or "contacts" (spouse, relatives, employer, ...).
    audience: str = "debtor"
    # One id per run, shared by all of the run's deliveries (print batches).
    run_id: str = ""
    # Contact values the debtor asked not to be reached at through this channel.
    opted_out: frozenset[str] = frozenset()
    # The open store, read-only, for what the context does not carry (payments,
    # promises, earlier events). A channel writes its own tables through ``db``.
    store: StoreView | None = attrs.field(default=None, converter=read_only)
    _record: Callable[[str, Mapping[str, Any]], None] | None = None

    def transaction(self) -> contextlib.AbstractContextManager[None]:
        """A write transaction for the channel's own tables in ``db``; joins the core's when one is open."""
        return plugin_transaction(self.store, self.db)

    def record_event(self, kind: str, data: Mapping[str, Any] | None = None, **fields: Any) -> None:
        """Add ``<channel>:<kind>`` (``whatsapp:delivered``) to the case's evidence.

        Recorded with the action's outcome, in the same transaction and the
        same hash chain, just before the core's own event for it.
        """
        if self._record is None:
            raise RuntimeError("this context records no events")
        self._record(kind, {**dict(data or {}), **fields})

    def render(self, template: str, suffix: str = "txt", **extra: Any) -> str:
        """Render ``<template>.<suffix>`` (the debtor's locale first) with the case's context."""
        return self._render(template, suffix, {**self.template_context, **extra})

    def contacts_of(self, *kinds: str) -> list[Contact]:
        """The usable contacts of these kinds for the step's audience, in the order given.

        For ``audience = "debtor"`` the debtor's own; for ``"contacts"`` the
        third parties. Numbers marked bad and values the debtor opted out of
        are left out.
        """
        return usable_contacts(self.contacts, kinds, self.audience, self.opted_out)


def usable_contacts(contacts: Sequence[Contact], kinds: Sequence[str], audience: str = "debtor",
                    opted_out: frozenset[str] = frozenset()) -> list[Contact]:
    """Contacts a channel may use: of these kinds, for this audience, not bad, not opted out.

    Audiences: ``debtor`` (their own contacts), ``attorney`` (the attorney
    representing them), ``contacts`` (every other third party).
    """
    return [
        c
        for kind in kinds
        for c in contacts
        if c.kind == kind and audience_of(c.role) == audience and not c.bad and c.value not in opted_out
    ]


def audience_of(role: str) -> str:
    """The audience a contact of this role belongs to: debtor, attorney or contacts (everyone else)."""
    return role if role in ("debtor", "attorney") else "contacts"


@attrs.frozen
class RunContext:
    """What ``finish_run`` receives: the run that is ending."""

    now: dt.datetime
    run_id: str
    settings: Mapping[str, Any]
    config: Config
    db: sqlite_utils.Database
    log: structlog.typing.FilteringBoundLogger
    # The open store, read-only (what the run sent, the cases it touched).
    store: StoreView | None = attrs.field(default=None, converter=read_only)
    _record: Callable[[str, Mapping[str, Any]], None] | None = None

    def transaction(self) -> contextlib.AbstractContextManager[None]:
        """A write transaction for the channel's own tables in ``db`` (and the operations below)."""
        return plugin_transaction(self.store, self.db)

    def queue_action(self, case: Case, *, key: str, kind: ActionKind, step: str, planned_for: dt.date,
                     options: Mapping[str, Any], event: str, data: Mapping[str, Any],
                     channel: str | None = None) -> bool:
        """Put an action in the outbox for the next run to carry out, once per ``key``; False if it was there.

        The case is woken for ``planned_for`` and ``event`` (with ``data``)
        goes into its evidence (under ``channel``), in one transaction with
        the action. ``event`` is the plugin's own kind, ``<plugin>:<what>``
        (``agency:recall_queued``); a bare or core kind raises ``EventKindError``.
        """
        plugin_kind(event)
        store = underlying(self.store)
        with store.transaction():
            added = store.add_action(key=key, case_id=case.id, kind=kind, step=step, planned_for=planned_for,
                                     not_before=self.now, now=self.now, options=options)
            if added:
                store.wake(case.id, planned_for)
                store.append_events([Event(kind=event, at=self.now, case_id=case.id, stage=case.stage.value,
                                           channel=channel, data=dict(data))])
        return added

    def record_event(self, kind: str, data: Mapping[str, Any] | None = None, **fields: Any) -> None:
        """Add ``<channel>:<kind>`` (``letter:batch_written``) to the evidence log, at once, in the same chain."""
        if self._record is None:
            raise RuntimeError("this context records no events")
        self._record(kind, {**dict(data or {}), **fields})


@attrs.frozen
class RuleContext:
    """What ``check_action`` and ``escalation_check`` may consult besides the case.

    ``store`` is the open store, for reading (holds, contacts, payments,
    events); a rule writes only through the verdict it returns.
    """

    now: dt.datetime
    config: Config
    store: StoreView = attrs.field(converter=read_only)
    # Each registered channel's medium as it declares it (None: declares none).
    media: Mapping[str, str | None] = attrs.field(factory=dict)
    # dunning's database, for reading the plugin's own tables.
    db: sqlite_utils.Database = attrs.field()

    @db.default
    def _db_of_store(self) -> Any:
        return underlying(self.store).db if self.store is not None else None


@attrs.frozen
class StageContext:
    """What ``stage_entered`` receives besides the case."""

    now: dt.datetime
    debtor: Debtor
    obligations: Sequence[Obligation]
    config: Config
    db: sqlite_utils.Database
    reason: str
    _record: Callable[[str, Mapping[str, Any]], None]
    # The open store, read-only (write only the plugin's own tables, through ``db``).
    store: StoreView | None = attrs.field(default=None, converter=read_only)

    def transaction(self) -> contextlib.AbstractContextManager[None]:
        """A write transaction for the plugin's own tables in ``db``; joins the stage change's."""
        return plugin_transaction(self.store, self.db)

    def record_event(self, kind: str, **data: Any) -> None:
        """Add ``<plugin>:<what>`` (``agency:placed``) to the case's evidence log, committed with the stage change.

        A kind without its namespace, or one of the core's own (``sent``,
        ``stage_changed``, ...), raises ``EventKindError``; the core then
        records the hook's failure as ``plugin_error``, naming the plugin.
        """
        self._record(plugin_kind(kind), data)
