"""Handing evidence events to the ``record_event`` mirrors: every event at least once, in order.

Each mirror (a plugin with a plain ``record_event``) has a cursor in the
database: the last ``seq`` it took without raising. A mirror that raises
is not called again in this run; the next run hands it everything after
its cursor, oldest first, before anything new. A mirror new to the
database starts from the first event. Wrappers (``wrapper=True``) wrap
each mirror's call; with no mirror at all they still see every event.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from dunning.log import get_logger

from dunning.models import Event

if TYPE_CHECKING:
    from dunning.runtime import Runtime

log = get_logger("dunning")

HOOK = "record_event"
READ_BATCH = 1000
# Cursors are written at least this often (and when a run ends); a crash in
# between re-sends what came after the written one: at least once, never lost.
FLUSH_EVERY = 500


class Mirrors:
    def __init__(self, rt: Runtime):
        self.rt = rt
        self._cursors: dict[str, int] | None = None
        self._written: dict[str, int] = {}
        self._stalled: set[str] = set()

    def _cursor_map(self) -> dict[str, int]:
        if self._cursors is None:
            self._cursors = self.rt.store.mirror_cursors()
            self._written = dict(self._cursors)
        return self._cursors

    def names(self) -> list[str]:
        return self.rt.plugins.calls.implementers(HOOK)

    def announce(self, events: Sequence[Event]) -> None:
        """Called after each commit with the events it added."""
        if self.rt.simulated or not len(events):
            return
        mirrors = self.names()
        if not mirrors:
            self._wrappers_only(events)
            return
        for plugin in mirrors:
            self._hand(plugin, events[-1].seq or 0, events)

    def catch_up(self) -> None:
        """Hand every mirror what it missed, up to the end of the log (at the start of a run)."""
        if self.rt.simulated:
            return
        head = self.rt.store.last_seq()
        for plugin in self.names():
            self._hand(plugin, head, ())

    def announce_checkpoint(self, checkpoint: Event) -> None:
        """The run's signed checkpoint: not part of the chain, so it moves no cursor."""
        if self.rt.simulated:
            return
        for plugin in self.names():
            if plugin in self._stalled or self._cursor_map().get(plugin, 0) < (checkpoint.seq or 0):
                continue  # it has not taken what the checkpoint signs; it gets a later one
            answer = self.rt.plugins.calls.call_one(HOOK, plugin, {"event": checkpoint})
            if answer.error is not None:
                log.warning("record_event hook failed", plugin=plugin, seq=checkpoint.seq, error=str(answer.error))
        if not self.names():
            self._wrappers_only([checkpoint])

    def lag(self) -> dict[str, int]:
        """How many events each mirror is behind the end of the log."""
        head = self.rt.store.last_seq()
        cursors = self._cursor_map()
        return {plugin: head - cursors.get(plugin, 0) for plugin in self.names()}

    def flush(self) -> None:
        if self._cursors is None:
            return
        for plugin, seq in self._cursors.items():
            if self._written.get(plugin) != seq:
                self.rt.store.set_mirror_cursor(plugin, seq)
                self._written[plugin] = seq

    def _hand(self, plugin: str, upto: int, fresh: Sequence[Event]) -> None:
        if plugin in self._stalled:
            return
        cursors = self._cursor_map()
        cursor = cursors.get(plugin, 0)
        if cursor >= upto:
            return
        todo = fresh if len(fresh) and fresh[0].seq == cursor + 1 else self._read(cursor, upto)
        for event in todo:
            answer = self.rt.plugins.calls.call_one(HOOK, plugin, {"event": event})
            if answer.error is not None:
                # A mirror must never break the log it mirrors; it gets this event again next run.
                log.warning("record_event hook failed", plugin=plugin, seq=event.seq, error=str(answer.error))
                self._stalled.add(plugin)
                break
            cursor = cursors[plugin] = event.seq or cursor
        due = plugin in self._stalled or cursor - self._written.get(plugin, 0) >= FLUSH_EVERY
        if due and self._written.get(plugin) != cursor:
            self.rt.store.set_mirror_cursor(plugin, cursor)
            self._written[plugin] = cursor

    def _read(self, after: int, upto: int) -> Iterator[Event]:
        while after < upto:
            batch = [e for e in self.rt.store.events(after_seq=after, limit=READ_BATCH) if (e.seq or 0) <= upto]
            if not batch:
                return
            yield from batch
            after = batch[-1].seq or upto

    def _wrappers_only(self, events: Sequence[Event]) -> None:
        if not getattr(self.rt.plugins.pm.hook, HOOK).get_hookimpls():
            return
        for event in events:
            for answer in self.rt.plugins.calls.call_each(HOOK, event=event):
                if answer.error is not None:
                    log.warning("record_event hook failed", plugin=answer.plugin, seq=event.seq,
                                error=str(answer.error))
