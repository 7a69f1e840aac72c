"""CSRF tokens for the debtors' page: an HMAC of the page's link token with the server's secret.

A debtor has no session to keep a random token in, so the token is derived
from what only a holder of the link and the server share: a form posted
without it, or with one made for another link, is refused. Pure.
"""

from __future__ import annotations

import hashlib
import hmac

FIELD = "csrf"


def token(secret: str, link_token: str) -> str:
    return hmac.new(secret.encode(), f"portal-form:{link_token}".encode(), hashlib.sha256).hexdigest()


def valid(secret: str, link_token: str, sent: object) -> bool:
    return isinstance(sent, str) and hmac.compare_digest(sent.encode(), token(secret, link_token).encode())
