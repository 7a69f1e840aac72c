"""What the contact rules work out once for a run's moment instead of once per action.

Delivery asks ``check_action`` about thousands of actions at the same moment, under the same
configuration and the same channels' media. Much of each answer depends on those alone, or on them and
a few of the debtor's facts shared by many debtors: the business date, the profile a jurisdiction
chooses, a channel's window, working days and caps under a profile, the contact window's verdict in a
set of zones (with the country's holidays), the start of a cap's period in a zone. ``memo_for`` keeps
those answers for as long as the moment, the configuration and the media stay the same, so each is
worked out once; the rules decide exactly as they would without it (tests/core/test_rule_memo.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from dunning.config import Config

T = TypeVar("T")

# A run meets few jurisdictions, channels, zones and countries; beyond this many answers something
# unusual is going on (a long-lived process over many moments), and the memo starts again.
MAX_ANSWERS = 4096


class RoundMemo:
    """The answers for one moment (``now``), one configuration and one set of channels' media."""

    __slots__ = ("_answers", "config", "media", "now", "today", "zone")

    def __init__(self, config: Config, now: dt.datetime, media: Mapping[str, str | None]):
        self.config, self.now, self.media = config, now, dict(media)
        self.zone = config.zone  # the business's zone (a property that looks it up each time)
        self.today = now.astimezone(self.zone).date()
        self._answers: dict[Hashable, Any] = {}

    def serves(self, config: Config, now: dt.datetime, media: Mapping[str, str | None]) -> bool:
        # The configuration by identity (it is frozen; a changed one is a new object), the moment and
        # the media by value: a round's context is new, what it holds often is not.
        return config is self.config and now == self.now and media == self.media

    def answer(self, key: Hashable, work: Callable[[], T]) -> T:
        """The answer kept under ``key``, worked out by ``work`` the first time it is asked for."""
        try:
            return self._answers[key]  # type: ignore[no-any-return]
        except KeyError:
            if len(self._answers) >= MAX_ANSWERS:
                self._answers.clear()
            found = self._answers[key] = work()
            return found


_current: RoundMemo | None = None


def memo_for(config: Config, now: dt.datetime, media: Mapping[str, str | None]) -> RoundMemo:
    """The memo for this moment, configuration and media: the last one when it still serves, else a new one."""
    global _current
    memo = _current
    if memo is None or not memo.serves(config, now, media):
        memo = _current = RoundMemo(config, now, media)
    return memo
