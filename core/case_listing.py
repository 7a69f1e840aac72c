"""``cases list`` at a million cases: plain rows in, one JSON line or table row out, no object per case.

The store reads a page of cases in one query, with each case's debtor's name, what is overdue and not yet
due and its priority facts (``Store.case_listing_pages``). Here each row becomes a record: a tuple of the
values ``cli_records.case_fields`` gives, in its order (``FIELDS``), worked out the same way:

- days past due and the risk class depend on a few dates and counts that most cases share, so each is
  worked out once per distinct set of them (``risk_class`` on a small ``Case``) and looked up after;
- the priority is ``priority.score``'s sum, from the balance, the broken promises and the facts' weights.

``encode`` writes a record as ``json.JSONEncoder(ensure_ascii=False).encode`` writes the dict: the same
bytes (tests/core/test_case_listing.py checks it), several times faster.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterator
from typing import Any, TypeVar

from dunning import money
from dunning.compliance.risk import risk_class
from dunning.models import Case
from dunning.priority import WEIGHTS
from dunning.store.listings import LISTING_FACTS

# The keys of a record, as ``case_fields`` orders them.
FIELDS = ("id", "debtor_id", "debtor_name", "stage", "status", "balance", "balance_minor", "overdue",
          "overdue_minor", "not_yet_due", "not_yet_due_minor", "currency", "creditor_reference", "dpd",
          "oldest_due_on", "next_action_on", "broken_promises", "risk", "signals", "account_locked", "opened_on",
          "resolved_on", "priority", "strategy")

Record = tuple[Any, ...]
# The two digits after the point, by value: a list index costs less than formatting them each time.
_CENTS = tuple(f"{n:02d}" for n in range(100))

# JSON's own string escaper (the C one where there is one), as JSONEncoder(ensure_ascii=False) uses it.
_quote = json.encoder.encode_basestring  # type: ignore[attr-defined]
# What the priority facts add to the score (priority.score's sum), for each set of ``LISTING_FACTS``' bits.
_FACTS_WEIGHT = tuple(sum((weight for name, weight in WEIGHTS.items() if bits & LISTING_FACTS[name]), 0.0)
                      for bits in range(2 ** len(LISTING_FACTS)))


# How many worked-out values a listing keeps to re-use, at most: the memory stays bounded, whatever the portfolio.
JUDGED_KEPT = 65_536  # open cases' (days past due, risk), by their dates and counts
SIGNALS_KEPT = 4_096  # signals as stored -> as a JSON list's items

V = TypeVar("V")


def _kept(cache: dict[Any, V], key: Any, value: V, limit: int) -> V:
    """``value``, kept in ``cache`` under ``key``; a full cache is emptied first (called on a miss only)."""
    if len(cache) >= limit:
        cache.clear()
    cache[key] = value
    return value


def _date(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def records(pages: Iterator[list[tuple[Any, ...]]], today: dt.date) -> Iterator[Record]:
    """Records from ``Store.case_listing_pages``' rows (``LISTING_COLUMNS``, name, overdue, not yet due, the
    priority facts' bits)."""
    formats: dict[str, Any] = {}  # currency -> its amounts' formatter
    judged: dict[tuple[Any, ...], tuple[int | None, str]] = {}  # open case's dates and counts -> (dpd, risk)
    for page in pages:
        for (case_id, debtor_id, currency, stage, status, balance, anchor, next_on, broken, locked, resolved,
             contacted, paid_on, signals, reference, opened, strategy, name, overdue, later, facts) in page:
            dpd: int | None = None
            risk: str | None = None
            if status == "open":
                key = (anchor, contacted, paid_on, signals, broken)
                known = judged.get(key)
                if known is None:
                    known = _kept(judged, key, _judge(key, today), JUDGED_KEPT)
                dpd, risk = known
            fmt = formats.get(currency)
            if fmt is None:
                fmt = formats[currency] = _formatter(currency)
            score = math.log10(1 + balance) * 10 + broken * 5 + _FACTS_WEIGHT[facts]
            yield (case_id, debtor_id, name, stage, status, fmt(balance), balance,
                   fmt(overdue), overdue, fmt(later), later, currency, reference, dpd,
                   anchor or None, next_on or None, broken, risk, tuple(signals.split(",")) if signals else (),
                   bool(locked), opened or None, resolved or None, round(score, 3), strategy)


def _formatter(currency: str) -> Any:
    """``money.format_minor`` for one currency, its exponent looked up once (the same text)."""
    exp = money.exponent(currency)
    if exp != 2:
        return lambda minor: money.format_minor(minor, currency)
    cents = _CENTS
    return lambda minor: f"{minor // 100}.{cents[minor % 100]}" if minor >= 0 else money.format_minor(minor, currency)


def _judge(key: tuple[Any, ...], today: dt.date) -> tuple[int | None, str]:
    """(days past due, risk class) of an open case with these (anchor, last contact, last payment, signals,
    broken promises)."""
    anchor, contacted, paid_on, signals, broken = key
    case = Case(id=0, debtor_id="", currency="EUR", anchor_due_on=_date(anchor), last_contact_on=_date(contacted),
                last_payment_on=_date(paid_on), signals=tuple(signals.split(",")) if signals else (),
                broken_promises=broken)
    return ((today - case.anchor_due_on).days if case.anchor_due_on else None), risk_class(case, today).value


