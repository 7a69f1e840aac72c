"""Fewer garbage collections while delivering: the collector's first threshold raised for the delivery, then restored.

A claimed batch keeps a few thousand objects alive until its last round is
recorded (its actions, its facts, each delivery's context and evidence), and
frees them all at once. With the collector's first threshold at its default
(700 new objects), a collection starts many times within every batch, finds
those objects alive, moves them to the older generations, and so sets off
further collections of those: about 6 % of a delivered action's CPU time
(bench/README.md, "Delivery: fourth round"). With a threshold above what a
batch keeps, almost every object is freed by its reference count before any
collection looks at it; cycles, if any, are still collected, later.
"""

from __future__ import annotations

import gc
from collections.abc import Callable

# Above the objects one claimed batch keeps alive at once (``outbox.CLAIM_BATCH`` actions and their rounds).
DELIVERY_THRESHOLD = 50_000


def fewer_collections() -> Callable[[], None]:
    """Raise the collector's first threshold to ``DELIVERY_THRESHOLD``; returns what puts the old one back.

    Left as it is when the collector is off or its threshold is already higher (the embedding program's choice).
    """
    first, *rest = gc.get_threshold()
    if not gc.isenabled() or first == 0 or first >= DELIVERY_THRESHOLD:
        return _nothing
    gc.set_threshold(DELIVERY_THRESHOLD, *rest)

    def restore() -> None:
        # Only if nobody changed it meanwhile: their setting stands.
        if gc.get_threshold()[0] == DELIVERY_THRESHOLD:
            gc.set_threshold(first, *rest)

    return restore


def _nothing() -> None:
    return None
