"""Build the bytes of one email: headers, a text part and, usually, an HTML part.

The Message-ID and the MIME boundary are derived from the action's
idempotency key, so a message sent again after a crash carries the same
Message-ID and ``X-Dunning-Key`` as the first copy, and the receiving side
can tell it is a repeat.

The message is written directly rather than through ``email.message``:
the standard library's object model parses and re-folds every header and
cost several times more than rendering the three templates (see
bench/README.md). What is written is plain MIME, 7-bit only: ASCII parts as they
are (quoted-printable if a line is too long for SMTP), other parts as base64, headers outside ASCII as RFC 2047
encoded words; the tests parse every message back with ``email``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
from email.header import Header
from email.utils import format_datetime, formataddr

import attrs

CRLF = "\r\n"


@attrs.frozen
class Composed:
    data: bytes
    message_id: str
    subject: str
    smtputf8: bool
    sha256: str


def message_id_for(key: str, domain: str) -> str:
    """``<hash-of-key.dunning@domain>``: the same key always gives the same Message-ID."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    return f"<{digest}.dunning@{_ascii_domain(domain)}>"


def one_line(text: str) -> str:
    """A subject or a name as one line: a header must not carry the line breaks of a template."""
    return " ".join(text.split())


def compose(*, sender_name: str, sender_address: str, reply_to: str | None, to_name: str | None, to_address: str,
            subject: str, text: str, html: str | None, key: str, unsubscribe: str, now: dt.datetime) -> Composed:
    """The message as it goes on the wire (CRLF line ends), with its Message-ID and SHA-256."""
    # An address outside ASCII can only travel with SMTPUTF8; the message itself stays 7-bit.
    smtputf8 = not all(a.isascii() for a in (sender_address, to_address, reply_to or ""))
    message_id = message_id_for(key, sender_address.rpartition("@")[2])
    subject = one_line(subject)
    headers = [
        ("From", _mailbox(sender_name, sender_address)),
        ("To", _mailbox(to_name, to_address)),
        *([("Reply-To", reply_to)] if reply_to else []),
        ("Subject", _encoded("Subject", subject)),
        ("Date", format_datetime(now)),
        ("Message-ID", message_id),
        ("X-Dunning-Key", _encoded("X-Dunning-Key", key)),
        # Not on internal mail (notices to staff), which has nothing to unsubscribe from.
        *([("List-Unsubscribe", f"<{unsubscribe}>")] if unsubscribe else []),
        # RFC 3834: an automatic message; well-behaved servers send no vacation replies to it.
        ("Auto-Submitted", "auto-generated"),
        ("MIME-Version", "1.0"),
    ]
    if html is None:
        body = _part("plain", text)
    else:
        boundary = _boundary(key, now, text, html)
        headers.append(("Content-Type", f'multipart/alternative; boundary="{boundary}"'))
        body = (f"{CRLF}--{boundary}{CRLF}{_part('plain', text)}{CRLF}--{boundary}{CRLF}"
                f"{_part('html', html)}{CRLF}--{boundary}--{CRLF}")
    head = CRLF.join(f"{name}: {value}" for name, value in headers)
    data = f"{head}{CRLF}{body}".encode("utf-8" if smtputf8 else "ascii")
    return Composed(data=data, message_id=message_id, subject=subject, smtputf8=smtputf8,
                    sha256=hashlib.sha256(data).hexdigest())


def _boundary(key: str, now: dt.datetime, text: str, html: str) -> str:
    """A boundary the same for the same message (so its SHA-256 is too) that no part contains.

    "=_" cannot occur in quoted-printable or base64 text; a 7-bit part is
    checked, and in the rare case it holds the boundary, the next is tried.
    """
    seed = hashlib.sha256(f"{key}|{now.isoformat()}".encode()).hexdigest()
    for start in range(0, 40, 8):
        boundary = "=_dunning_" + seed[start:start + 24]
        if boundary not in text and boundary not in html:
            return boundary
    raise ValueError("the message holds every boundary this key allows")


def _part(subtype: str, content: str) -> str:
    """One text part, its headers and its encoded body (the Content-Type header closes the headers)."""
    raw = content.replace("\r\n", "\n").replace("\r", "\n")
    if not raw.endswith("\n"):
        raw += "\n"
    if raw.isascii() and "\0" not in raw and max(map(len, raw.split("\n"))) <= 998:
        # Plain ASCII in lines SMTP allows (RFC 5322 2.1.1): sent as written, readable in the evidence.
        encoding, charset, body = "7bit", "us-ascii", raw
    elif raw.isascii():
        encoding, charset = "quoted-printable", "us-ascii"
        body = binascii.b2a_qp(raw.encode("ascii"), istext=True).decode("ascii")
    else:
        encoding, charset = "base64", "utf-8"
        body = base64.encodebytes(raw.encode("utf-8")).decode("ascii")
    body = body.replace("\n", CRLF)
    return (f'Content-Type: text/{subtype}; charset="{charset}"{CRLF}'
            f"Content-Transfer-Encoding: {encoding}{CRLF}{CRLF}{body}")


def _encoded(name: str, value: str) -> str:
    """A header value folded to 78 columns, as RFC 2047 encoded words when it is not ASCII."""
    if value.isascii():
        if len(name) + 2 + len(value) <= 78 and "=?" not in value:
            return value  # nothing to fold or encode (the common case, and the cheap one)
        return Header(value, "us-ascii", header_name=name).encode(linesep=CRLF)
    return Header(value, "utf-8", header_name=name).encode(linesep=CRLF)


def _mailbox(name: str | None, address: str) -> str:
    shown = one_line(name or "")
    if address.isascii():
        return formataddr((shown, address), charset="utf-8")
    # formataddr refuses an address outside ASCII; with SMTPUTF8 it travels as it is.
    return formataddr((shown, "x@x"), charset="utf-8")[:-len("<x@x>")] + f"<{address}>" if shown else address


def _ascii_domain(domain: str) -> str:
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        return "dunning.invalid"
