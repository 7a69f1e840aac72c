"""How far each ``record_event`` mirror has taken the evidence log."""

from __future__ import annotations

from dunning.calendar import to_text, utc_now
from dunning.store.connection import StoreConnection


class MirrorCursors(StoreConnection):
    """The store's part that keeps each mirror's cursor."""

    def mirror_cursors(self) -> dict[str, int]:
        """Each record_event mirror's cursor: the last seq it took without raising."""
        return {plugin: seq for plugin, seq in self.conn.execute("SELECT plugin, seq FROM mirror_cursors")}

    def set_mirror_cursor(self, plugin: str, seq: int) -> None:
        with self.transaction():
            self.conn.execute(
                "INSERT INTO mirror_cursors (plugin, seq, updated_at) VALUES (?, ?, ?) "
                # Never backwards: another dispatcher may have handed the mirror more meanwhile.
                # The table named: a bare `seq` is ambiguous to PostgreSQL beside excluded.seq.
                "ON CONFLICT (plugin) DO UPDATE SET seq = max(mirror_cursors.seq, excluded.seq), "
                "updated_at = excluded.updated_at",
                [plugin, seq, to_text(utc_now())])
