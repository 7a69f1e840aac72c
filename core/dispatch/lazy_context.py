"""A template context worked out the first time a channel reads it.

Building a message's context costs two queries (the charges owed, the
deadline announced before) and the amounts formatted for the reader's
language: about a third of what delivering an action costs. A channel that
sends no text of its own (a call list, a task for a field agent, a provider
that renders from its own templates) never reads it; those that do pay the
same as before, once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any


class LazyContext(Mapping[str, Any]):
    """The mapping ``build()`` returns, built on first use and kept."""

    __slots__ = ("_build", "_built")

    def __init__(self, build: Callable[[], Mapping[str, Any]]):
        self._build: Callable[[], Mapping[str, Any]] | None = build
        self._built: Mapping[str, Any] | None = None

    def _context(self) -> Mapping[str, Any]:
        if self._built is None:
            assert self._build is not None
            self._built, self._build = self._build(), None
        return self._built

    def __getitem__(self, key: str) -> Any:
        return self._context()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._context())

    def __len__(self) -> int:
        return len(self._context())

    def __repr__(self) -> str:
        return f"LazyContext({self._built!r})" if self._built is not None else "LazyContext(<not built yet>)"
