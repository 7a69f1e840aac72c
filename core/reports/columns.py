"""The store's whole-number rows as numpy columns, a batch at a time (roll-rates and recovery over arrays)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any

import numpy as np


def columns(batches: Iterable[list[tuple[Any, ...]]], width: int) -> np.ndarray:
    """The rows' columns, one array each (shape width x rows), filled a batch at a time: no list of every row,
    and the numbers held twice at most (the batches' arrays, then the columns)."""
    parts = [np.fromiter(itertools.chain.from_iterable(batch), dtype=np.int64, count=len(batch) * width)
             for batch in batches]
    out = np.empty((width, sum(len(part) for part in parts) // width), dtype=np.int64)
    at = 0
    parts.reverse()
    while parts:  # each batch's array let go once copied
        part = parts.pop().reshape(-1, width)
        out[:, at:at + len(part)] = part.T
        at += len(part)
    return out


def positions(ids: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """For any id, the index of the row of ``ids`` (row ids: a table of them is small) that has it, -1 for none
    or for a row ``keep`` leaves out; look up with ``lookup``."""
    table = np.full(int(ids.max(initial=0)) + 2, -1, dtype=np.int64)
    table[ids[keep]] = np.flatnonzero(keep)
    return table


def lookup(table: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """``positions``' index of each id (-1: none)."""
    return table[np.clip(ids, -1, len(table) - 1)]
