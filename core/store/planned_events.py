"""Planning's events from templates: events alike but for their case, encoded and hashed in one tight loop.

Planning writes the same few events for many cases: a ``skipped`` event per
action of a channel that is not enabled, an ``approval_requested``, a
``steps_missed``. Alike in everything but the case, whose id is in the
``case_id`` column and in the action's key inside ``data`` (``"<case>:<key
tail>"``). An ``EventTemplate`` is such an event with the case left out.

Per batch, each template is encoded once into the canonical texts the
column keeps and the hash covers (``dunning.evidence``), with slots left
for the case id, the seq and the previous hash; per event only those are
filled in and hashed (``chain_rows``). Each event's row is bound as five
values (seq, case, data, hash, template number) beside a small table of the
columns a template's events share (``insert_sql``). The texts are the
encoder's own output for the whole event, cut at markers, so the digests are
exactly those ``evidence.link_hash`` gives (tests/core/test_planned_events.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

import attrs

from dunning import event_codec, evidence
from dunning.models import Event

# Markers standing for the case id, the data and the seq while a template is
# encoded: plain ASCII, so the encoder writes them as they are.
_CASE, _DATA, _SEQ = "@@dunning:case@@", "@@dunning:data@@", "@@dunning:seq@@"


@attrs.frozen(eq=False)  # shared as it is by the cases alike: compared (and hashed) as the one object it is
class EventTemplate:
    """An event planning writes for each case alike, but for the case (its ``at`` is the run's moment)."""

    kind: str
    stage: str | None
    dpd: int | None
    channel: str | None
    step: str | None
    data: dict[str, Any]  # the event's data but for the key
    # The action's key is "<case id>:<key_tail>" and goes in data as "key"; None: no key.
    key_tail: str | None = None

    def event(self, case_id: int, at: dt.datetime) -> Event:
        """The event for one case, as planning case by case builds it."""
        data = {"key": f"{case_id}:{self.key_tail}", **self.data} if self.key_tail is not None else dict(self.data)
        return Event(kind=self.kind, at=at, case_id=case_id, stage=self.stage, dpd=self.dpd, channel=self.channel,
                     step=self.step, data=data)


@attrs.frozen
class _Compiled:
    """A template's texts for one batch: its %-formats, each filled in with the case id (twice in the body
    when the data holds it: in ``case_id`` and in the key) and the seq, after the previous hash."""

    number: int
    data: str  # the data text: a %-format of the case id, or the text itself (``keyed`` false)
    keyed: bool
    body: str  # prev hash, case id, [case id again,] seq


def _compile(number: int, template: EventTemplate, at_text: str, recorded_text: str) -> _Compiled | None:
    """The texts of ``template``'s events at this moment; None if a marker could not be placed (then the
    events are appended the plain way)."""
    keyed = template.key_tail is not None
    data = {"key": f"{_CASE}:{template.key_tail}", **template.data} if keyed else dict(template.data)
    data_text = evidence.canonical_text(data)
    if data_text.count(_CASE) != int(keyed) or _DATA in data_text or _SEQ in data_text:
        return None
    fields = {"seq": _SEQ, "at": at_text, "recorded_at": recorded_text, "case_id": _CASE, "kind": template.kind,
              "stage": template.stage, "dpd": template.dpd, "channel": template.channel, "step": template.step,
              "action_id": None, "data": _DATA}
    assert set(fields) == set(evidence.HASHED_FIELDS), "a template fills in every hashed field"
    text = evidence.canonical_text(fields)
    slots = [f'"{_CASE}"', f'"{_DATA}"', f'"{_SEQ}"']
    if [text.count(slot) for slot in slots] != [1, 1, 1] or text.count("@@dunning:") != 3:
        return None
    positions = [text.index(slot) for slot in slots]
    if positions != sorted(positions):  # the encoder sorts keys: case_id < data < seq
        return None
    data_format = data_text.replace("%", "%%").replace(_CASE, "%s")
    body = (text.replace("%", "%%").replace(slots[0], "%s").replace(slots[1], data_format)
            .replace(slots[2], "%s"))
    return _Compiled(number, data_format if keyed else data_text, keyed, "%s" + body)


class Compiled:
    """The batch's templates compiled; those that would not compile are in ``plain``."""

    def __init__(self, templates: Iterable[EventTemplate], at_text: str, recorded_text: str):
        self.by_template: dict[EventTemplate, _Compiled] = {}
        self.plain: set[EventTemplate] = set()
        for template in templates:
            if template in self.by_template or template in self.plain:
                continue
            compiled = _compile(len(self.by_template), template, at_text, recorded_text)
            if compiled is None:
                self.plain.add(template)
            else:
                self.by_template[template] = compiled


# What event_codec keeps for a hash and for the data text: while these are the digest's bytes and the text
# itself, ``chain_rows`` takes them as they come rather than calling the codec per event.
_HASH_IS_DIGEST = event_codec.encode_hash("0f" * 32) == bytes.fromhex("0f" * 32)
_DATA_IS_TEXT = event_codec.encode_data('{"a":1}', 1, "s", "c") == '{"a":1}'


def chain_rows(seq: int, prev: str, planned: Iterable[tuple[int, Sequence[EventTemplate]]], compiled: Compiled,
               ) -> tuple[int, str, list[Any], list[tuple[Any, ...]]]:
    """Number, encode and hash the events of ``planned`` ((case id, its templates), in order) after ``seq``/
    ``prev``: the last seq and hash, the insert's flat parameters (``ROW_WIDTH`` per event) and one link per
    event, (seq, template, case id, prev_hash, hash), in order. Every template must be compiled.

    The loop only fills in texts and hashes, appending to one list per column; the rows are put together
    from the columns afterwards, by slicing (in C)."""
    sha256 = hashlib.sha256
    by_template = compiled.by_template
    # Per sequence of templates (a plan's), its compiled entries, looked up once.
    entries_of: dict[int, list[tuple[EventTemplate, _Compiled]]] = {}
    case_ids: list[int] = []
    templates_used: list[EventTemplate] = []
    numbers: list[int] = []
    datas: list[str] = []
    digests: list[str] = [prev]  # the hash before each event, then each event's
    blobs: list[bytes] = []
    first = seq + 1
    for case_id, templates in planned:
        entries = entries_of.get(id(templates))
        if entries is None:
            entries = entries_of[id(templates)] = [(template, by_template[template]) for template in templates]
        case_text = int.__repr__(case_id)
        for template, entry in entries:
            seq += 1
            if entry.keyed:
                data = entry.data % case_text
                hashed = sha256((entry.body % (prev, case_text, case_text, seq)).encode())
            else:
                data = entry.data
                hashed = sha256((entry.body % (prev, case_text, seq)).encode())
            prev = hashed.hexdigest()
            digests.append(prev)
            blobs.append(hashed.digest())
            datas.append(data)
            case_ids.append(case_id)
            templates_used.append(template)
            numbers.append(entry.number)
    count = len(datas)
    seqs = range(first, first + count)
    if not (_HASH_IS_DIGEST and _DATA_IS_TEXT):
        datas = [event_codec.encode_data(data, case_id, template.step, template.channel)
                 for data, case_id, template in zip(datas, case_ids, templates_used, strict=True)]
        blobs = [event_codec.encode_hash(digest) for digest in digests[1:]]
    params: list[Any] = [None] * (ROW_WIDTH * count)
    params[0::ROW_WIDTH], params[1::ROW_WIDTH], params[2::ROW_WIDTH] = seqs, case_ids, datas
    params[3::ROW_WIDTH], params[4::ROW_WIDTH] = blobs, numbers
    links = list(zip(seqs, templates_used, case_ids, digests[:-1], digests[1:], strict=True))
    return seq, prev, params, links


# The columns a template's events share, bound once per batch: (number, at, recorded_at, kind, stage,
# dpd, channel, step, prev_hash as stored).
TEMPLATE_WIDTH = 9
ROW_WIDTH = 5
_INSERT = (
    "WITH t(n, at, recorded_at, kind, stage, dpd, channel, step, prev_hash) AS (VALUES {table}) "
    "INSERT INTO events (seq, at, recorded_at, case_id, kind, stage, dpd, channel, step, action_id, data, "
    "prev_hash, hash) "
    "SELECT r.column1, t.at, t.recorded_at, r.column2, t.kind, t.stage, t.dpd, t.channel, t.step, NULL, "
    "r.column3, t.prev_hash, r.column4 FROM (VALUES {rows}) AS r CROSS JOIN t "
    "WHERE t.n = r.column5 AND r.column1 IS NOT NULL"
)
# What the prev_hash column keeps for an event linked to the one before it (dunning.event_codec): the same
# for every event, so it is bound once per template.
_DERIVED_PREV = event_codec.stored_row(1, "", "", None, "", None, None, None, None, None, "{}", evidence.GENESIS)[11]


def template_params(compiled: Compiled, at_text: str, recorded_text: str) -> list[tuple[Any, ...]]:
    """The shared columns of each compiled template, as rows of ``TEMPLATE_WIDTH`` values."""
    return [(entry.number, at_text, recorded_text, template.kind, template.stage, template.dpd, template.channel,
             template.step, _DERIVED_PREV) for template, entry in compiled.by_template.items()]


def insert_sql() -> str:
    """The insert, ``{table}`` (``template_params``) and ``{rows}`` to be shaped (``bulk._shaped_sql``)."""
    return _INSERT