def as_dict(record: Record) -> dict[str, Any]:
    """The record as ``case_fields`` gives it (for the indented JSON of a short listing)."""
    data = dict(zip(FIELDS, record, strict=True))
    data["signals"] = list(data["signals"])
    return data


def encode(r: Record) -> str:
    """One record as compact JSON, byte for byte what the JSON encoder makes of ``as_dict(r)``."""
    (case_id, debtor_id, name, stage, status, balance_text, balance, overdue_text, overdue, later_text, later,
     currency, reference, dpd, oldest, next_on, broken, risk, signals, locked, opened, resolved, priority,
     strategy) = r
    q = _quote
    # Integers print as the encoder prints them (int.__repr__), the priority as float.__repr__; the amounts'
    # texts and the dates are digits, "-" and "." only; everything else is quoted by JSON's own escaper.
    return (f'{{"id": {case_id}, "debtor_id": {q(debtor_id)}, '
            f'"debtor_name": {"null" if name is None else q(name)}, "stage": {q(stage)}, "status": {q(status)}, '
            f'"balance": "{balance_text}", "balance_minor": {balance}, "overdue": "{overdue_text}", '
            f'"overdue_minor": {overdue}, "not_yet_due": "{later_text}", "not_yet_due_minor": {later}, '
            f'"currency": {q(currency)}, '
            f'"creditor_reference": {"null" if reference is None else q(reference)}, '
            f'"dpd": {"null" if dpd is None else dpd}, '
            f'"oldest_due_on": {"null" if oldest is None else q(oldest)}, '
            f'"next_action_on": {"null" if next_on is None else q(next_on)}, "broken_promises": {broken}, '
            f'"risk": {"null" if risk is None else q(risk)}, '
            f'"signals": [{", ".join(map(q, signals))}], "account_locked": {"true" if locked else "false"}, '
            f'"opened_on": {"null" if opened is None else q(opened)}, '
            f'"resolved_on": {"null" if resolved is None else q(resolved)}, "priority": {priority!r}, '
            f'"strategy": {"null" if strategy is None else q(strategy)}}}')


def json_lines(pages: Iterator[list[tuple[Any, ...]]], today: dt.date) -> Iterator[str]:
    """``encode(record)`` of each of ``records(pages, today)``, the same bytes, written straight from the store's
    row: no record between, and what many cases share (days past due and risk, the signals, an amount's
    formatter) worked out once."""
    q = _quote
    log10 = math.log10
    weights = _FACTS_WEIGHT
    formats: dict[str, Any] = {}  # currency -> its amounts' formatter
    judged: dict[tuple[Any, ...], tuple[str, str]] = {}  # open case's dates and counts -> (dpd, risk) as JSON
    listed: dict[str, str] = {}  # signals as stored -> as a JSON list's items
    for page in pages:
        for (case_id, debtor_id, currency, stage, status, balance, anchor, next_on, broken, locked, resolved,
             contacted, paid_on, signals, reference, opened, strategy, name, overdue, later, facts) in page:
            if status == "open":
                key = (anchor, contacted, paid_on, signals, broken)
                known = judged.get(key)
                if known is None:
                    dpd_on, risk_of = _judge(key, today)
                    known = _kept(judged, key, (("null" if dpd_on is None else str(dpd_on)), q(risk_of)), JUDGED_KEPT)
                dpd, risk = known
            else:
                dpd = risk = "null"
            fmt = formats.get(currency)
            if fmt is None:
                fmt = formats[currency] = _formatter(currency)
            items = listed.get(signals) if signals else ""
            if items is None:
                items = _kept(listed, signals, ", ".join(map(q, signals.split(","))), SIGNALS_KEPT)
            score = log10(1 + balance) * 10 + broken * 5 + weights[facts]
            # As encode writes it (see there).
            yield (f'{{"id": {case_id}, "debtor_id": {q(debtor_id)}, '
                   f'"debtor_name": {"null" if name is None else q(name)}, "stage": {q(stage)}, '
                   f'"status": {q(status)}, "balance": "{fmt(balance)}", "balance_minor": {balance}, '
                   f'"overdue": "{fmt(overdue)}", "overdue_minor": {overdue}, "not_yet_due": "{fmt(later)}", '
                   f'"not_yet_due_minor": {later}, "currency": {q(currency)}, '
                   f'"creditor_reference": {"null" if reference is None else q(reference)}, "dpd": {dpd}, '
                   f'"oldest_due_on": {q(anchor) if anchor else "null"}, '
                   f'"next_action_on": {q(next_on) if next_on else "null"}, "broken_promises": {broken}, '
                   f'"risk": {risk}, "signals": [{items}], "account_locked": {"true" if locked else "false"}, '
                   f'"opened_on": {q(opened) if opened else "null"}, '
                   f'"resolved_on": {q(resolved) if resolved else "null"}, "priority": {round(score, 3)!r}, '
                   f'"strategy": {"null" if strategy is None else q(strategy)}}}')
