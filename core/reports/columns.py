"""The store's whole-number rows as numpy columns, a batch at a time (roll-rates and recovery over arrays)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any

import numpy as np


def columns(batches: Iterable[list[tuple[Any, ...]]], width: int) -> list[np.ndarray]:
    """The rows' columns, one array each, filled a batch at a time: no list of every row, and beside the numbers
    read at most one column's copy (each batch split into its columns at once, each column joined in turn)."""
    pieces: list[list[np.ndarray]] = [[] for _ in range(width)]
    for batch in batches:
        part = np.fromiter(itertools.chain.from_iterable(batch), dtype=np.int64,
                           count=len(batch) * width).reshape(-1, width)
        for column in range(width):
            pieces[column].append(part[:, column].copy())
    joined = []
    for column in range(width):
        joined.append(np.concatenate(pieces[column]) if pieces[column] else np.zeros(0, dtype=np.int64))
        pieces[column] = []  # let this column's pieces go before the next is joined
    return joined


def positions(ids: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """For any id, the index of the row of ``ids`` (row ids: a table of them is small) that has it, -1 for none
    or for a row ``keep`` leaves out; look up with ``lookup``."""
    table = np.full(int(ids.max(initial=0)) + 2, -1, dtype=np.int64)
    table[ids[keep]] = np.flatnonzero(keep)
    return table


def lookup(table: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """``positions``' index of each id (-1: none)."""
    return table[np.clip(ids, -1, len(table) - 1)]
