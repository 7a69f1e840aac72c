"""An action's idempotency key, ``case:step:channel:occurrence``, as a value. Pure.

The key is written once, when an action is planned, and is then the
action's name everywhere: in the outbox, in evidence, to providers (who
de-duplicate on it), on letters as "our reference". ``str(key)`` is the
text stored in the database, byte for byte; ``ActionKey.parse`` reads it
back. Step and channel names hold no colon (the policy refuses one in a step
name), so the first three colons divide the key; the occurrence may hold
more (a timed occurrence reads ``2026-01-05T09:00``).

- ``channel`` is the channel that delivers the action, or the action's kind
  when no channel does (``escalate``, ``recall``);
- ``occurrence`` tells one planned occurrence of a step from the next: the
  local date it is planned for, with ``T`` and the time when the step gives
  one; or, for what is not planned by date (a promise reminder, an opt-out
  confirmation, a call logged by hand), an id.
"""

from __future__ import annotations

import datetime as dt
import re

import attrs

# As the engine writes a case id: ASCII digits, no leading zero, so the text reads back to itself.
_CASE_ID = re.compile(r"0|[1-9][0-9]*")


def _no_colon(_instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not value or ":" in value:
        raise ValueError(f"an action key's {attribute.name} must be non-empty and hold no colon, got {value!r}")


def _not_empty(_instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not value:
        raise ValueError(f"an action key's {attribute.name} must not be empty")


def occurrence_on(day: dt.date, at: dt.time | None = None) -> str:
    """The occurrence of a step planned for ``day`` (at ``at``, local time, if the step gives a time)."""
    return day.isoformat() + (f"T{at:%H:%M}" if at else "")


@attrs.frozen
class ActionKey:
    case_id: int
    step: str = attrs.field(validator=_no_colon)
    channel: str = attrs.field(validator=_no_colon)
    occurrence: str = attrs.field(validator=_not_empty)

    @classmethod
    def for_day(cls, case_id: int, step: str, channel: str, day: dt.date, at: dt.time | None = None) -> ActionKey:
        """The key of a step planned for ``day`` (at ``at``, local time, when the step gives a time)."""
        return cls(case_id, step, channel, occurrence_on(day, at))

    @classmethod
    def parse(cls, text: str) -> ActionKey:
        """The key ``text`` names; ValueError, naming the text, if it is not one."""
        parts = text.split(":", 3)
        if len(parts) != 4 or not _CASE_ID.fullmatch(parts[0]):
            raise ValueError(f"{text!r} is not an action key (case:step:channel:occurrence)")
        case_id, step, channel, occurrence = parts
        try:
            return cls(int(case_id), step, channel, occurrence)
        except ValueError as exc:
            raise ValueError(f"{text!r} is not an action key: {exc}") from None

    def __str__(self) -> str:
        return f"{self.case_id}:{self.step}:{self.channel}:{self.occurrence}"

    def on_channel(self, channel: str) -> ActionKey:
        """The same occurrence of the same step on another channel (a fallback)."""
        return attrs.evolve(self, channel=channel)

    @property
    def without_occurrence(self) -> str:
        """``case:step:channel:``: the part of the key before its occurrence, colon included."""
        return f"{self.case_id}:{self.step}:{self.channel}:"

    @property
    def time(self) -> dt.time | None:
        """The local time a timed occurrence was planned for (``...:2026-03-09T09:30``); None if untimed."""
        day, sep, clock = self.occurrence.partition("T")
        if not sep:
            return None
        try:
            dt.date.fromisoformat(day)
            return dt.time.fromisoformat(clock)
        except ValueError:
            return None
