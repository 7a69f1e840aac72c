"""One SMTP connection, opened on first use and reused for a run's messages.

The envelope is sent command by command (MAIL, RCPT for each recipient,
DATA) rather than through ``smtplib.SMTP.sendmail``, so that each refusal is
known with its stage, code and text: a refused debtor address must fail the
message before DATA, while a refused collections copy (Bcc) must not.

The message itself is built while the server works on the envelope: the
envelope goes out first, then ``build()`` renders and composes the message,
then the replies are read. When the server offers PIPELINING (RFC 2920), as
most do, MAIL and all the RCPTs go out in one write; the message then costs
three round trips instead of five, and the rendering hides in the first.
If ``build()`` raises (a template error), the envelope is reset and the
connection stays usable.

A connection that drops between messages (the server's idle timeout, a
reset) is re-opened once and the message sent again. An error while opening
the connection is remembered for the rest of the run, so a mail server that
is down costs one timeout per run, not one per message.
"""

from __future__ import annotations

import contextlib
import smtplib
import socket
import ssl
from collections.abc import Callable, Sequence

import attrs

from dunning.plugins.email.settings import EmailSettings

# How a connection dies under us: the server closed it, or the network did.
DROPPED = (smtplib.SMTPServerDisconnected, ConnectionError, ssl.SSLEOFError)


@attrs.frozen
class Reply:
    """What became of one message, in SMTP terms."""

    outcome: str  # "sent", "deferred" or "failed"
    text: str  # the server's reply ("250 2.0.0 queued as ...") or what went wrong
    stage: str  # where it ended: connect, EHLO, starttls, login, MAIL, RCPT, DATA
    code: int | None = None
    # A failure that sending again cannot fix (the server does not know the address).
    permanent: bool = False
    bcc_refused: tuple[str, ...] = ()
    reconnected: bool = False

    @classmethod
    def from_code(cls, stage: str, code: int, message: bytes | str) -> Reply:
        text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
        text = f"{code} {' '.join(text.split())}".strip()
        if 200 <= code < 400:
            return cls("sent", text, stage, code)
        if 400 <= code < 500:
            return cls("deferred", text, stage, code)
        # 5xx at RCPT, or an enhanced 5.1.x status anywhere, is about the address itself.
        words = text.split(" ")
        enhanced = words[1] if len(words) > 1 else ""
        permanent = 500 <= code < 600 and (stage == "RCPT" or enhanced.startswith("5.1."))
        return cls("failed", text, stage, code, permanent=permanent)


