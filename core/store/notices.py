"""Notices to staff: the worklist of those sent, and who handled each."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from dunning import event_codec
from dunning.calendar import from_text
from dunning.models import Action, ActionKind, ActionStatus
from dunning.store.connection import StoreConnection
from dunning.store.rows import _ACTION_COLUMNS, _action


class Notices(StoreConnection):
    """The store's part that reads the notices to staff."""

    def notices(self, role: str | None = None) -> list[Action]:
        """Notices to staff that went out (or failed to: they are on the worklist all the same), oldest first."""
        sql = (f"SELECT {_ACTION_COLUMNS} FROM actions WHERE kind = ? AND status IN (?, ?)"
               + (" AND target = ?" if role is not None else "") + " ORDER BY id")
        params: list[Any] = [ActionKind.NOTICE.value, ActionStatus.SENT.value, ActionStatus.FAILED.value]
        return [_action(r) for r in self.conn.execute(sql, params + ([role] if role is not None else []))]

    def notices_handled(self) -> dict[int, tuple[str, dt.datetime]]:
        """Who marked each notice handled, and when: action id -> (by, at)."""
        handled: dict[int, tuple[str, dt.datetime]] = {}
        for action_id, at, data, case_id, step, channel in self.conn.execute(
                "SELECT action_id, at, data, case_id, step, channel FROM events WHERE kind = 'notice_handled' "
                "ORDER BY seq"):
            facts = json.loads(event_codec.decode_data(data, case_id, step, channel))
            handled.setdefault(action_id, (facts.get("by", ""), from_text(at)))
        return handled
