"""The ``email`` channel: render the step's templates, send over SMTP, report what the server said."""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from dunning import StaffNotice
from dunning.channels import Delivery, DeliveryContext, RunContext
from dunning.models import Action, Case
from dunning.plugins.email.content import stated_deadline, template_extras
from dunning.plugins.email.message import Composed, compose, one_line
from dunning.plugins.email.settings import EmailSettings, parse_settings

if TYPE_CHECKING:
    from dunning.plugins.email.smtp_session import Reply, SmtpSession


class EmailChannel:
    """Sends each action as one email to the first usable address, over a connection reused for the run."""

    name = "email"
    medium = "email"
    # An SMTP server cannot recognise a re-sent message: an email a crash left in flight waits
    # for a person (`dunning in-doubt`) rather than risk reaching the debtor twice.
    in_doubt = "hold"
    deduplicates_by_key = False  # so each email's outcome is recorded as it comes: one in flight at most
    needs: tuple[str, ...] = ("email",)
    templates_module = "dunning.plugins.email"
    # What a step's template must have for this channel (checked by `dunning policy check`).
    template_suffixes = ("subject.txt", "txt")

    def __init__(self) -> None:
        # One session per run (the run id is the dispatcher's claim id), closed in finish_run.
        self._sessions: dict[str, SmtpSession] = {}
        self._lock = threading.Lock()
        self._parsed: tuple[dict[str, Any], EmailSettings] | None = None

    # --- settings --------------------------------------------------------------------

    def check_settings(self, settings: Mapping[str, Any]) -> None:
        parse_settings(settings)

    def _settings(self, raw: Mapping[str, Any]) -> EmailSettings:
        cached = self._parsed
        if cached is not None and cached[0] == raw:
            return cached[1]
        parsed = parse_settings(raw)
        self._parsed = (dict(raw), parsed)
        return parsed

    # --- sessions --------------------------------------------------------------------

    def _session(self, run_id: str, settings: EmailSettings) -> SmtpSession:
        with self._lock:
            session = self._sessions.get(run_id)
            if session is not None and session.settings == settings:
                return session
            if session is not None:
                session.close()
            from dunning.plugins.email.smtp_session import SmtpSession  # smtplib, when a run sends email

            session = SmtpSession(settings, password=settings.login_password())
            self._sessions[run_id] = session
            return session

    def finish_run(self, ctx: RunContext) -> None:
        """Close the run's connection (QUIT); nothing to do when the run sent no email."""
        with self._lock:
            session = self._sessions.pop(ctx.run_id, None)
        if session is not None:
            ctx.log.debug("closing the SMTP connection", connections=session.connections_opened)
            session.close()

    # --- one action ------------------------------------------------------------------

    def send(self, action: Action, case: Case, ctx: DeliveryContext) -> Delivery:
        try:
            settings = self._settings(ctx.settings)
        except ValueError as exc:
            return Delivery.failed(f"channels.email: {exc}")
        recipients = ctx.contacts_of("email")
        if not recipients:
            # The engine hands the step to its fallback before calling send; this
            # guards a direct call, which must never send to nobody.
            return Delivery.failed("no usable email address", retry=False)
        if not action.template:
            return Delivery.failed(f"step {action.step!r} names no template", retry=False)
        to = recipients[0]
        if not _ADDRESS.match(to.value):
            # Never let a stored value put its own line into the SMTP conversation.
            return Delivery.failed(f"{to.value!r} is not an email address", retry=False, to=to.value)
        to_name = to.name or ctx.debtor.name
        try:
            session = self._session(ctx.run_id, settings)
        except ValueError as exc:  # the password's environment variable is missing
            return Delivery.failed(f"channels.email: {exc}")
        built: list[tuple[Composed, dict[str, Any]]] = []

        def build() -> bytes:
            built.append(self._compose(action, case, ctx, settings, to.value, to_name))
            return built[0][0].data

        smtputf8 = not all(a.isascii() for a in (settings.sender_address, to.value, settings.reply_to or ""))
        try:
            reply = session.send(settings.sender_address, to.value, settings.bcc, build, smtputf8=smtputf8)
        except _EmptySubject as exc:
            return Delivery.failed(str(exc))
        if reply.reconnected:
            ctx.log.warning("the SMTP connection dropped; re-opened it and sent again", stage=reply.stage)
        facts: dict[str, Any] = {"to": to.value, "smtp_stage": reply.stage}
        if reply.code is not None:
            facts["smtp_code"] = reply.code
        if reply.reconnected:
            facts["reconnected"] = True
        if reply.outcome == "sent":
            composed, stated = built[0]
            return Delivery.sent(
                composed.message_id, message_id=composed.message_id, key=ctx.key, subject=composed.subject,
                bcc=list(settings.bcc), smtp_reply=reply.text, sha256=composed.sha256, **facts, **stated,
                **({"bcc_refused": list(reply.bcc_refused)} if reply.bcc_refused else {}),
            )
        if reply.outcome == "deferred":
            until = ctx.now + dt.timedelta(minutes=settings.defer_minutes)
            return Delivery.deferred(until, _reason(reply), **facts)
        return Delivery.failed(_reason(reply), retry=not reply.permanent, **facts)

    # --- notices to staff ---------------------------------------------------------------

    def notify_staff(self, notice: StaffNotice, ctx: RunContext) -> Delivery:
        """Email a notice to a member of staff (``[notify]``) through the same server and connection as the run.

        The message is plain text from the core's notice, from the channel's
        sender, with no collections copy (Bcc) and no unsubscribe link: it is
        internal mail, not a message to a debtor.
        """
        try:
            settings = self._settings(ctx.settings)
            session = self._session(ctx.run_id, settings)
        except ValueError as exc:
            return Delivery.failed(f"channels.email: {exc}")
        if not _ADDRESS.match(notice.to_address):
            return Delivery.failed(f"{notice.to_address!r} is not an email address", retry=False)
        built: list[Composed] = []

        def build() -> bytes:
            built.append(compose(
                sender_name=settings.sender_name, sender_address=settings.sender_address, reply_to=None,
                to_name=notice.to_name or None, to_address=notice.to_address, subject=notice.subject,
                text=notice.text, html=None, key=notice.key, unsubscribe="", now=ctx.now))
            return built[0].data

        smtputf8 = not all(a.isascii() for a in (settings.sender_address, notice.to_address))
        reply = session.send(settings.sender_address, notice.to_address, (), build, smtputf8=smtputf8)
        facts: dict[str, Any] = {"to_address": notice.to_address, "smtp_stage": reply.stage}
        if reply.code is not None:
            facts["smtp_code"] = reply.code
        if reply.outcome == "sent":
            composed = built[0]
            return Delivery.sent(composed.message_id, message_id=composed.message_id, subject=composed.subject,
                                 smtp_reply=reply.text, sha256=composed.sha256, **facts)
        if reply.outcome == "deferred":
            return Delivery.deferred(ctx.now + dt.timedelta(minutes=settings.defer_minutes), _reason(reply), **facts)
        return Delivery.failed(_reason(reply), retry=not reply.permanent, **facts)

    def _compose(self, action: Action, case: Case, ctx: DeliveryContext, settings: EmailSettings, to_address: str,
                 to_name: str) -> tuple[Composed, dict[str, Any]]:
        """Render the step's three templates and put the message together; with the deadline it states, if any."""
        assert action.template is not None
        promise_id = action.options.get("promise_id")
        extras = template_extras(case, ctx, settings, to_name, int(promise_id) if promise_id is not None else None)
        subject = one_line(ctx.render(action.template, "subject.txt", **extras))
        if not subject:
            raise _EmptySubject(f"the subject template of {action.template!r} rendered empty")
        text = ctx.render(action.template, "txt", subject=subject, **extras)
        html = ctx.render(action.template, "html", subject=subject, **extras) if settings.html else None
        composed = compose(
            sender_name=settings.sender_name, sender_address=settings.sender_address, reply_to=settings.reply_to,
            to_name=to_name, to_address=to_address, subject=subject, text=text, html=html, key=ctx.key,
            unsubscribe=settings.unsubscribe, now=ctx.now,
        )
        return composed, stated_deadline(ctx.template_context, (subject, text), extras.get("deadline_text"))


class _EmptySubject(ValueError):
    """A subject template that rendered to nothing: the message is not sent."""


# Enough to keep spaces, line breaks and brackets out of RCPT TO; the server judges the rest.
_ADDRESS = re.compile(r"^[^\s<>()\[\],;:\"\\@]+@[^\s<>()\[\],;:\"\\@]+\Z")


def _reason(reply: Reply) -> str:
    """The server's own words first (an auditor searches for them), then where they were said."""
    return f"{reply.text} (SMTP {reply.stage})"
