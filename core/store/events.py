"""The evidence log: events appended with their hash chain, read back, verified and checkpointed."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator
from typing import Any

from dunning import event_codec, evidence
from dunning.calendar import from_text, to_text, utc_now
from dunning.checkpoints import Checkpoint
from dunning.models import Event
from dunning.store.bulk import _execute_rows
from dunning.store.connection import StoreConnection


_INSERT_EVENTS = (
    "INSERT INTO events (seq, at, recorded_at, case_id, kind, stage, dpd, channel, step, action_id, data, "
    "prev_hash, hash) SELECT * FROM (VALUES {rows}) WHERE column1 IS NOT NULL"
)


class EventLog(StoreConnection):
    """The store's part that appends to the events table and reads it."""

    def append_events(self, events: Iterable[Event]) -> list[Event]:
        """Append to the log inside the current transaction, chaining hashes."""
        start = len(self._pending_events)
        self._append_events(events)
        return self._pending_events[start:]

    def _append_events(self, events: Iterable[Event]) -> None:
        """``append_events`` without building the appended Events (see _StampedEvents)."""
        if not self.conn.in_transaction:
            raise RuntimeError("append_events needs a transaction")
        link = self._last_link
        if link is None:
            # Read inside the write transaction: another connection (another
            # dispatcher, or planning's writer thread) may have appended since.
            link = self._last_link = self.chain_head()
        seq, prev = link
        sources = list(events)
        rows: list[tuple[Any, ...]] = []
        stored: list[tuple[Any, ...]] = []  # as the table keeps them (dunning.event_codec)
        recorded_at = utc_now().replace(microsecond=0)
        recorded_text = to_text(recorded_at)
        # A batch's events mostly share one business moment: format each once.
        at_texts: dict[dt.datetime, str] = {}
        for event in sources:
            seq += 1
            at_text = at_texts.get(event.at)
            if at_text is None:
                at_text = at_texts[event.at] = to_text(event.at)
            # One encoding of ``data`` serves the column and the hash.
            data_text = evidence.canonical_text(event.data if type(event.data) is dict else dict(event.data))
            digest = evidence.link_hash(prev, seq, event, at_text, recorded_text, data_text)
            rows.append((seq, at_text, recorded_text, event.case_id, event.kind, event.stage, event.dpd, event.channel,
                         event.step, event.action_id, data_text, prev, digest))
            stored.append(event_codec.stored_row(seq, at_text, recorded_text, event.case_id, event.kind, event.stage,
                                                 event.dpd, event.channel, event.step, event.action_id, data_text,
                                                 digest))
            prev = digest
        if stored:
            _execute_rows(self.conn, _INSERT_EVENTS, stored, 13)
        self._last_link = (seq, prev)
        self._pending_events.add(sources, rows, recorded_at)

    def events(
        self, *, case_id: int | None = None, kind: str | None = None, limit: int | None = None, after_seq: int = 0
    ) -> list[Event]:
        where: list[str] = ["seq > ?"]
        params: list[Any] = [after_seq]
        if case_id is not None:
            where.append("case_id = ?")
            params.append(case_id)
        if kind is not None:
            where.append("kind = ?")
            params.append(kind)
        sql = (
            "SELECT seq, at, case_id, kind, stage, dpd, channel, step, action_id, data, "
            f"{event_codec.hash_columns_sql(self.dialect, 'events')}, recorded_at "
            f"FROM events WHERE {' AND '.join(where)} ORDER BY seq"
        )
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [
            Event(seq=r[0], at=from_text(r[1]), case_id=r[2], kind=r[3], stage=r[4], dpd=r[5], channel=r[6],
                  step=r[7], action_id=r[8],
                  data=event_codec.data_of(r[3], r[9], r[2], r[7], r[6]),
                  prev_hash=r[10], hash=r[11],
                  recorded_at=from_text(r[12]))
            for r in self.conn.execute(sql, params)
        ]

    def last_seq(self) -> int:
        row = self.conn.execute("SELECT max(seq) FROM events").fetchone()
        return row[0] or 0

    def event_rows_for_verify(self) -> Iterator[dict[str, Any]]:
        cursor = self.conn.execute(
            "SELECT seq, at, recorded_at, case_id, kind, stage, dpd, channel, step, action_id, data, prev_hash, hash "
            "FROM events ORDER BY seq"
        )
        names = [d[0] for d in cursor.description]
        before: str | None = None
        for row in cursor:
            record = dict(zip(names, row, strict=False))
            if event_codec.is_stub(record["kind"], record["data"]):
                record["data"], record["archived"] = {}, True  # the event itself is in an archive file
            else:
                record["data"] = json.loads(
                    event_codec.decode_data(record["data"], record["case_id"], record["step"], record["channel"]))
            if before is None and record["seq"] > 1:
                before = self.event_hash(record["seq"] - 1)  # a walk that starts part-way along the chain
            record["prev_hash"] = event_codec.decode_prev_hash(record["prev_hash"], before)
            record["hash"] = before = event_codec.decode_hash(record["hash"])
            yield record

    def event_links(self, after_seq: int = 0) -> Iterator[tuple[Any, ...]]:
        """Each event after ``after_seq`` as ``dunning.chain_walk.LINK_COLUMNS``, in seq order, streamed.

        The cursor itself, rows as stored (the walk reads each form): ``shared`` the JSON array of
        ``chain_walk.SHARED_FIELDS``, ``data`` the canonical JSON text the hash covers, ``hash`` 32 bytes
        (hex text before m023) and ``prev_hash`` empty where it is derived from the event before
        (``dunning.event_codec``). Raises ``sqlite3.OperationalError`` on a text column holding a BLOB.
        """
        return self.conn.execute(
            "SELECT seq, json_array(at, recorded_at, kind, stage, channel, step), case_id, dpd, action_id, data, "
            "prev_hash, hash FROM events WHERE seq > ? ORDER BY seq", [after_seq])

    def event_hash(self, seq: int) -> str | None:
        row = self.conn.execute("SELECT hash FROM events WHERE seq = ?", [seq]).fetchone()
        return event_codec.decode_hash(row[0]) if row else None

    def chain_head(self) -> tuple[int, str]:
        """The last event's seq and hash (0 and the genesis hash for an empty log)."""
        row = self.conn.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
        return (row[0], event_codec.decode_hash(row[1]) or evidence.GENESIS) if row else (0, evidence.GENESIS)

    def add_checkpoint(self, checkpoint: Checkpoint) -> None:
        with self.transaction():
            self.conn.execute(
                "INSERT INTO checkpoints (seq, hash, signed_at, public_key, signature) VALUES (?, ?, ?, ?, ?)",
                [checkpoint.seq, checkpoint.hash, checkpoint.signed_at, checkpoint.public_key, checkpoint.signature])

    def latest_checkpoint(self) -> Checkpoint | None:
        row = self.conn.execute(
            "SELECT seq, hash, signed_at, public_key, signature FROM checkpoints ORDER BY id DESC LIMIT 1").fetchone()
        return Checkpoint(*row) if row else None

    def checkpoints(self) -> list[Checkpoint]:
        return [Checkpoint(*row) for row in self.conn.execute(
            "SELECT seq, hash, signed_at, public_key, signature FROM checkpoints ORDER BY id")]
