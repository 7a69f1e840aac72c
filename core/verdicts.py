"""What a rule says about an action or a stage change."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable

import attrs


class Decision(enum.IntEnum):
    # Ordered by strength: when several rules answer, the strongest wins.
    ALLOW = 0
    DEFER = 1
    NEEDS_APPROVAL = 2
    # This occurrence is dropped (not sent, not retried); a block says more: the rule forbids it.
    SKIP = 3
    BLOCK = 4


@attrs.frozen
class Verdict:
    """A rule's answer. Build one with the class methods.

    ``rule`` names the rule so the evidence log can say why something
    happened or did not.
    """

    decision: Decision
    rule: str
    reason: str = ""
    until: dt.datetime | None = None

    @classmethod
    def allow(cls, rule: str, reason: str = "") -> Verdict:
        return cls(Decision.ALLOW, rule, reason)

    @classmethod
    def defer(cls, rule: str, until: dt.datetime, reason: str = "") -> Verdict:
        if until.tzinfo is None:
            raise ValueError("defer needs an aware datetime")
        return cls(Decision.DEFER, rule, reason, until)

    @classmethod
    def block(cls, rule: str, reason: str) -> Verdict:
        return cls(Decision.BLOCK, rule, reason)

    @classmethod
    def skip(cls, rule: str, reason: str) -> Verdict:
        """This occurrence is not sent and not retried; the cadence goes on (the next step, the next day).

        The action ends as skipped with a ``skipped`` event naming the rule.
        Between two rules, block wins over skip and skip over approval and defer.
        """
        return cls(Decision.SKIP, rule, reason)

    @classmethod
    def needs_approval(cls, rule: str, reason: str) -> Verdict:
        return cls(Decision.NEEDS_APPROVAL, rule, reason)


def strongest(verdicts: Iterable[Verdict | None]) -> Verdict | None:
    """The verdict that decides: block over skip over approval over defer over allow.

    Among deferrals the latest ``until`` wins, so every rule is satisfied.
    """
    best: Verdict | None = None
    for verdict in verdicts:
        if verdict is None:
            continue
        if best is None or verdict.decision > best.decision or (
            verdict.decision is Decision.DEFER
            and best.decision is Decision.DEFER
            and verdict.until is not None
            and best.until is not None
            and verdict.until > best.until
        ):
            best = verdict
    return best
