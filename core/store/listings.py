"""Listings read a page at a time: cases, events and actions in keyset-paged pages, and what a page of cases
needs (debtors' names, obligations, the priority facts) in a few ``IN (...)`` queries per page, not per case.

Every query here is served by an index (tests/core/test_listing_plans.py checks ``EXPLAIN QUERY PLAN``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Self, TypeVar

from dunning.calendar import to_text
from dunning.models import Action, Case, Event, Obligation
from dunning.priority import CaseFacts
from dunning.store.events import EventLog
from dunning.store.read_ahead import ReadAhead
from dunning.store.rows import _ACTION_COLUMNS, _CASE_COLUMNS, _action, _case, _case_filter, _date

# Rows per page: big enough that the per-page queries cost little, small enough that memory stays flat.
PAGE = 1_000

_OBLIGATION_COLUMNS = ("case_id, reference, amount, currency, issued_on, due_on, paid, id, closed_reason, closed_on, "
                       "disputed_on")
_PHONE_KINDS = ("mobile", "work", "home")
Page = TypeVar("Page")


# What ``cases list`` prints of a case, in ``case_listing_pages``' rows (the computed columns follow).
LISTING_COLUMNS = ("id", "debtor_id", "currency", "stage", "status", "balance", "anchor_due_on", "next_action_on",
                   "broken_promises", "account_locked", "resolved_on", "last_contact_on", "last_payment_on",
                   "signals", "creditor_reference", "opened_on", "strategy")


# The priority facts in the last column of ``case_listing_pages``' rows, a bit each (priority.WEIGHTS' order).
LISTING_FACTS = {"first_instalment_default": 1, "promise_due_today": 2, "partial_payer": 4, "lost_contact": 8}


def _numbered(sql: str, count: int) -> str:
    """``_case_filter``'s ``?`` as named parameters ``:p0``, ``:p1``, ... (the listing's query names the others)."""
    for i in range(count):
        sql = sql.replace("?", f":p{i}", 1)
    return sql


def _marks(values: Sequence[Any]) -> str:
    return ", ".join("?" * len(values))


def _obligation(r: Sequence[Any]) -> Obligation:
    return Obligation(case_id=r[0], reference=r[1], amount=r[2], currency=r[3], issued_on=_date(r[4]),
                      due_on=_date(r[5]) or dt.date.min, paid=r[6], id=r[7], closed_reason=r[8],
                      closed_on=_date(r[9]), disputed_on=_date(r[10]))


def case_facts(case: Case, first: tuple[int, dt.date] | None, paid_any: bool, promise_today: bool,
               phones: int, bad_phones: int, today: dt.date) -> CaseFacts:
    """The priority facts of ``case`` from what the store read (``first``: its earliest obligation's paid and
    due date)."""
    return CaseFacts(
        first_instalment_default=bool(first is not None and first[0] == 0 and not paid_any and case.balance > 0
                                      and first[1] < today),
        promise_due_today=promise_today,
        partial_payer=paid_any and case.balance > 0,
        lost_contact=phones == 0 or phones == bad_phones,
    )


class Listings(EventLog):
    """The store's part that reads listings page by page."""

    def read_ahead(self, read: Callable[[Self], Iterator[Page]]) -> Iterator[Page]:
        """``read(store)``'s pages, read on a second connection and thread while the caller writes out each one
        (``store.read_ahead``); on this connection when a second one would not see the same data (``:memory:``,
        or inside a transaction)."""
        file = self._database_file()
        if file is None or self.conn.in_transaction:
            yield from read(self)
            return
        synchronous = self.synchronous
        yield from ReadAhead(lambda: type(self)._another_connection(file, synchronous), read)

    def case_listing_pages(self, today: dt.date, zone: dt.tzinfo = dt.UTC, *, stage: str | None = None,
                           status: str | None = None, strategy: str | None = None, limit: int | None = None,
                           page: int = PAGE) -> Iterator[list[tuple[Any, ...]]]:
        """``cases list`` as rows, a page at a time, each page ONE query: the case's columns the listing prints
        (``LISTING_COLUMNS``), its debtor's name, what is overdue and not yet due ``today`` (``owed_figures_of``'s
        rule) and the priority facts (``priority_facts_of``'s, as ``LISTING_FACTS``' bits), each looked up per case
        on its own index."""
        where, params = _case_filter(stage, status, strategy)
        day = today.isoformat()
        start = to_text(dt.datetime.combine(today, dt.time(), zone))
        end = to_text(dt.datetime.combine(today + dt.timedelta(days=1), dt.time(), zone))
        open_item = "o.closed_reason IS NULL AND o.disputed_on IS NULL AND o.amount > o.paid"
        sql = (
            f"SELECT {', '.join('c.' + c for c in LISTING_COLUMNS)}, d.name, "
            f"(SELECT coalesce(sum(o.amount - o.paid), 0) FROM obligations o WHERE o.case_id = c.id AND {open_item} "
            "AND o.due_on < :day), "
            f"(SELECT coalesce(sum(o.amount - o.paid), 0) FROM obligations o WHERE o.case_id = c.id AND {open_item} "
            "AND o.due_on >= :day), "
            # The priority facts (priority_facts_of's) as the bits of LISTING_FACTS, each subquery run at most
            # once: a payment decides between "partial payer" and "first instalment in default" (the first
            # obligation, by due date then id, closed ones too, unpaid and past due), looked up only then.
            "CASE WHEN EXISTS (SELECT 1 FROM payments p WHERE p.case_id = c.id AND p.reversed_at IS NULL) "
            "THEN (CASE WHEN c.balance > 0 THEN 4 ELSE 0 END) "
            "WHEN c.balance > 0 AND (SELECT o.paid = 0 AND o.due_on < :day FROM obligations o WHERE o.case_id = c.id "
            "ORDER BY o.due_on, o.id LIMIT 1) THEN 1 ELSE 0 END "
            # "+status", "+due_at": on promises_case, as in priority_facts_of.
            "| CASE WHEN EXISTS (SELECT 1 FROM promises m WHERE m.case_id = c.id AND +m.status = 'pending' "
            "AND +m.due_at >= :start AND +m.due_at < :end) THEN 2 ELSE 0 END "
            # Lost contact: no active phone number of the debtor that is not marked bad ("+kind": one search of
            # the debtor's few contacts on the (debtor_id, kind, ...) index, not one per kind).
            "| CASE WHEN EXISTS (SELECT 1 FROM contacts k WHERE k.debtor_id = c.debtor_id AND k.role = 'debtor' "
            f"AND k.active = 1 AND +k.kind IN ({', '.join(repr(k) for k in _PHONE_KINDS)}) AND k.bad = 0) "
            "THEN 0 ELSE 8 END "
            "FROM cases c LEFT JOIN debtors d ON d.id = c.debtor_id "
            f"WHERE {' AND '.join(['c.id > :last', *('c.' + w for w in where)])} ORDER BY c.id LIMIT :size"
        )
        named = {"day": day, "start": start, "end": end, **{f"p{i}": v for i, v in enumerate(params)}}
        sql = _numbered(sql, len(params))
        last, left = 0, limit
        while left is None or left > 0:
            size = page if left is None else min(page, left)
            found = self.conn.execute(sql, {**named, "last": last, "size": size}).fetchall()
            if not found:
                return
            yield found
            if len(found) < size:
                return
            last = found[-1][0]
            if left is not None:
                left -= len(found)

    def case_pages(self, *, stage: str | None = None, status: str | None = None, limit: int | None = None,
                   page: int = PAGE, strategy: str | None = None) -> Iterator[list[Case]]:
        """Cases by id, a page at a time (keyset paging on the primary key: each page is one index search;
        with ``strategy``, on index cases_strategy)."""
        where, params = _case_filter(stage, status, strategy)
        sql = f"SELECT {_CASE_COLUMNS} FROM cases WHERE {' AND '.join(['id > ?', *where])} ORDER BY id LIMIT ?"
        last, left = 0, limit
        while left is None or left > 0:
            size = page if left is None else min(page, left)
            found = [_case(r) for r in self.conn.execute(sql, [last, *params, size])]
            if not found:
                return
            yield found
            if len(found) < size:
                return
            last = found[-1].id or 0
            if left is not None:
                left -= len(found)

    def cases_by_id(self, case_ids: Sequence[int]) -> dict[int, Case]:
        return {r[0]: _case(r) for r in self.conn.execute(
            f"SELECT {_CASE_COLUMNS} FROM cases WHERE id IN ({_marks(case_ids)})", list(case_ids))}

    def debtor_names(self, debtor_ids: Iterable[str]) -> dict[str, str]:
        ids = sorted(set(debtor_ids))
        return dict(self.conn.execute(f"SELECT id, name FROM debtors WHERE id IN ({_marks(ids)})", ids).fetchall())

    def obligations_of(self, case_ids: Sequence[int]) -> dict[int, list[Obligation]]:
        """Each case's obligations, ordered as ``obligations`` orders them (due date, then id)."""
        found: dict[int, list[Obligation]] = {case_id: [] for case_id in case_ids}
        for r in self.conn.execute(f"SELECT {_OBLIGATION_COLUMNS} FROM obligations WHERE case_id IN "
                                   f"({_marks(case_ids)}) ORDER BY case_id, due_on, id", list(case_ids)):
            found[r[0]].append(_obligation(r))
        return found

    def owed_figures_of(self, case_ids: Sequence[int], today: dt.date) -> dict[int, tuple[int, int]]:
        """(overdue, not yet due) of each case ``today``, summed in SQL: ``dunning.owed``'s rule (an open item
        neither closed nor disputed is overdue from the day after its due date), without building an object per
        obligation. tests/core/test_listing_figures.py keeps the two in step."""
        day = today.isoformat()
        found = {case_id: (0, 0) for case_id in case_ids}
        for case_id, overdue, later in self.conn.execute(
                "SELECT case_id, "
                "coalesce(sum(CASE WHEN due_on < ? THEN amount - paid END), 0), "
                "coalesce(sum(CASE WHEN due_on >= ? THEN amount - paid END), 0) "
                f"FROM obligations WHERE case_id IN ({_marks(case_ids)}) AND closed_reason IS NULL "
                "AND disputed_on IS NULL AND amount > paid GROUP BY case_id", [day, day, *case_ids]):
            found[case_id] = (overdue, later)
        return found

    def first_obligations_of(self, case_ids: Sequence[int]) -> dict[int, tuple[int, dt.date]]:
        """(paid, due_on) of each case's first obligation (by due date, then id; closed ones too)."""
        return {r[0]: (r[1], _date(r[2]) or dt.date.min) for r in self.conn.execute(
            "SELECT case_id, paid, due_on FROM (SELECT case_id, paid, due_on, row_number() OVER "
            "(PARTITION BY case_id ORDER BY due_on, id) AS n FROM obligations "
            f"WHERE case_id IN ({_marks(case_ids)})) AS firsts WHERE n = 1", list(case_ids))}

    def priority_facts_of(self, cases: Sequence[Case], today: dt.date, zone: dt.tzinfo = dt.UTC,
                          obligations: dict[int, list[Obligation]] | None = None) -> dict[int, CaseFacts]:
        """``priority_facts`` for a page of cases, in four or five queries (``obligations`` when already read)."""
        if not cases:
            return {}
        ids = [c.id or 0 for c in cases]
        if obligations is None:
            first = self.first_obligations_of(ids)
        else:
            first = {case_id: (items[0].paid, items[0].due_on) for case_id, items in obligations.items() if items}
        paid = {r[0] for r in self.conn.execute(
            f"SELECT DISTINCT case_id FROM payments WHERE case_id IN ({_marks(ids)}) AND reversed_at IS NULL", ids)}
        start = dt.datetime.combine(today, dt.time(), zone)
        end = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(), zone)
        promised = {r[0] for r in self.conn.execute(
            # "+status", "+due_at": look the page's cases up on promises_case; by status and date instead,
            # SQLite would read every pending promise due from today on, for every page.
            f"SELECT DISTINCT case_id FROM promises WHERE case_id IN ({_marks(ids)}) AND +status = 'pending' "
            "AND +due_at >= ? AND +due_at < ?", [*ids, to_text(start), to_text(end)])}
        debtors = sorted({c.debtor_id for c in cases})
        phones = {r[0]: (r[1], r[2] or 0) for r in self.conn.execute(
            f"SELECT debtor_id, count(*), sum(bad) FROM contacts WHERE debtor_id IN ({_marks(debtors)}) "
            f"AND role = 'debtor' AND active = 1 AND kind IN ({_marks(_PHONE_KINDS)}) GROUP BY debtor_id",
            [*debtors, *_PHONE_KINDS])}
        return {
            c.id or 0: case_facts(c, first.get(c.id or 0), (c.id or 0) in paid, (c.id or 0) in promised,
                                  *phones.get(c.debtor_id, (0, 0)), today)
            for c in cases
        }

    def event_pages(self, *, case_id: int | None = None, kind: str | None = None, limit: int | None = None,
                    page: int = PAGE) -> Iterator[list[Event]]:
        """``events`` a page at a time, oldest first (keyset paging on seq, through ``events``)."""
        last, left = 0, limit
        while left is None or left > 0:
            size = page if left is None else min(page, left)
            found = self.events(case_id=case_id, kind=kind, limit=size, after_seq=last)
            if not found:
                return
            yield found
            if len(found) < size:
                return
            last = found[-1].seq or 0
            if left is not None:
                left -= len(found)

    def action_pages(self, statuses: Sequence[str], page: int = PAGE) -> Iterator[list[Action]]:
        """Actions in these statuses by id, a page at a time."""
        sql = (f"SELECT {_ACTION_COLUMNS} FROM actions WHERE status IN ({_marks(statuses)}) AND id > ? "
               "ORDER BY id LIMIT ?")
        last = 0
        while True:
            found = [_action(r) for r in self.conn.execute(sql, [*statuses, last, page])]
            if not found:
                return
            yield found
            if len(found) < page:
                return
            last = found[-1].id or 0
