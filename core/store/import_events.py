"""An import's evidence events as table rows: their data encoded and their hashes chained in one loop.

An import appends one ``case_opened`` event per case it opens and one
``obligation_added`` per obligation: a million-row file, a million and a
half events. Built as ``Event`` objects and appended one by one
(``EventLog._append_events``), each costs an object, a JSON encoding of its
data and a hash; here the data's canonical JSON comes from a fixed spelling
of its few keys (sorted, as ``evidence.canonical_text`` writes them, each
value through the same encoder), and the body each hash covers from
``evidence.body_template``, made once per kind. The rows and digests are
exactly those ``_append_events`` would write (tests/core/test_import_events.py
compares both).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from dunning import evidence, event_codec

# An import's event before it is numbered: (case_id, kind, stage, data as canonical JSON).
PlainEvent = tuple[int, str, str | None, str]

_scalar = evidence.json_scalar
# What the events table keeps as the prev_hash of an event linked to the one before it.
_DERIVED_PREV = event_codec.stored_row(1, "", "", None, "", None, None, None, None, None, "{}", evidence.GENESIS)[11]


def case_opened_data(debtor_id: Any, currency: Any) -> str:
    """``canonical_text({"debtor_id": debtor_id, "currency": currency})``."""
    return f'{{"currency":{_scalar(currency)},"debtor_id":{_scalar(debtor_id)}}}'


def obligation_added_data(reference: Any, amount: Any, currency: Any, due_on: Any) -> str:
    """``canonical_text({"reference": reference, "amount": amount, "currency": currency, "due_on": due_on})``."""
    return (f'{{"amount":{_scalar(amount)},"currency":{_scalar(currency)},"due_on":{_scalar(due_on)},'
            f'"reference":{_scalar(reference)}}}')


def chained_rows(seq: int, prev: str, events: Iterable[PlainEvent], at_text: str, recorded_text: str, *,
                 linked: list[tuple[Any, ...]] | None = None) -> tuple[int, str, list[tuple[Any, ...]]]:
    """The events numbered after ``seq`` and linked after the hash ``prev``.

    Returns the last seq and hash and the rows as the events table stores
    them (``event_codec.stored_row``); ``linked``, when given, receives them
    as ``_StampedEvents`` keeps them (seq first, prev_hash and hash as hex
    last). No action, dpd, channel or step: an import's events have none.
    """
    import hashlib  # here, not with every store: it loads OpenSSL

    templates: dict[tuple[str, str | None], str] = {}
    stored: list[tuple[Any, ...]] = []
    sha256 = hashlib.sha256
    for case_id, kind, stage, data_text in events:
        seq += 1
        template = templates.get((kind, stage))
        if template is None:
            template = templates[(kind, stage)] = evidence.body_template(at_text, recorded_text, kind, stage,
                                                                         None, None)
        # The slots in order: action_id, case_id, data, dpd, seq (``evidence.link_hash``).
        raw = sha256((prev + template % ("null", _scalar(case_id), data_text, "null", seq)).encode()).digest()
        digest = raw.hex()
        stored.append((seq, at_text, recorded_text, case_id, kind, stage, None, None, None, None,
                       event_codec.encode_data(data_text, case_id, None, None), _DERIVED_PREV, raw))
        if linked is not None:
            linked.append((seq, at_text, recorded_text, case_id, kind, stage, None, None, None, None, data_text, prev,
                           digest))
        prev = digest
    return seq, prev, stored
