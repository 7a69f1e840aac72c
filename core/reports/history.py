"""A case's balance on any past day, rebuilt from its obligations and payments; what the events say about it.

The store keeps today's balance only. A report as of an earlier day, or a
roll from one month to the next, needs the balance as it stood then: the
obligations issued by that day less the payments made by then, applied to
the oldest due first as ``Store.add_payment`` applies them. Pure functions
over the store's plain rows (``dunning.store.reports``).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Iterator, Sequence

import attrs

from dunning import calendar
from dunning.reports.buckets import NOT_YET_DUE, PAID, Buckets
from dunning.store.reports import (
    AGENCY_PLACED,
    AGENCY_PLACEMENT_ENDED,
    CALL_LOGGED,
    CaseRow,
    FactRow,
    ObligationRow,
    PaymentRow,
)
from dunning.strategies import NO_STRATEGY


@functools.lru_cache(maxsize=65536)
def _minute_day(minute_text: str, zone: dt.tzinfo) -> dt.date:
    return calendar.local_date(calendar.from_text(minute_text + ":00Z"), zone)


def local_day(text: str, zone: dt.tzinfo) -> dt.date:
    """The business day of a stored UTC moment in ``zone``."""
    return _minute_day(text[:16], zone)


@functools.lru_cache(maxsize=262144)
def quarter_local(key: str, zone: dt.tzinfo) -> dt.datetime:
    """The local moment of a UTC quarter hour as the store groups them ('2026-03-02T09:15') in ``zone``."""
    day = dt.date.fromisoformat(key[:10])
    utc = dt.datetime(day.year, day.month, day.day, int(key[11:13]), int(key[14:] or 0), tzinfo=dt.UTC)
    return utc.astimezone(zone)


def day_start(day: dt.date, zone: dt.tzinfo) -> str:
    """The stored text of the first moment of ``day`` in ``zone``: moments before it are before that day."""
    return calendar.to_text(dt.datetime.combine(day, dt.time(), zone))


@attrs.frozen
class CaseBook:
    """One case with what its balance history needs. Obligations by due date; payments by moment."""

    id: int
    currency: str
    opened_on: dt.date
    status: str
    resolved_on: dt.date | None
    stage: str
    # (amount, due_on, counts_from, closed_on): an obligation counts from its issue date (or the case's opening
    # without one) until the books close it (never, if they have not).
    obligations: tuple[tuple[int, dt.date, dt.date, dt.date], ...]
    # (amount, moment as stored text, business day)
    payments: tuple[tuple[int, str, dt.date], ...]

    @property
    def placed(self) -> int:
        return sum(amount for amount, _, _, _ in self.obligations)

    def open_items(self, day: dt.date) -> list[tuple[dt.date, int]]:
        """(due date, amount still open) of each obligation at the end of ``day``."""
        paid = sum(amount for amount, _, paid_on in self.payments if paid_on <= day)
        items: list[tuple[dt.date, int]] = []
        for amount, due_on, counts_from, closed_on in self.obligations:  # oldest due first, as payments are applied
            if counts_from > day or closed_on <= day:
                continue
            if paid >= amount:
                paid -= amount
                continue
            items.append((due_on, amount - paid))
            paid = 0
        return items

    def balance_before(self, moment: str, day: dt.date) -> int:
        """The balance just before ``moment`` (on business day ``day``): payments made before it are off."""
        owed = sum(amount for amount, _, counts_from, closed_on in self.obligations if counts_from <= day < closed_on)
        return owed - sum(amount for amount, at, _ in self.payments if at < moment)

    def state_on(self, day: dt.date, buckets: Buckets) -> str | None:
        """The case's bucket at the end of ``day``, or how it ended; None before it opened."""
        return self.states_on((day,), buckets)[0]

    def states_on(self, days: Sequence[dt.date], buckets: Buckets) -> list[str | None]:
        """``state_on`` for each of ``days`` (in order of time), in one pass over the payments."""
        states: list[str | None] = []
        payments = self.payments
        taken = paid = 0
        for day in days:
            if self.opened_on > day:
                states.append(None)
                continue
            if self.resolved_on is not None and self.resolved_on <= day:
                states.append(self.status)
                continue
            while taken < len(payments) and payments[taken][2] <= day:
                paid += payments[taken][0]
                taken += 1
            left = paid
            oldest_due: dt.date | None = None
            counted = False
            # by due date: the first still open is the oldest
            for amount, due_on, counts_from, closed_on in self.obligations:
                if counts_from > day or closed_on <= day:
                    continue
                counted = True
                if left >= amount:
                    left -= amount
                    continue
                oldest_due = due_on
                break
            if oldest_due is None:
                states.append(PAID if counted else None)
            else:
                states.append(buckets.label((day - oldest_due).days) if oldest_due < day else NOT_YET_DUE)
        return states


