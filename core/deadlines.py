"""The deadline a letter or email announces: "pay by 26 April or the account goes to an agency".

``deadline_for(policy, case, today, announced)`` is pure: the policy, a
case, the day the message goes out and the deadline already given, the
deadline out. It is the last day before the next stage change the policy
would make for the case, but never sooner than the policy's ``notice_days``
after ``today``: a letter sent the day the case is due to move still gives
the debtor that long. When no stage change follows, the deadline is
``notice_days`` away and leads nowhere. A deadline already given and still
running is repeated rather than pushed back, so a reminder cannot put the
stage change off again and again.

The engine keeps what it announced: delivery records the deadline a message
stated (its ``sent`` event, and the store's ``announced_deadlines``), and a
stage change waits until the day after it (``dispatch.stages.escalate``,
rule ``deadline``).
"""

from __future__ import annotations

import datetime as dt

import attrs

from dunning import lifecycle
from dunning.models import Case, Stage
from dunning.policy import Policy


@attrs.frozen
class Deadline:
    """The last day to pay, and the stage the case goes to after it (None when none follows)."""

    on: dt.date
    stage: Stage | None = None

    def as_context(self) -> dict[str, object]:
        """What templates see as ``deadline``: ``deadline.on`` (a date) and ``deadline.stage`` (a name or None)."""
        return {"on": self.on, "stage": self.stage.value if self.stage else None}


def next_escalation(policy: Policy, case: Case, today: dt.date) -> tuple[Stage, dt.date] | None:
    """The first stage after the case's own that the policy would move it to, and the day it would.

    A day already past (the move is due, or waiting for something) counts
    as today. Stages whose conditions the case does not meet (a minimum
    balance, say) and stages whose recall day has passed are passed over,
    as planning does. Moves on a signal or on broken promises cannot be
    foreseen and are not counted.
    """
    if case.anchor_due_on is None:
        return None
    later = sorted((rule for rule in policy.stages.values()
                    if rule.entry_dpd is not None and lifecycle.rank(rule.stage) > lifecycle.rank(case.stage)),
                   key=lambda rule: lifecycle.rank(rule.stage))
    today_dpd = (today - case.anchor_due_on).days
    for rule in later:
        assert rule.entry_dpd is not None
        if rule.recall_dpd is not None and rule.recall_dpd <= today_dpd:
            continue
        day = max(case.anchor_due_on + dt.timedelta(days=rule.entry_dpd), today)
        if rule.when.hold(case, case.stage, day):
            return rule.stage, day
    return None


def deadline_for(policy: Policy, case: Case, today: dt.date, announced: Deadline | None = None) -> Deadline:
    """The deadline a message sent on ``today`` announces for ``case``, given the one ``announced`` before (if any)."""
    if announced is not None and announced.on >= today:
        return announced  # still running: the debtor keeps the date they were given
    earliest = today + dt.timedelta(days=policy.notice_days)
    upcoming = next_escalation(policy, case, today)
    if upcoming is None:
        return Deadline(on=earliest)
    stage, day = upcoming
    return Deadline(on=max(day - dt.timedelta(days=1), earliest), stage=stage)