class SmtpSession:
    """A lazily opened, reused SMTP connection for one run."""

    def __init__(self, settings: EmailSettings, *, password: str | None = None):
        self.settings = settings
        self.password = password
        self.connections_opened = 0
        self._conn: smtplib.SMTP | None = None
        self._broken: Reply | None = None

    # --- the connection --------------------------------------------------------------

    def _tls_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.settings.ca_file)

    def _open(self) -> Reply | None:
        """Connect, secure and log in; a Reply when that fails, else None."""
        s = self.settings
        stage = "connect"
        conn: smtplib.SMTP | None = None
        local_name = s.helo_name or _local_name()
        try:
            if s.security == "tls":
                conn = smtplib.SMTP_SSL(s.host, s.port, local_hostname=local_name, timeout=s.timeout_seconds,
                                        context=self._tls_context())
            else:
                conn = smtplib.SMTP(s.host, s.port, local_hostname=local_name, timeout=s.timeout_seconds)
            stage = "EHLO"
            conn.ehlo()
            if s.security == "starttls":
                stage = "starttls"
                if not conn.has_extn("starttls"):
                    _close(conn)
                    return Reply("failed", f"{s.host}:{s.port} does not offer STARTTLS "
                                 "(set 'security' to match the server)", stage)
                code, message = conn.starttls(context=self._tls_context())
                if code != 220:
                    _close(conn)
                    return Reply.from_code(stage, code, message)
                conn.ehlo()
            if s.username is not None:
                stage = "login"
                conn.login(s.username, self.password or "")
        except smtplib.SMTPAuthenticationError as exc:
            _close(conn)
            reply = Reply.from_code("login", exc.smtp_code, exc.smtp_error)
            # A refused login is the configuration's fault, not the message's: retried, never permanent.
            return attrs.evolve(reply, text=f"login as {s.username!r} refused: {reply.text}", permanent=False)
        except smtplib.SMTPConnectError as exc:
            _close(conn)
            return Reply.from_code("connect", exc.smtp_code, exc.smtp_error)
        except smtplib.SMTPResponseException as exc:
            _close(conn)
            return attrs.evolve(Reply.from_code(stage, exc.smtp_code, exc.smtp_error), permanent=False)
        except ssl.SSLError as exc:
            _close(conn)
            return Reply("failed", f"TLS with {s.host}:{s.port} failed: {exc}", stage)
        except (OSError, smtplib.SMTPException) as exc:
            _close(conn)
            return Reply("failed", f"cannot reach {s.host}:{s.port} ({stage}): {_describe(exc)}", stage)
        self._conn = conn
        self.connections_opened += 1
        return None

    def close(self) -> None:
        """Say QUIT and close; safe to call at any time, twice, or with nothing open."""
        conn, self._conn = self._conn, None
        self._broken = None
        if conn is None:
            return
        try:
            conn.quit()
        except (OSError, smtplib.SMTPException):
            pass
        finally:
            _close(conn)

    def _discard(self) -> None:
        conn, self._conn = self._conn, None
        _close(conn)

    # --- one message -----------------------------------------------------------------

    def send(self, sender: str, recipient: str, bcc: Sequence[str], build: Callable[[], bytes], *,
             smtputf8: bool = False) -> Reply:
        """Send the message ``build()`` returns to ``recipient``, with copies to ``bcc``.

        ``build`` is called at most once, after the envelope has gone out;
        what it raises is raised here, after the envelope has been reset.
        """
        if self._broken is not None:
            return self._broken
        built: list[bytes] = []

        def data() -> bytes:  # the same bytes if the message has to be sent again
            if not built:
                built.append(build())
            return built[0]

        reconnected = False
        for attempt in (1, 2):
            if self._conn is None:
                refused = self._open()
                if refused is not None:
                    self._broken = refused
                    return refused
            assert self._conn is not None
            try:
                reply = self._transact(self._conn, sender, recipient, bcc, data, smtputf8)
            except DROPPED as exc:
                self._discard()
                if attempt == 2:
                    return Reply("failed", f"the connection to {self.settings.host}:{self.settings.port} "
                                 f"dropped twice: {_describe(exc)}", "DATA", reconnected=True)
                reconnected = True
                continue
            except (OSError, smtplib.SMTPException) as exc:
                # A timeout or a garbled reply leaves the connection in an unknown state.
                self._discard()
                return Reply("failed", f"{self.settings.host}:{self.settings.port}: {_describe(exc)}", "DATA",
                             reconnected=reconnected)
            return attrs.evolve(reply, reconnected=True) if reconnected else reply
        raise AssertionError("unreachable")

    def _transact(self, conn: smtplib.SMTP, sender: str, recipient: str, bcc: Sequence[str],
                  data: Callable[[], bytes], smtputf8: bool) -> Reply:
        options = ""
        if smtputf8:
            if not conn.has_extn("smtputf8"):
                return Reply("failed", "an address needs SMTPUTF8, which the server does not offer", "MAIL",
                             permanent=True)
            options = " SMTPUTF8"
        conn.command_encoding = "utf-8" if smtputf8 else "ascii"
        recipients = [recipient, *bcc]
        pipelined = conn.has_extn("pipelining")
        mail = f"MAIL FROM:{smtplib.quoteaddr(sender)}{options}\r\n"
        if pipelined:
            conn.send(mail + "".join(f"RCPT TO:{smtplib.quoteaddr(r)}\r\n" for r in recipients))
        else:
            conn.send(mail)
        try:
            message = data()  # rendered while the server reads the envelope
        except BaseException:
            self._abandon(conn, 1 + len(recipients) if pipelined else 1)
            raise
        code, text = conn.getreply()
        if code != 250:
            if pipelined:
                for _ in recipients:
                    conn.getreply()
            return self._refused(conn, "MAIL", code, text)
        if pipelined:
            answers = [conn.getreply() for _ in recipients]
        else:
            answers = []
            for address in recipients:
                answers.append(conn.rcpt(address))
                if len(answers) == 1 and answers[0][0] not in (250, 251):
                    break  # the debtor is refused: no need to ask about the copies
        if answers[0][0] not in (250, 251):
            return self._refused(conn, "RCPT", *answers[0])
        refused_copies = tuple(f"{copy}: {Reply.from_code('RCPT', code, text).text}"
                               for copy, (code, text) in zip(bcc, answers[1:], strict=False) if code not in (250, 251))
        try:
            code, text = conn.data(message)
        except smtplib.SMTPDataError as exc:  # the DATA command itself was refused
            return self._refused(conn, "DATA", exc.smtp_code, exc.smtp_error)
        if code != 250:
            return self._refused(conn, "DATA", code, text)
        return attrs.evolve(Reply.from_code("DATA", code, text), bcc_refused=refused_copies)

    def _abandon(self, conn: smtplib.SMTP, outstanding: int) -> None:
        """Read the replies still owed for the envelope and reset it; hang up if that fails."""
        try:
            for _ in range(outstanding):
                conn.getreply()
            conn.rset()
        except (OSError, smtplib.SMTPException):
            self._discard()

    def _refused(self, conn: smtplib.SMTP, stage: str, code: int, message: bytes | str) -> Reply:
        reply = Reply.from_code(stage, code, message)
        if code == 421:
            # "Service not available, closing transmission channel": the server is gone.
            self._discard()
            return reply
        try:
            conn.rset()  # ready for the next message on the same connection
        except (OSError, smtplib.SMTPException):
            self._discard()
        return reply


def _close(conn: smtplib.SMTP | None) -> None:
    if conn is not None:
        with contextlib.suppress(OSError):
            conn.close()


def _local_name() -> str:
    # smtplib's default, socket.getfqdn(), asks DNS and can stall on a host without it.
    return socket.gethostname() or "localhost"


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
