"""Whether a collector should still make a visit: pure rules on the task and its case as they stand.

A visit task is made for a case at one moment; the case moves on. The rule
is worked out from the case each time the list is read, not written into the
task: a hold that is lifted or a case recalled from the agency needs no
bookkeeping, and the case's own events (payment, hold, stage change) are the
evidence of why a visit left the list.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from dunning import calendar
from dunning.models import Case, Hold, Stage


def not_workable(case: Case, holds: Sequence[Hold], created_at: dt.datetime, day: dt.date,
                 zone: dt.tzinfo) -> str | None:
    """Why a visit made at ``created_at`` for ``case`` should not be made on ``day``; None if it should.

    In order: the case was resolved (nobody knocks on the door of a debtor
    who paid), it is on hold (a dispute, a cease request, a bankruptcy), it
    is with a collection agency (the agency works it now), or it changed
    stage after the visit was planned (a case now in litigation is the
    lawyers'). A stage entered on the day the task was made is the stage
    that planned it: the first visit goes out in the run that moves the case
    on site.
    """
    if not case.is_open:
        when = f" on {case.resolved_on.isoformat()}" if case.resolved_on else ""
        return f"case resolved ({case.status.value}){when}"
    active = [h for h in holds if h.active_on(day)]
    if active:
        reasons = ", ".join(sorted({str(h.reason) for h in active}))
        return f"case on hold ({reasons})"
    if case.stage is Stage.AGENCY:
        since = f" since {case.stage_entered_on.isoformat()}" if case.stage_entered_on else ""
        return f"placed with an agency{since}"
    planned_on = calendar.local_date(created_at, zone)
    # Coming on site from in house is what a visit prepares (the move may wait
    # for a deadline a letter gave, after the first visit was planned).
    arrived_on_site = case.stage is Stage.ONSITE and case.previous_stage in (None, Stage.INTERNAL)
    if case.stage_entered_on is not None and case.stage_entered_on > planned_on and not arrived_on_site:
        return (f"case moved to {case.stage.value} on {case.stage_entered_on.isoformat()}, "
                f"after the visit was planned on {planned_on.isoformat()}")
    return None
