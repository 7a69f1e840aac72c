"""Who holds a claimed action, and what becomes of the claims a stopped run left behind.

Delivery claims actions before it sends them; a crash between send and
record leaves the claim in flight (one action, or a round of them on a
channel that records outcomes a round at a time), and the next run re-sends
it under the same key, unless its channel cannot recognise a re-send.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import uuid

from dunning.log import get_logger

from dunning import calendar
from dunning.models import Action, ActionKind, Event
from dunning.runtime import Runtime

log = get_logger("dunning.dispatch")


def claimer_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _claim_is_abandoned(claimed_by: str | None, claimed_at: dt.datetime, wall_now: dt.datetime,
                        timeout: dt.timedelta) -> bool:
    """A claim is abandoned when its process is gone (same host) or it has timed out."""
    if wall_now - claimed_at >= timeout:
        return True
    host, _, rest = (claimed_by or "").partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def reclaim_abandoned(rt: Runtime, now: dt.datetime | None = None) -> int:
    """Deal with claims a stopped run left: re-queue them, or set outreach aside as in doubt.

    An outreach on a channel with ``in_doubt = "hold"`` may have reached the
    debtor before the crash, and its provider cannot tell a re-send: it waits
    for a person (``dunning in-doubt``). Everything else goes back in the
    queue under the same key. Returns how many were re-queued.
    """
    wall_now = calendar.utc_now()
    resend: list[int] = []
    hold: list[int] = []
    for action_id, claimed_by, claimed_at, channel, kind, handed_over in rt.store.in_flight():
        if not _claim_is_abandoned(claimed_by, claimed_at, wall_now, rt.config.claim_timeout):
            continue
        # Only an action its channel had in hand may have gone out; the rest of the claimed batch had not.
        to_hold = handed_over and kind == ActionKind.OUTREACH.value and rt.in_doubt(channel) == "hold"
        (hold if to_hold else resend).append(action_id)
    released = rt.store.release_claims(resend)
    if released:
        log.warning("re-queued actions left in flight by a stopped run", count=released)
    if hold:
        at = now or wall_now

        def event(action: Action) -> Event:
            return rt.event("in_doubt", rt.store.case(action.case_id), at, channel=action.channel, step=action.step,
                            action_id=action.id, data={
                                "key": action.key, "action": action.kind.value,
                                "reason": "left in flight by a stopped run; it may have gone out, and the channel "
                                          "cannot recognise a re-send (in_doubt = \"hold\")"})

        held = rt.store.hold_in_doubt(hold, at, event)
        log.warning("actions left in flight are in doubt: see `dunning in-doubt`", count=held)
    return released
