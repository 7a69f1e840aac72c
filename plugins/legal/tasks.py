"""Tasks for the legal team, opened from the evidence log.

A bankruptcy signal (``dunning signal CASE --kind bankruptcy``, or any
channel that records one) means the creditor must file a claim in the
insolvency proceedings before the deadline. Each such ``signal`` event
opens one "file_claim" task, keyed by the event's sequence number, so
reading the log again never opens a second one. The log is read from
where the last reading stopped (a cursor), at the end of every run and
whenever a ``dunning legal`` command runs; the task keeps the signal's own
time as its opening time.
"""

from __future__ import annotations

from typing import Any

from dunning import calendar
from dunning.plugins.legal import records

CURSOR = "signals"
FILE_CLAIM = "file_claim"


def open_from_signals(ctx: Any) -> int:
    """Open a task for every bankruptcy signal recorded since the last call; returns how many were opened.

    ``ctx`` is a run's context or a command's ``PluginContext``: ``store``, ``db`` and ``transaction()``.
    """
    db, store = ctx.db, ctx.store
    opened = 0
    with ctx.transaction():
        after = records.cursor(db, CURSOR)
        last = after
        for event in store.events(kind="signal", after_seq=after):
            last = max(last, event.seq or 0)
            if event.case_id is None or event.data.get("signal") != "bankruptcy":
                continue
            note = f"bankruptcy reported by {event.data.get('source') or 'someone'}"
            if event.data.get("note"):
                note += f": {event.data['note']}"
            if records.add_task(db, case_id=event.case_id, kind=FILE_CLAIM, source_seq=event.seq or 0,
                                opened_at=calendar.to_text(event.at), note=note):
                opened += 1
        if last > after:
            records.move_cursor(db, CURSOR, last)
    return opened
