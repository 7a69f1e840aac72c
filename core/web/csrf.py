"""CSRF tokens: one random token per session, in a hidden field of every form; a POST without it is refused.

The session cookie is signed and SameSite=Lax already; the token is the
second lock, for browsers or proxies that do not honour SameSite.
"""

from __future__ import annotations

import secrets
from collections.abc import MutableMapping
from typing import Any

FIELD = "csrf"


def token(session: MutableMapping[str, Any]) -> str:
    """The session's token, made on first use."""
    if not isinstance(session.get(FIELD), str):
        session[FIELD] = secrets.token_urlsafe(32)
    return str(session[FIELD])


def valid(session: MutableMapping[str, Any], sent: object) -> bool:
    expected = session.get(FIELD)
    return isinstance(expected, str) and isinstance(sent, str) and secrets.compare_digest(expected, sent)
