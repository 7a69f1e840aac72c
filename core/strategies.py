"""Champion and challenger: which strategy a case runs under, from its id and the salt alone.

A strategy is a policy with a share of the cases (``[[strategies]]`` in
dunning.toml). A case's place is a number from 0 to 9,999 drawn from a
SHA-256 of the salt and its id; the strategies take the places in the order
they are written, each as many hundredths as its share in per cent. The same
id and salt give the same strategy on every machine and in every process
(Python's own ``hash`` is salted per process, so it would not do).

A case is assigned once and keeps its strategy: a share changed later moves
only the cases assigned after the change. Pure: no store, no config file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import attrs

PLACES = 10_000  # a case's place is one of these; a share of 1 % is 100 places
# The name a report gives the cases that have no strategy (opened or closed before strategies were set).
NO_STRATEGY = "(none)"


@attrs.frozen
class Strategy:
    name: str
    policy: str  # a preset's name or a policy file's path, as dunning.toml writes it
    share: int  # per cent of the cases assigned from now on


def place(case_id: int, salt: str) -> int:
    """The case's place, 0 to PLACES - 1: evenly spread, the same wherever it is worked out."""
    digest = hashlib.sha256(f"{salt}\x00{case_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % PLACES


def assign(case_id: int, strategies: Sequence[Strategy], salt: str) -> Strategy:
    """The strategy whose range of places holds the case's place. ``strategies``' shares add up to 100."""
    if not strategies:
        raise ValueError("no strategies to assign from")
    spot = place(case_id, salt)
    upper = 0
    for strategy in strategies:
        upper += strategy.share * PLACES // 100
        if spot < upper:
            return strategy
    return strategies[-1]  # shares add up to 100: only reached if they do not


def salt_hash(salt: str) -> str:
    """What the ``strategy_assigned`` event records of the salt: enough to tell two salts apart."""
    return hashlib.sha256(salt.encode()).hexdigest()[:16]


def assignment_data(strategy: Strategy, salt: str) -> dict[str, object]:
    """The data of a ``strategy_assigned`` event."""
    return {"strategy": strategy.name, "policy": strategy.policy, "share": strategy.share,
            "salt_hash": salt_hash(salt)}
