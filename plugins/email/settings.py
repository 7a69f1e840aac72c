"""The ``[channels.email]`` table, checked key by key into a frozen object.

Every error names the key (the core adds ``channels.email:`` in front), so a
typo in ``dunning.toml`` stops the command before anything is sent.
"""

from __future__ import annotations

import os
import re
import string
import urllib.parse
from collections.abc import Callable, Mapping
from email.headerregistry import Address
from email.utils import formataddr, parseaddr
from typing import Any

import attrs

from dunning.schema import Invalid, must, one_of, structure

SECURITY_MODES = ("starttls", "tls", "none")
DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}
DEFAULT_TIMEOUT_SECONDS = 30.0
DEFAULT_DEFER_MINUTES = 10
# What a pay link may refer to; each value is URL-quoted before it is put in.
# {overdue} and {reference} let a pay page offer what is overdue and carry the payment reference.
PAY_LINK_FIELDS = ("case_id", "debtor_id", "key", "balance", "overdue", "reference", "currency")

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_HOST = re.compile(r"^[A-Za-z0-9.:\[\]_-]+$")


@attrs.frozen
class EmailSettings:
    host: str
    port: int
    security: str
    sender_name: str
    sender_address: str
    username: str | None = None
    # Kept out of repr: settings objects end up in tracebacks and logs.
    password: str | None = attrs.field(default=None, repr=False)
    password_env: str | None = None
    reply_to: str | None = None
    bcc: tuple[str, ...] = ()
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    pay_link: str | None = None
    signature: str | None = None
    unsubscribe: str = ""
    ca_file: str | None = None
    helo_name: str | None = None
    defer_minutes: int = DEFAULT_DEFER_MINUTES
    html: bool = True

    @property
    def sender(self) -> str:
        """The From header: ``Name <address>``, or the bare address."""
        return formataddr((self.sender_name, self.sender_address)) if self.sender_name else self.sender_address

    @property
    def domain(self) -> str:
        return self.sender_address.rpartition("@")[2]

    def login_password(self) -> str | None:
        """The password to log in with, read from the environment now if ``password_env`` names it.

        Raises ValueError naming the variable when it is not set, so the
        delivery fails with a message an administrator can act on.
        """
        if self.username is None:
            return None
        if self.password_env is not None:
            value = os.environ.get(self.password_env)
            if not value:
                raise ValueError(f"the environment variable {self.password_env} (named by 'password_env') is not set")
            return value
        return self.password


def _one_line(_instance: Any, attribute: attrs.Attribute[Any], value: str | None) -> None:
    if value is None:
        return
    if not value.strip():
        raise Invalid(f"{{key}} must be a non-empty string, got {value!r}", attribute.name)
    if "\n" in value or "\r" in value:
        raise Invalid("{key} must be one line", attribute.name)


def _is_mailbox(text: str) -> bool:
    """An address, optionally as ``Name <address>``."""
    _, address = parseaddr(text)
    return _is_address(address) and not ("<" in text and not text.rstrip().endswith(">"))


def _addresses_ok(_instance: Any, attribute: attrs.Attribute[Any], value: str | list[str] | None) -> None:
    if value is None:
        return
    if isinstance(value, list) and not value:
        raise Invalid(f"{{key}} must be an address or a list of addresses, got {value!r}", attribute.name)
    items = [value] if isinstance(value, str) else value
    for i, item in enumerate(items):
        if not _is_address(item.strip()):
            key: tuple[str | int, ...] = (attribute.name,) if isinstance(value, str) else (attribute.name, i)
            raise Invalid(f"{{key}} must be an email address, got {item!r}", key)


def _by(check: Callable[[str], None]) -> Callable[[Any, attrs.Attribute[Any], str | None], None]:
    """A validator from a check that raises ValueError with its own message (naming its key)."""

    def validate(_instance: Any, _attribute: attrs.Attribute[Any], value: str | None) -> None:
        if value is not None:
            try:
                check(value)
            except ValueError as exc:
                raise Invalid(str(exc), literal=True) from None

    return validate


TEXT = {"expects": "a non-empty string"}
MISSING = "missing {key}"
HOST = must("a host name or an IP address", lambda host: bool(_HOST.match(host.strip())))
MAILBOX = must('an email address, optionally as "Name <address>"', _is_mailbox)


