"""``[ledger]`` in dunning.toml: the order a payment pays a case's open items."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

# What a payment can pay: fees (fee and fixed compensation charges), interest
# charges, and principal (the obligations, oldest due date first).
ALLOCATION_GROUPS = ("fees", "interest", "principal")
DEFAULT_ALLOCATION = ("fees", "interest", "principal")
ALLOCATION_KEYS = frozenset({"allocation"})


class LedgerSettingsError(ValueError):
    """A ``[ledger]`` table that cannot be used; the message names the file and key."""


@attrs.frozen
class LedgerSettings:
    allocation: tuple[str, ...] = DEFAULT_ALLOCATION


def parse_ledger(table: Any, source: str) -> LedgerSettings:
    """The allocation key of ``[ledger]``; a bad order is an error naming it.

    The table's other keys (interest, waivers) are dunning.ledger.interest_settings'; the
    config checks the table's keys against both (LEDGER_KEYS).
    """
    if not isinstance(table, Mapping):
        raise LedgerSettingsError(f"{source}: '[ledger]' must be a table")
    if "allocation" not in table:
        return LedgerSettings()
    order = table["allocation"]
    if (not isinstance(order, list) or not all(isinstance(g, str) for g in order)
            or sorted(order) != sorted(ALLOCATION_GROUPS)):
        raise LedgerSettingsError(
            f"{source}: 'ledger.allocation' must list each of {', '.join(repr(g) for g in ALLOCATION_GROUPS)} "
            f"once, in the order payments pay them, got {order!r}")
    return LedgerSettings(allocation=tuple(order))


def effective_order(order: tuple[str, ...], principal_first: bool) -> tuple[str, ...]:
    """``order``, with principal moved to the front where the debtor's profile requires it."""
    if not principal_first:
        return order
    return ("principal", *(g for g in order if g != "principal"))
