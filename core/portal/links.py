"""Signed, expiring links to the debtors' page: no account, one link per case.

A token is ``<case id>.<expiry, Unix seconds>.<HMAC-SHA256 of both>``, the
HMAC keyed by a secret kept owner-only beside the database (made on first
use). ``case_for_token`` answers a case id or None, and None alike for a
token that is malformed, tampered with, expired or names no case: the page
must never tell a stranger whether a case exists.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from dunning import privacy

if TYPE_CHECKING:
    from dunning.config import Config
    from dunning.runtime import Runtime

# Where the key is kept when ``[portal] secret_file`` is not set: beside the database.
DEFAULT_SECRET_NAME = "dunning-portal.key"
_TOKEN = re.compile(r"^([1-9][0-9]{0,17})\.([0-9]{1,12})\.([A-Za-z0-9_-]{43})$")


class PortalKeyError(ValueError):
    """The key that signs the links cannot be used; the message names the file."""


def secret_path(config: Config) -> Path:
    named = config.sections.portal.secret_file
    if named is None:
        from dunning.store.database import folder_beside

        return folder_beside(config.db, config.base_dir) / DEFAULT_SECRET_NAME
    return config.base_dir / Path(named).expanduser()


def load_secret(path: Path) -> bytes:
    """The signing key in ``path``; made (32 random bytes, owner-only) when there is none yet."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    except OSError as exc:
        raise PortalKeyError(f"{path}: cannot create the portal key: {exc.strerror}") from None
    else:
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(secrets.token_hex(32) + "\n")
    if privacy.readable_by_others(path):
        # Anyone who can read it can make a link to any debtor's page.
        raise PortalKeyError(f"{path}: the portal key is readable by others; chmod 600 it")
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise PortalKeyError(f"{path}: cannot read the portal key: {exc}") from None
    if not re.fullmatch(r"[0-9a-f]{64}", text):
        raise PortalKeyError(f"{path}: not a portal key (64 hexadecimal digits expected)")
    return bytes.fromhex(text)


def _signature(secret: bytes, case_id: int, expires: int) -> str:
    digest = hmac.new(secret, f"{case_id}.{expires}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def make_token(secret: bytes, case_id: int, expires: dt.datetime) -> str:
    seconds = int(expires.timestamp())
    return f"{case_id}.{seconds}.{_signature(secret, case_id, seconds)}"


def token_case(secret: bytes, token: str, now: dt.datetime) -> int | None:
    """The case a token was signed for, if the signature holds and it has not expired; else None. Pure."""
    match = _TOKEN.match(token)
    if match is None:
        return None
    case_id, expires, given = int(match.group(1)), int(match.group(2)), match.group(3)
    if not hmac.compare_digest(given, _signature(secret, case_id, expires)):
        return None
    if now.timestamp() >= expires:
        return None
    return case_id


def link(config: Config, case_id: int, now: dt.datetime) -> str | None:
    """The link to a case's page, good for ``[portal] link_days`` from ``now``; None without ``base_url``."""
    portal = config.sections.portal
    if portal.base_url is None:
        return None
    expires = now + dt.timedelta(days=portal.link_days)
    return f"{portal.base_url.rstrip('/')}/{make_token(load_secret(secret_path(config)), case_id, expires)}"


def token_of(url: str) -> str:
    """The token at the end of a link (what the web app's route receives)."""
    return url.rstrip("/").rsplit("/", 1)[-1]


def case_for_token(rt: Runtime, token: str, now: dt.datetime) -> int | None:
    """The case a debtor's link opens, or None: wrong, tampered, expired, or a case that is not there."""
    from dunning.store import NotFound

    case_id = token_case(load_secret(secret_path(rt.config)), token, now)
    if case_id is None:
        return None
    try:
        rt.store.case(case_id)
    except NotFound:  # archived, or never there: the same answer as a bad token
        return None
    return case_id
