"""A real SMTP server on the loopback interface, for tests and the benchmark.

``LoopbackSMTP`` runs aiosmtpd on 127.0.0.1 on a free port and keeps what it
receives: each message's envelope (sender, recipients), its bytes and the
connection it came over. It can also be told to answer like a troubled
server: refuse a recipient or a message with a given reply, or close the
connection after some messages.

    with LoopbackSMTP() as server:
        ... send to server.host, server.port ...
        [message] = server.messages
        message.rcpt_tos, message.parsed()["Subject"], server.connections

A plugin author's test of a channel that sends email can use it the same way.
"""

from __future__ import annotations

import asyncio
import email
import email.message
import email.policy
import ssl
import threading
import warnings
from collections.abc import Callable
from typing import Any, cast

import attrs
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


@attrs.frozen
class Received:
    """One message as the server took it in."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    connection: int  # 1 for the first connection the server saw, 2 for the second, ...
    tls: bool
    login: str | None

    def parsed(self) -> email.message.EmailMessage:
        message = email.message_from_bytes(self.data, policy=email.policy.default)
        assert isinstance(message, email.message.EmailMessage)
        return message


class RecordingHandler:
    """aiosmtpd handler that stores messages and answers as scripted."""

    def __init__(self, *, keep_data: bool = True, implicit_tls: bool = False, pipelining: bool = False):
        self.keep_data = keep_data
        self.implicit_tls = implicit_tls
        self.pipelining = pipelining
        self.messages: list[Received] = []
        self.received = 0
        self.connections = 0
        self.quits = 0
        # address -> the reply RCPT TO gets, e.g. "550 5.1.1 no such user"
        self.rcpt_replies: dict[str, str] = {}
        # address -> the reply a message to it gets after DATA, e.g. "451 4.3.0 try later"
        self.data_replies: dict[str, str] = {}
        # Close each connection after this many messages (its reply is sent first).
        self.drop_after: int | None = None
        self._lock = threading.Lock()
        self._connection_of: dict[int, int] = {}
        self._count_on: dict[int, int] = {}

    def _connection(self, server: Any) -> int:
        with self._lock:
            number = self._connection_of.get(id(server))
            if number is None:
                self.connections += 1
                number = self._connection_of[id(server)] = self.connections
            return number

    async def handle_EHLO(self, server: Any, session: Any, envelope: Any, hostname: str,
                          responses: list[str]) -> list[str]:
        # One protocol object per TCP connection: EHLO again after STARTTLS is not a new one.
        self._connection(server)
        session.host_name = hostname
        if self.pipelining:
            # aiosmtpd reads commands line by line, so pipelined ones already work; it just does not say so.
            responses = [*responses[:-1], "250-PIPELINING", responses[-1]]
        return responses

    async def handle_QUIT(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            self.quits += 1
        return "221 Bye"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        refusal = self.rcpt_replies.get(address)
        if refusal is not None:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        for address in envelope.rcpt_tos:
            refusal = self.data_replies.get(address)
            if refusal is not None:
                return refusal
        connection = self._connection(server)
        data = envelope.original_content or envelope.content or b""
        with self._lock:
            self.received += 1
            if self.keep_data:
                self.messages.append(
                    Received(
                        mail_from=envelope.mail_from,
                        rcpt_tos=tuple(envelope.rcpt_tos),
                        data=data if isinstance(data, bytes) else data.encode("utf-8"),
                        connection=connection,
                        tls=self.implicit_tls or session.ssl is not None,
                        login=session.auth_data.login.decode() if session.auth_data else None,
                    )
                )
            on_this = self._count_on[id(server)] = self._count_on.get(id(server), 0) + 1
        if self.drop_after is not None and on_this >= self.drop_after:
            # Once the reply is written (before the next command can arrive), as an idle timeout would.
            asyncio.get_running_loop().call_soon(server.transport.close)
        return f"250 2.0.0 OK queued as {self.received}"


def _authenticator(username: str, password: str) -> Callable[..., AuthResult]:
    def check(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == username \
            and auth_data.password.decode() == password
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)
    return check


class _FreePortController(Controller):
    """aiosmtpd's Controller, but on port 0: it learns the port the system chose."""

    def _trigger_server(self) -> None:
        assert self.server is not None
        # The controller starts an asyncio.Server, which has the sockets an AbstractServer does not declare.
        self.port = cast(asyncio.Server, self.server).sockets[0].getsockname()[1]
        super()._trigger_server()

    def factory(self) -> SMTP:
        # With implicit TLS, AUTH needs auth_require_tls=False, about which aiosmtpd
        # warns without knowing the transport is encrypted.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
            return super().factory()


class LoopbackSMTP:
    """Start with ``with LoopbackSMTP(...) as server`` (or start()/stop()).

    ``starttls`` (an ``ssl.SSLContext`` with the server's certificate) offers
    and requires STARTTLS; ``implicit_tls`` speaks TLS from the first byte
    (port 465 style). ``login=(user, password)`` requires that login.
    ``pipelining`` offers PIPELINING (RFC 2920) in the EHLO reply.
    """

    def __init__(self, *, starttls: ssl.SSLContext | None = None, implicit_tls: ssl.SSLContext | None = None,
                 login: tuple[str, str] | None = None, keep_data: bool = True, pipelining: bool = False):
        self.handler = RecordingHandler(keep_data=keep_data, implicit_tls=implicit_tls is not None,
                                        pipelining=pipelining)
        kwargs: dict[str, Any] = {"hostname": "127.0.0.1", "port": 0, "server_hostname": "loopback.test",
                                  "ready_timeout": 10.0}
        if starttls is not None:
            kwargs |= {"tls_context": starttls, "require_starttls": True}
        if implicit_tls is not None:
            kwargs["ssl_context"] = implicit_tls
        if login is not None:
            # aiosmtpd's auth_require_tls looks for STARTTLS only; with implicit TLS
            # the whole connection is encrypted already.
            kwargs |= {"authenticator": _authenticator(*login), "auth_required": True,
                       "auth_require_tls": starttls is not None}
        self._controller = _FreePortController(self.handler, **kwargs)
        self._running = False

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def port(self) -> int:
        return int(self._controller.port)

    def settings_toml(self, sender: str = "Acme Credit Control <credit@acme.example>", **extra: str) -> str:
        """A ``[channels.email]`` table pointing the email channel at this server, for a test's dunning.toml."""
        lines = [f'host = "{self.host}"', f"port = {self.port}", 'security = "none"', f'sender = "{sender}"',
                 *(f'{key} = "{value}"' for key, value in extra.items())]
        return "\n[channels.email]\n" + "\n".join(lines) + "\n"

    @property
    def messages(self) -> list[Received]:
        return list(self.handler.messages)

    @property
    def connections(self) -> int:
        return self.handler.connections

    def start(self) -> LoopbackSMTP:
        self._controller.start()
        self._running = True
        return self

    def stop(self) -> None:
        """Stop listening; safe to call twice (a test may stop the server to see the channel cope)."""
        if self._running:
            self._running = False
            self._controller.stop()

    def __enter__(self) -> LoopbackSMTP:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
