"""A limit on failed sign-ins: after a few in a window, from one address or for one name, sign-in waits.

Pure and in memory (one server process): the clock is passed in, so the
rule is tested without waiting. A success clears the name's failures.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable


class LoginLimit:
    def __init__(self, *, failures: int = 5, window_seconds: float = 900.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.failures = failures
        self.window = window_seconds
        self.clock = clock
        self._seen: dict[str, deque[float]] = {}

    def _recent(self, key: str) -> deque[float]:
        stamps = self._seen.setdefault(key, deque())
        horizon = self.clock() - self.window
        while stamps and stamps[0] <= horizon:
            stamps.popleft()
        return stamps

    def blocked(self, address: str, name: str) -> bool:
        """Whether a sign-in from ``address`` as ``name`` must be refused without checking the password."""
        return any(len(self._recent(key)) >= self.failures for key in (f"ip:{address}", f"name:{name.lower()}"))

    def failed(self, address: str, name: str) -> None:
        now = self.clock()
        for key in (f"ip:{address}", f"name:{name.lower()}"):
            self._recent(key).append(now)

    def succeeded(self, name: str) -> None:
        self._seen.pop(f"name:{name.lower()}", None)
