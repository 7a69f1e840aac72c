"""The ``[channels.email]`` table, checked key by key into a frozen object.

Every error names the key (the core adds ``channels.email:`` in front), so a
typo in ``dunning.toml`` stops the command before anything is sent.
"""

from __future__ import annotations

import os
import re
import string
import urllib.parse
from collections.abc import Mapping
from email.headerregistry import Address
from email.utils import formataddr, parseaddr
from typing import Any

import attrs

SECURITY_MODES = ("starttls", "tls", "none")
DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}
DEFAULT_TIMEOUT_SECONDS = 30.0
DEFAULT_DEFER_MINUTES = 10
# What a pay link may refer to; each value is URL-quoted before it is put in.
# {overdue} and {reference} let a pay page offer what is overdue and carry the payment reference.
PAY_LINK_FIELDS = ("case_id", "debtor_id", "key", "balance", "overdue", "reference", "currency")

ALLOWED = frozenset({
    "host", "port", "security", "username", "password", "password_env", "sender", "reply_to", "bcc",
    "timeout_seconds", "pay_link", "signature", "unsubscribe", "ca_file", "helo_name", "defer_minutes", "html",
})

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


def parse_settings(raw: Mapping[str, Any]) -> EmailSettings:
    """Check every key of ``[channels.email]``; raise ValueError naming the first bad one."""
    for key in sorted(raw):
        if key not in ALLOWED:
            raise ValueError(f"unknown key {key!r} (allowed: {', '.join(sorted(ALLOWED))})")

    host = _text(raw, "host", required=True)
    assert host is not None
    if not _HOST.match(host):
        raise ValueError(f"'host' must be a host name or an IP address, got {host!r}")
    security = _text(raw, "security") or "starttls"
    if security not in SECURITY_MODES:
        raise ValueError(f"'security' must be one of {', '.join(SECURITY_MODES)}, got {security!r}")
    port = raw.get("port", DEFAULT_PORTS[security])
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise ValueError(f"'port' must be a whole number from 1 to 65535, got {port!r}")

    sender_name, sender_address = _mailbox(raw, "sender", required=True)
    reply_to = _address(raw, "reply_to")
    bcc = _addresses(raw, "bcc")

    username = _text(raw, "username")
    password = _text(raw, "password", strip=False)
    password_env = _text(raw, "password_env")
    if username is None and (password is not None or password_env is not None):
        raise ValueError("'password' and 'password_env' need 'username'")
    if username is not None:
        if password is not None and password_env is not None:
            raise ValueError("give 'password' or 'password_env', not both")
        if password is None and password_env is None:
            raise ValueError("'username' needs 'password' or 'password_env'")
    if password_env is not None and not _ENV_NAME.match(password_env):
        raise ValueError(f"'password_env' must be the name of an environment variable, got {password_env!r}")
    if username is not None and security == "none":
        # smtplib would send the password in clear text over the network.
        raise ValueError("'username' needs 'security' = \"starttls\" or \"tls\": a password is never sent unencrypted")

    timeout = raw.get("timeout_seconds", DEFAULT_TIMEOUT_SECONDS)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= 600:
        raise ValueError(f"'timeout_seconds' must be a number of seconds above 0 and at most 600, got {timeout!r}")
    defer = raw.get("defer_minutes", DEFAULT_DEFER_MINUTES)
    if isinstance(defer, bool) or not isinstance(defer, int) or not 0 < defer <= 24 * 60:
        raise ValueError(f"'defer_minutes' must be a whole number of minutes from 1 to 1440, got {defer!r}")
    html = raw.get("html", True)
    if not isinstance(html, bool):
        raise ValueError(f"'html' must be true or false, got {html!r}")

    pay_link = _text(raw, "pay_link")
    if pay_link is not None:
        check_pay_link(pay_link)
    unsubscribe = _text(raw, "unsubscribe")
    if unsubscribe is not None:
        check_unsubscribe(unsubscribe)
    else:
        unsubscribe = "mailto:" + (reply_to or sender_address) + "?subject=unsubscribe"
    ca_file = _text(raw, "ca_file")
    if ca_file is not None and security == "none":
        raise ValueError("'ca_file' is used only with 'security' = \"starttls\" or \"tls\"")
    helo_name = _text(raw, "helo_name")
    if helo_name is not None and not _HOST.match(helo_name):
        raise ValueError(f"'helo_name' must be a host name, got {helo_name!r}")
    signature = raw.get("signature")
    if signature is not None and (not isinstance(signature, str) or not signature.strip()):
        raise ValueError("'signature' must be non-empty text")

    return EmailSettings(
        host=host, port=port, security=security, sender_name=sender_name, sender_address=sender_address,
        username=username, password=password, password_env=password_env, reply_to=reply_to, bcc=bcc,
        timeout_seconds=float(timeout), pay_link=pay_link, signature=signature.strip() if signature else None,
        unsubscribe=unsubscribe, ca_file=ca_file, helo_name=helo_name, defer_minutes=defer, html=html,
    )


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


def _text(raw: Mapping[str, Any], key: str, *, required: bool = False, strip: bool = True) -> str | None:
    if key not in raw:
        if required:
            raise ValueError(f"missing {key!r}")
        return None
    value = raw[key]
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{key!r} must be a non-empty string, got {value!r}")
    if "\n" in value or "\r" in value:
        raise ValueError(f"{key!r} must be one line")
    return value.strip() if strip else value


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


def _mailbox(raw: Mapping[str, Any], key: str, *, required: bool = False) -> tuple[str, str]:
    text = _text(raw, key, required=required)
    assert text is not None
    name, address = parseaddr(text)
    if not _is_address(address) or ("<" in text and not text.rstrip().endswith(">")):
        raise ValueError(f"{key!r} must be an email address, optionally as \"Name <address>\", got {text!r}")
    return name, address


def _address(raw: Mapping[str, Any], key: str) -> str | None:
    if key not in raw:
        return None
    _, address = _mailbox(raw, key, required=True)
    return address


def _addresses(raw: Mapping[str, Any], key: str) -> tuple[str, ...]:
    if key not in raw:
        return ()
    value = raw[key]
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise ValueError(f"{key!r} must be an address or a list of addresses, got {value!r}")
    found = []
    for i, item in enumerate(items):
        where = key if isinstance(value, str) else f"{key}[{i}]"
        if not isinstance(item, str) or not _is_address(item.strip()):
            raise ValueError(f"{where!r} must be an email address, got {item!r}")
        found.append(item.strip())
    return tuple(found)