@attrs.frozen(kw_only=True)
class EmailTable:
    """``[channels.email]`` as written; ``parse_settings`` makes it an ``EmailSettings``."""

    host: str = attrs.field(validator=[_one_line, HOST], metadata={"required": MISSING})
    security: str = attrs.field(default="starttls", validator=one_of(SECURITY_MODES))
    # None: the usual port for ``security``.
    port: int | None = attrs.field(default=None, validator=must("a whole number from 1 to 65535",
                                                                lambda port: 0 < port < 65536))
    sender: str = attrs.field(validator=[_one_line, MAILBOX], metadata={"required": MISSING})
    reply_to: str | None = attrs.field(default=None, validator=[_one_line, MAILBOX])
    bcc: str | list[str] | None = attrs.field(default=None, validator=_addresses_ok, metadata={
        "expects": "an address or a list of addresses"})
    username: str | None = attrs.field(default=None, validator=_one_line, metadata=TEXT)
    password: str | None = attrs.field(default=None, validator=_one_line, metadata=TEXT)
    password_env: str | None = attrs.field(default=None, validator=[_one_line, must(
        "the name of an environment variable", lambda name: bool(_ENV_NAME.match(name.strip())))])
    timeout_seconds: float = attrs.field(default=DEFAULT_TIMEOUT_SECONDS, validator=must(
        "a number of seconds above 0 and at most 600", lambda seconds: 0 < seconds <= 600))
    defer_minutes: int = attrs.field(default=DEFAULT_DEFER_MINUTES, validator=must(
        "a whole number of minutes from 1 to 1440", lambda minutes: 0 < minutes <= 24 * 60))
    html: bool = True
    pay_link: str | None = attrs.field(default=None, validator=[_one_line, _by(lambda link: check_pay_link(link))],
                                       metadata=TEXT)
    unsubscribe: str | None = attrs.field(default=None, validator=[_one_line, _by(lambda to: check_unsubscribe(to))],
                                          metadata=TEXT)
    ca_file: str | None = attrs.field(default=None, validator=_one_line, metadata=TEXT)
    helo_name: str | None = attrs.field(default=None, validator=[_one_line, must(
        "a host name", lambda name: bool(_HOST.match(name.strip())))])
    signature: str | None = attrs.field(default=None, validator=must("non-empty text", lambda text: bool(text.strip()),
                                                                     fails="must be non-empty text"))

    def __attrs_post_init__(self) -> None:
        if self.username is None and (self.password is not None or self.password_env is not None):
            raise Invalid("'password' and 'password_env' need 'username'")
        if self.username is not None:
            if self.password is not None and self.password_env is not None:
                raise Invalid("give 'password' or 'password_env', not both")
            if self.password is None and self.password_env is None:
                raise Invalid("'username' needs 'password' or 'password_env'")
            if self.security == "none":
                # smtplib would send the password in clear text over the network.
                raise Invalid("'username' needs 'security' = \"starttls\" or \"tls\": "
                              "a password is never sent unencrypted")
        if self.ca_file is not None and self.security == "none":
            raise Invalid("'ca_file' is used only with 'security' = \"starttls\" or \"tls\"")


def parse_settings(raw: Mapping[str, Any]) -> EmailSettings:
    """Check every key of ``[channels.email]``; raise ValueError naming the first bad one."""
    given = structure(raw, EmailTable)
    sender_name, sender_address = parseaddr(given.sender.strip())
    reply_to = parseaddr(given.reply_to.strip())[1] if given.reply_to is not None else None
    bcc = given.bcc if given.bcc is not None else []
    return EmailSettings(
        host=given.host.strip(), port=given.port or DEFAULT_PORTS[given.security], security=given.security,
        sender_name=sender_name, sender_address=sender_address,
        username=_strip(given.username), password=given.password, password_env=_strip(given.password_env),
        reply_to=reply_to, bcc=tuple(a.strip() for a in ([bcc] if isinstance(bcc, str) else bcc)),
        timeout_seconds=float(given.timeout_seconds), pay_link=_strip(given.pay_link),
        signature=given.signature.strip() if given.signature else None,
        unsubscribe=_strip(given.unsubscribe) or "mailto:" + (reply_to or sender_address) + "?subject=unsubscribe",
        ca_file=_strip(given.ca_file), helo_name=_strip(given.helo_name), defer_minutes=given.defer_minutes,
        html=given.html,
    )


def _strip(text: str | None) -> str | None:
    return text.strip() if text is not None else None


def check_pay_link(template: str) -> None:
    """A pay link is an http(s) URL whose ``{fields}`` are among PAY_LINK_FIELDS."""
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    except ValueError as exc:
        raise ValueError(f"'pay_link' is not a valid format string: {exc}") from None
    for name in fields:
        if name not in PAY_LINK_FIELDS:
            raise ValueError(
                f"'pay_link' refers to {{{name}}}; it may use {', '.join('{' + f + '}' for f in PAY_LINK_FIELDS)}"
            )
    if urllib.parse.urlsplit(template).scheme not in ("http", "https"):
        raise ValueError("'pay_link' must start with https:// or http://")


def check_unsubscribe(target: str) -> None:
    scheme = urllib.parse.urlsplit(target).scheme
    if scheme == "mailto":
        address = urllib.parse.unquote(target[len("mailto:"):].partition("?")[0])
        if not _is_address(address):
            raise ValueError(f"'unsubscribe' is a mailto: without a valid address: {target!r}")
    elif scheme not in ("http", "https"):
        raise ValueError(f"'unsubscribe' must be a mailto: or an https:// URL, got {target!r}")
    if not target.isascii() or any(c in target for c in "<> \r\n"):
        raise ValueError("'unsubscribe' must be ASCII, without spaces, line breaks or angle brackets "
                         "(percent-encode anything else)")


def _is_address(address: str) -> bool:
    local, at, domain = address.rpartition("@")
    if not at or not local or "." not in domain or domain.startswith(".") or domain.endswith("."):
        return False
    if any(c.isspace() or c in '<>(),;:"[]\\' for c in address):
        return False
    try:
        Address(addr_spec=address)
    except (ValueError, IndexError):
        return False
    return True