def case_books(cases: Iterable[CaseRow], obligations: Iterable[ObligationRow], payments: Iterable[PaymentRow],
               zone: dt.tzinfo, *, open_on: dt.date | None = None) -> Iterator[CaseBook]:
    """Merge the three streams (each ordered by case id) into one CaseBook per case.

    With ``open_on``, only the cases open at the end of that day: the others' rows are passed over unread.
    """
    obligation_rows = iter(obligations)
    payment_rows = iter(payments)
    next_obligation = next(obligation_rows, None)
    next_payment = next(payment_rows, None)
    for case_id, currency, opened_text, status, resolved_text, stage in cases:
        opened_on = dt.date.fromisoformat(opened_text[:10])
        resolved_on = dt.date.fromisoformat(resolved_text[:10]) if resolved_text else None
        wanted = open_on is None or (opened_on <= open_on and (resolved_on is None or resolved_on > open_on))
        owed: list[tuple[int, dt.date, dt.date, dt.date]] = []
        while next_obligation is not None and next_obligation[0] <= case_id:
            if wanted and next_obligation[0] == case_id:
                _, amount, due_text, issued_text, closed_text = next_obligation
                counts_from = dt.date.fromisoformat(issued_text[:10]) if issued_text else opened_on
                closed_on = dt.date.fromisoformat(closed_text[:10]) if closed_text else dt.date.max
                owed.append((amount, dt.date.fromisoformat(due_text[:10]), counts_from, closed_on))
            next_obligation = next(obligation_rows, None)
        paid: list[tuple[int, str, dt.date]] = []
        while next_payment is not None and next_payment[0] <= case_id:
            if wanted and next_payment[0] == case_id:
                paid.append((next_payment[1], next_payment[2], local_day(next_payment[2], zone)))
            next_payment = next(payment_rows, None)
        if wanted:
            yield CaseBook(id=case_id, currency=currency, opened_on=opened_on, status=status, resolved_on=resolved_on,
                           stage=stage, obligations=tuple(owed), payments=tuple(paid))


@attrs.define
class CaseFacts:
    """What the events say about cases up to the report's day: stage over time, collector, agency."""

    # case -> [(moment, stage entered)] in order of time
    stages: dict[int, list[tuple[str, str]]] = attrs.field(factory=dict)
    # case -> the collector who logged its latest call
    collectors: dict[int, str] = attrs.field(factory=dict)
    # case -> [(moment, agency, balance placed)] placements in order of time
    placements: dict[int, list[tuple[str, str, int]]] = attrs.field(factory=dict)
    # case -> moments its placements ended, in order of time
    placement_ends: dict[int, list[str]] = attrs.field(factory=dict)
    # case -> [(moment, collector)] calls logged in order of time
    calls: dict[int, list[tuple[str, str]]] = attrs.field(factory=dict)
    # case -> (strategy, policy) of the cases assigned a strategy, read when a filter asks for either; the
    # others have none (NO_STRATEGY) and run under ``default_policy``, the config's.
    strategies: dict[int, tuple[str, str | None]] = attrs.field(factory=dict)
    default_policy: str = ""

    def stage_at(self, case_id: int, moment: str, default: str) -> str:
        """The stage the case was in just before ``moment``."""
        timeline = self.stages.get(case_id)
        if not timeline:
            return default
        found = timeline[0][1]
        for at, stage in timeline:
            if at >= moment:
                break
            found = stage
        return found

    def stage_timeline(self, book: CaseBook) -> list[tuple[str, str]]:
        """(moment entered, stage) for the case; one without events has been in its stage since it opened."""
        return self.stages.get(book.id) or [("", book.stage)]

    def agency(self, case_id: int) -> str | None:
        placed = self.placements.get(case_id)
        return placed[-1][1] if placed else None


def case_facts(rows: Iterable[FactRow]) -> CaseFacts:
    """Gather the store's fact rows by case. Before its first stage change a case was in the stage it left."""
    facts = CaseFacts()
    changes: dict[int, list[tuple[str, str, str]]] = {}
    for at, case_id, kind, to_stage, from_stage, collector, agency, balance in rows:
        if kind == "stage_changed":
            changes.setdefault(case_id, []).append((at, to_stage or "", from_stage or ""))
        elif kind == CALL_LOGGED:
            if collector:
                facts.calls.setdefault(case_id, []).append((at, str(collector)))
        elif kind == AGENCY_PLACED:
            if agency:
                facts.placements.setdefault(case_id, []).append((at, str(agency), int(balance or 0)))
        elif kind == AGENCY_PLACEMENT_ENDED:
            facts.placement_ends.setdefault(case_id, []).append(at)
    for case_id, moves in changes.items():
        moves.sort()
        first_from = moves[0][2]
        facts.stages[case_id] = ([("", first_from)] if first_from else []) + [(at, to) for at, to, _ in moves]
    for calls in facts.calls.values():
        calls.sort()
    for placements in facts.placements.values():
        placements.sort()
    for ends in facts.placement_ends.values():
        ends.sort()
    facts.collectors = {case_id: calls[-1][1] for case_id, calls in facts.calls.items()}
    return facts


@attrs.frozen
class Filters:
    """Which cases a report counts; each left None counts all."""

    currency: str | None = None
    stage: str | None = None
    collector: str | None = None
    agency: str | None = None
    strategy: str | None = None  # NO_STRATEGY: the cases assigned none
    policy: str | None = None  # the policy the case runs under: its strategy's, else the config's

    def given(self) -> dict[str, str]:
        return {k: v for k, v in attrs.asdict(self).items() if v is not None}

    def accepts(self, case_id: int, currency: str, current_stage: str, facts: CaseFacts, until: str) -> bool:
        """The case's currency; its stage, collector and agency as they stood at ``until``."""
        if self.currency is not None and currency != self.currency:
            return False
        if self.stage is not None and facts.stage_at(case_id, until, current_stage) != self.stage:
            return False
        if self.collector is not None and facts.collectors.get(case_id) != self.collector:
            return False
        if self.agency is not None and facts.agency(case_id) != self.agency:
            return False
        if self.strategy is None and self.policy is None:
            return True
        strategy, policy = facts.strategies.get(case_id, (NO_STRATEGY, None))
        if self.strategy is not None and strategy != self.strategy:
            return False
        return self.policy is None or (policy or facts.default_policy) == self.policy

    def by_strategy(self) -> bool:
        """Whether the filters ask which strategy or policy a case has (the store's assignments are read)."""
        return self.strategy is not None or self.policy is not None
