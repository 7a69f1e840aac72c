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
from typing import Any

from dunning import money
from dunning.compliance.risk import risk_class
from dunning.models import Case
from dunning.priority import WEIGHTS

# The keys of a record, as ``case_fields`` orders them.
FIELDS = ("id", "debtor_id", "debtor_name", "stage", "status", "balance", "balance_minor", "overdue",
          "overdue_minor", "not_yet_due", "not_yet_due_minor", "currency", "creditor_reference", "dpd",
          "oldest_due_on", "next_action_on", "broken_promises", "risk", "signals", "account_locked", "opened_on",
          "resolved_on", "priority")

Record = tuple[Any, ...]

# JSON's own string escaper (the C one where there is one), as JSONEncoder(ensure_ascii=False) uses it.
_quote = json.encoder.encode_basestring  # type: ignore[attr-defined]
_FIRST_DEFAULT, _PROMISE_TODAY, _PARTIAL, _LOST = WEIGHTS.values()


def _date(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def records(pages: Iterator[list[tuple[Any, ...]]], today: dt.date) -> Iterator[Record]:
    """Records from ``Store.case_listing_pages``' rows (``LISTING_COLUMNS``, name, overdue, not yet due, first
    obligation in default, paid any, promise due today, lost contact)."""
    formats: dict[str, Any] = {}  # currency -> its amounts' formatter
    judged: dict[tuple[Any, ...], tuple[int | None, str]] = {}  # open case's dates and counts -> (dpd, risk)
    for page in pages:
        for (case_id, debtor_id, currency, stage, status, balance, anchor, next_on, broken, locked, resolved,
             contacted, paid_on, signals, reference, opened, name, overdue, later, first_default, paid_any,
             promised, lost) in page:
            dpd: int | None = None
            risk: str | None = None
            if status == "open":
                key = (anchor, contacted, paid_on, signals, broken)
                known = judged.get(key)
                if known is None:
                    if len(judged) >= 65_536:  # bound the memory, whatever the portfolio
                        judged.clear()
                    known = judged[key] = _judge(key, today)
                dpd, risk = known
            fmt = formats.get(currency)
            if fmt is None:
                fmt = formats[currency] = _formatter(currency)
            owes = balance > 0
            paid_any = bool(paid_any)
            score = math.log10(1 + balance) * 10 + broken * 5
            score += ((_FIRST_DEFAULT if first_default and not paid_any and owes else 0.0)
                      + (_PROMISE_TODAY if promised else 0.0) + (_PARTIAL if paid_any and owes else 0.0)
                      + (_LOST if lost else 0.0))
            yield (case_id, debtor_id, name, stage, status, fmt(balance), balance,
                   fmt(overdue), overdue, fmt(later), later, currency, reference, dpd,
                   anchor or None, next_on or None, broken, risk, tuple(signals.split(",")) if signals else (),
                   bool(locked), opened or None, resolved or None, round(score, 3))


def _formatter(currency: str) -> Any:
    """``money.format_minor`` for one currency, its exponent looked up once (the same text)."""
    exp = money.exponent(currency)
    if exp != 2:
        return lambda minor: money.format_minor(minor, currency)
    return lambda minor: f"{minor // 100}.{minor % 100:02d}" if minor >= 0 else money.format_minor(minor, currency)


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


def _text(value: str | None) -> str:
    return "null" if value is None else _quote(value)


def _number(value: int | None) -> str:
    return "null" if value is None else repr(value)


def encode(r: Record) -> str:
    """One record as compact JSON, byte for byte what the JSON encoder makes of ``as_dict(r)``."""
    signals = "[" + ", ".join(map(_quote, r[18])) + "]"
    return (f'{{"id": {r[0]!r}, "debtor_id": {_quote(r[1])}, "debtor_name": {_text(r[2])}, '
            f'"stage": {_quote(r[3])}, "status": {_quote(r[4])}, "balance": "{r[5]}", "balance_minor": {r[6]!r}, '
            f'"overdue": "{r[7]}", "overdue_minor": {r[8]!r}, "not_yet_due": "{r[9]}", '
            f'"not_yet_due_minor": {r[10]!r}, "currency": {_quote(r[11])}, "creditor_reference": {_text(r[12])}, '
            f'"dpd": {_number(r[13])}, "oldest_due_on": {_text(r[14])}, "next_action_on": {_text(r[15])}, '
            f'"broken_promises": {r[16]!r}, "risk": {_text(r[17])}, "signals": {signals}, '
            f'"account_locked": {"true" if r[19] else "false"}, "opened_on": {_text(r[20])}, '
            f'"resolved_on": {_text(r[21])}, "priority": {r[22]!r}}}')
