"""The garbage collector during a run: the start-up heap is left out of its full collections.

A run allocates millions of short-lived objects (rows, plans, events); each
full collection would walk every object alive since start-up (modules,
the policy, the plugins' classes) again, though none of them becomes
garbage during the run. ``gc.freeze`` moves them out of the collector's
generations for the run; ``gc.unfreeze`` puts them back afterwards, so
nothing frozen is kept for good (a process that runs many times, a test
session, still collects them).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def start_up_heap_frozen() -> Iterator[None]:
    """Freeze what is alive now for the duration of the block; inside another such block (or another
    freezer's) this does nothing."""
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
