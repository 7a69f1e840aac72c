"""Signing in through the console's own forms, as a browser would."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
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


def screenshot_taker() -> Callable[[Any, str], None]:
    """``snap(page, name)``: a full-page PNG into the folder ``DUNNING_SCREENSHOTS`` names (docs/img for the
    docs' pictures); nothing when it is not set. ``snap(page, name, part=SELECTOR)`` takes only that part of
    the page (one form of a long page)."""
    shots = os.environ.get("DUNNING_SCREENSHOTS")
    folder = Path(shots) if shots else None
    if folder:
        folder.mkdir(parents=True, exist_ok=True)

    def snap(page: Any, name: str, part: str | None = None) -> None:
        if folder and part:
            page.locator(part).screenshot(path=str(folder / f"{name}.png"))
        elif folder:
            page.screenshot(path=str(folder / f"{name}.png"), full_page=True)

    return snap
