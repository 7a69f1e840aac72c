"""The cyclic garbage collector paused while a command starts.

Starting a command makes a few hundred thousand objects that live as long as
the process (modules, classes, the methods attrs generates for each record
class) and frees almost none of them: each collection the allocations set off
walks them all again for nothing, about a twentieth of `cases show`. The
collector is paused while the root group finds the command and the command
opens its runtime, and runs as usual from then on, so a long command (a daily
run over a million cases) collects its own garbage.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

_paused = False


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the collector for the block (unless something else already turned it off); ``resume`` may end the
    pause sooner."""
    global _paused
    if not gc.isenabled():
        yield
        return
    gc.disable()
    _paused = True
    try:
        yield
    finally:
        resume()


def resume() -> None:
    """Start-up is over: collect as usual again (nothing when the collector was not paused here)."""
    global _paused
    if _paused:
        _paused = False
        gc.enable()
