"""A channel's logger, bound to its action's case and channel when the channel first logs.

Binding a structlog logger builds a logger each time (about 7 µs); a
delivery hands every channel a bound logger, and most channels never log
for an action that goes well. ``BoundLater`` binds on first use and keeps
what it bound, so a channel that logs sees the same logger as before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import structlog


class BoundLater:
    """``log.bind(**values)``, done the first time one of its attributes is read."""

    __slots__ = ("_bound", "_log", "_values")

    def __init__(self, log: structlog.typing.FilteringBoundLogger, **values: Any):
        self._log, self._values = log, values
        self._bound: Any = None

    def __getattr__(self, name: str) -> Any:
        bound = self._bound
        if bound is None:
            bound = self._bound = self._log.bind(**self._values)
        return getattr(bound, name)

    def __repr__(self) -> str:
        return f"BoundLater({self._values!r})"
