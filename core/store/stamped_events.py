"""Events as a transaction appended them: recorded, numbered and linked, built only when looked at."""

from __future__ import annotations

import datetime as dt
import bisect
from collections.abc import Callable, Sequence
from typing import Any, overload

from dunning.models import Event


def _stamped(event: Event, recorded_at: dt.datetime, seq: int, prev_hash: str, digest: str) -> Event:
    """The event as appended: recorded, numbered and linked.

    Spelled out rather than ``attrs.evolve`` (which looks the fields up on
    every call); tests/core/test_planning_writer.py checks it keeps every field.
    """
    return Event(kind=event.kind, at=event.at, case_id=event.case_id, stage=event.stage, dpd=event.dpd,
                 channel=event.channel, step=event.step, action_id=event.action_id, data=event.data,
                 recorded_at=recorded_at, seq=seq, prev_hash=prev_hash, hash=digest)


class _StampedEvents(Sequence[Event]):
    """Events appended in one transaction, as ``on_events`` receives them once it commits.

    Each is built (``_stamped``) when first asked for, from the event handed
    in and its row: a listener that looks at none of them (no record_event
    hook) costs nothing, which matters when planning appends a million.
    """

    def __init__(self) -> None:
        # None where the event handed in is itself built later, from its row (``add_built_later``).
        self._sources: list[Event | None] = []
        self._rows: list[tuple[Any, ...]] = []  # the events table's rows: seq first, prev_hash and hash last
        self._recorded: list[dt.datetime] = []
        self._built: dict[int, Event] = {}
        # Where each run of rows added by ``add_built_later`` starts, and how its events are built.
        self._later_starts: list[int] = []
        self._later_sources: list[Callable[[tuple[Any, ...]], Event]] = []

    def add(self, sources: Sequence[Event], rows: Sequence[tuple[Any, ...]], recorded_at: dt.datetime) -> None:
        self._sources.extend(sources)
        self._rows.extend(rows)
        self._recorded.extend([recorded_at] * len(rows))

    def add_built_later(self, rows: Sequence[tuple[Any, ...]], recorded_at: dt.datetime,
                        source_of: Callable[[tuple[Any, ...]], Event]) -> None:
        """Events appended with no Event handed in (planning's, from templates): ``source_of(row)`` builds
        the event as handed in, from its row, if it is ever looked at. A row here is (seq, ..., prev_hash,
        hash) with whatever ``source_of`` needs in between."""
        self._later_starts.append(len(self._rows))
        self._later_sources.append(source_of)
        self._sources.extend([None] * len(rows))
        self._rows.extend(rows)
        self._recorded.extend([recorded_at] * len(rows))

    def truncate(self, length: int) -> None:
        """Forget the events after the first ``length`` (a savepoint rolled back)."""
        for kept in (self._sources, self._rows, self._recorded):
            del kept[length:]
        self._built = {i: e for i, e in self._built.items() if i < length}
        runs = bisect.bisect_left(self._later_starts, length)
        del self._later_starts[runs:], self._later_sources[runs:]

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, index: int) -> Event: ...

    @overload
    def __getitem__(self, index: slice) -> list[Event]: ...

    def __getitem__(self, index: int | slice) -> Event | list[Event]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("event index out of range")
        event = self._built.get(index)
        if event is None:
            row = self._rows[index]
            source = self._sources[index]
            if source is None:
                source = self._later_sources[bisect.bisect_right(self._later_starts, index) - 1](row)
            event = self._built[index] = _stamped(source, self._recorded[index], row[0], row[-2], row[-1])
        return event
