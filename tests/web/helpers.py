"""Signing in through the console's own forms, as a browser would."""

from __future__ import annotations

import re
from typing import Any

from tests.web.conftest import PASSWORD

TOKEN = re.compile(r'name="csrf" value="([^"]+)"')


def token(client: Any, path: str = "/login") -> str:
    match = TOKEN.search(client.get(path).text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def sign_in(client: Any, name: str, password: str = PASSWORD) -> Any:
    return client.post("/login", data={"name": name, "password": password, "csrf": token(client)},
                       follow_redirects=False)
