"""Checks on the text people hand us: files, names, addresses, emails, dates, time zones.

Pure functions that say what is wrong with a value (a message for the
operator) or return the clean value; the importer, the config and the
operations name the file, line and field around the message.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import zoneinfo
from pathlib import Path

# The characters a text field may hold besides printable ones: line breaks in a
# multi-line postal address. A NUL once reached an SMTP server inside an address,
# and an ESC lets a name rewrite the operator's terminal: control characters are refused.
MULTILINE_FIELDS = frozenset({"address", "value"})
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


# Unicode's control characters (category Cc) are exactly these 65; a test checks the list against unicodedata.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_LINE_BREAKS = re.compile("[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def control_character(text: str, *, multiline: bool = False) -> str | None:
    """Why ``text`` cannot be stored (the first control character it holds), or None."""
    found = (_CONTROL_BUT_LINE_BREAKS if multiline else _CONTROL).search(text)
    if found is None:
        return None
    return f"holds a control character (U+{ord(found.group()):04X}); only printable text is accepted"


def iso_date(text: str) -> dt.date:
    """A calendar date written YYYY-MM-DD; week dates (2026-W10-1), ordinal and compact forms are refused."""
    if not _ISO_DATE.fullmatch(text):
        raise ValueError(f"not a date (YYYY-MM-DD): {text!r}")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not a date (YYYY-MM-DD): {text!r}") from None


# Files in the zone database that are no place's time: the machine's own setting, a placeholder.
_NOT_ZONES = frozenset({"localtime", "posixrules", "Factory"})


@functools.cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones()) - _NOT_ZONES


def time_zone(name: str) -> str:
    """An IANA zone name such as Europe/Berlin; file names that are no zone (posixrules, localtime) are refused."""
    if name not in _zones():
        raise ValueError(f"unknown time zone {name!r}")
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None
    return name


# Plain ASCII addresses email_validator certainly accepts: dot-separated atoms of letters, digits, _ + - before
# the @; after it, two or more host labels (no "--", which has rules of its own) ending in a TLD of letters that
# is no special-use name. An import of a million rows checks most addresses here, the rest the full way; a test
# holds this against email_validator.
_PLAIN_EMAIL = re.compile(r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*@(?:(?!-)(?:[A-Za-z0-9]|-(?!-)){1,63}(?<!-)\.)+"
                          r"([A-Za-z]{2,63})")
_SPECIAL_USE = frozenset({"arpa", "invalid", "local", "localhost", "onion", "test"})


def plainly_email(text: str) -> bool:
    """True when ``text`` is an address of the plain form above (False says nothing: check it the full way)."""
    at = text.find("@")
    if len(text) > 254 or not 0 < at <= 64:
        return False
    found = _PLAIN_EMAIL.fullmatch(text)
    return found is not None and found.group(1).lower() not in _SPECIAL_USE and len(text.rsplit("@", 1)[1]) <= 253


def email_address(text: str) -> str:
    """``text`` if it is a deliverable-looking address (syntax only: no DNS look-up at import)."""
    if plainly_email(text):
        return text
    import email_validator  # imported where used: only imports and edits check addresses

    try:
        email_validator.validate_email(text, check_deliverability=False)
    except email_validator.EmailNotValidError as exc:
        raise ValueError(f"not an email address: {text!r} ({exc})") from None
    return text


def read_utf8(path: Path) -> str:
    """A text file people edit (dunning.toml, a policy), as text; ValueError saying why not, without the path."""
    if path.is_dir():
        raise ValueError("is a folder, not a file")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ValueError("no such file") from None
    except OSError as exc:
        raise ValueError(f"cannot be read: {exc.strerror}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ValueError(f"line {line}: not UTF-8 text (byte 0x{data[exc.start]:02x}); save it as UTF-8") from None


def toml_error(exc: Exception, text: str) -> str:
    """tomllib's message, with the line named where it says only "at end of document" (the last line of text)."""
    message = str(exc)
    if "(at end of document)" in message:
        message = message.replace(
            "(at end of document)", f"(at end of document, line {text.rstrip(chr(10)).count(chr(10)) + 1})"
        )
    return message
