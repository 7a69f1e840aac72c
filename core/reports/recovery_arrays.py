"""``recovery``'s stage, agency and cohort sums over arrays: no Python object per case.

The same rules as ``recovery.compute`` (case by case over ``CaseBook``s),
applied to every case at once with numpy over the store's whole-number rows
(``dunning.store.report_case_facts``): a case's stage timeline is its stage
changes in order (before the first, the stage it left; without any, its
stage since it opened); the first time it enters a stage places its
balance just before that moment (everything owed, on entering its first),
and every stay there collects the payments made during it; an agency
placement places the balance it handed over and collects the payments made
until the placement ended. Moments are whole seconds (the store's text is
to the second, so their order is the text's); amounts are whole minor
units, summed exactly (float sums of whole numbers below 2**53).
tests/core/test_report_rollups.py keeps this equal to the case-by-case path.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Collection, Iterable
from typing import Any

import numpy as np

from dunning import calendar
from dunning.reports.history import day_start
from dunning.reports.params import Params
from dunning.reports.recovery_sums import Sums
from dunning.store.reports import NO_DAY
from dunning.store.report_case_facts import RecoveryRows

_EPOCH = dt.date(1970, 1, 1)
BEFORE_ALL = np.iinfo(np.int64).min // 4  # a moment before any: the stage a case was in before its first change
AFTER_ALL = np.iinfo(np.int64).max // 4  # a stay not ended


def _columns(batches: Iterable[list[tuple[Any, ...]]], width: int) -> np.ndarray:
    parts = [np.fromiter(itertools.chain.from_iterable(batch), dtype=np.int64, count=len(batch) * width)
             for batch in batches]
    flat = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
    return flat.reshape(-1, width).T.copy()


def _pairs(queries: np.ndarray, items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every (query, item) index pair of the same case: ``items`` are case indexes in order, ``queries`` any."""
    low = np.searchsorted(items, queries, side="left")
    count = np.searchsorted(items, queries, side="right") - low
    query = np.repeat(np.arange(len(queries)), count)
    first = np.cumsum(count) - count
    return query, low[query] + (np.arange(len(query)) - first[query])


def _sum(index: np.ndarray, amounts: np.ndarray, size: int) -> np.ndarray:
    return np.bincount(index, weights=amounts, minlength=size).round().astype(np.int64)


def local_days(seconds: np.ndarray, zone: dt.tzinfo) -> np.ndarray:
    """The business day (days since 1970) of each moment in ``zone``, as ``history.local_day`` gives it.

    A moment's local day is its UTC day or one either side; the first moment of each of those days in the
    zone (``history.day_start``) is worked out once, and each moment falls after the last one not after it.
    """
    if not len(seconds):
        return seconds.copy()
    utc_days = np.unique(seconds // 86400)
    candidates = np.unique(np.concatenate([utc_days - 1, utc_days, utc_days + 1]))
    starts = np.array([int(calendar.from_text(day_start(_EPOCH + dt.timedelta(days=int(day)), zone)).timestamp())
                       for day in candidates], dtype=np.int64)
    return candidates[np.searchsorted(starts, seconds, side="right") - 1]


def _months(days: np.ndarray) -> np.ndarray:
    """Months since January 1970 of days since 1970."""
    return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


def _codes(values: list[Any], names: dict[str, int]) -> np.ndarray:
    """Each stage text (None as '') as its number in ``names``, numbering new ones as they come."""
    return np.fromiter((names.setdefault(value or "", len(names)) for value in values), dtype=np.int64,
                       count=len(values))


def sums(rows: RecoveryRows, accepted: Collection[int] | None, params: Params) -> Sums:
    """The stage, agency and cohort sums of the cases opened by the report's day (and in ``accepted``)."""
    result = Sums()
    currencies = rows.currencies
    case_id, opened, currency, stage = _columns(rows.cases, 4)
    ob_case, ob_amount, _due, counts_from, closed = _columns(rows.obligations, 5)
    pay_case, pay_amount, paid_at = _columns(rows.payments, 3)
    stage_names: dict[str, int] = {name: index for index, name in enumerate(rows.stages)}
    move_case: list[int] = []
    move_at: list[int] = []
    move_to: list[np.ndarray] = []
    move_from: list[np.ndarray] = []
    for batch in rows.moves:
        cases, moments, to, left = zip(*batch, strict=True)
        move_case.extend(cases)
        move_at.extend(moments)
        move_to.append(_codes(list(to), stage_names))
        move_from.append(_codes(list(left), stage_names))
    ends = _columns(rows.ends, 2)
    n = len(case_id)
    if not n:
        return result
    counted = opened <= (params.as_of - _EPOCH).days
    if accepted is not None:
        counted &= np.isin(case_id, np.fromiter(accepted, dtype=np.int64, count=len(accepted)))
    # Stage codes in the order of their names, so that moves of the same moment sort as the rows path sorts them.
    names = sorted(stage_names, key=lambda name: name)
    renumber = np.empty(len(stage_names), dtype=np.int64)
    for new, name in enumerate(names):
        renumber[stage_names[name]] = new
    stage = renumber[stage]

    def of_cases(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each row's case index, and which rows belong to a counted case on file."""
        index = np.minimum(np.searchsorted(case_id, ids), n - 1)
        return index, (case_id[index] == ids) & counted[index]

    # Everything owed (placed on entering the first stage and in the cohorts): every obligation of the case.
    ob_index, known = of_cases(ob_case)
    ob_index, ob_amount, counts_from, closed = (c[known] for c in (ob_index, ob_amount, counts_from, closed))
    counts_from = np.where(counts_from == -NO_DAY, opened[ob_index], counts_from)
    placed = _sum(ob_index, ob_amount, n)
    order = np.argsort(ob_index, kind="stable")
    ob_index, ob_amount, counts_from, closed = (c[order] for c in (ob_index, ob_amount, counts_from, closed))
    pay_index, known = of_cases(pay_case)
    order = np.lexsort((paid_at[known], pay_index[known]))
    pay_index, pay_amount, paid_at = (c[known][order] for c in (pay_index, pay_amount, paid_at))
    paid_on = local_days(paid_at, params.zone)

    def collected(index: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
        """The payments of each case ``index`` made at or after ``start`` and before ``end``."""
        query, item = _pairs(index, pay_index)
        within = (paid_at[item] >= start[query]) & (paid_at[item] < end[query])
        return _sum(query[within], pay_amount[item[within]], len(index))

    def balance_before(index: np.ndarray, moment: np.ndarray) -> np.ndarray:
        """``CaseBook.balance_before``: owed on the moment's day (in the zone), less what was paid before it."""
        day = local_days(moment, params.zone)
        query, item = _pairs(index, ob_index)
        owing = (counts_from[item] <= day[query]) & (day[query] < closed[item])
        owed = _sum(query[owing], ob_amount[item[owing]], len(index))
        query, item = _pairs(index, pay_index)
        before = paid_at[item] < moment[query]
        return owed - _sum(query[before], pay_amount[item[before]], len(index))

    # The stage timelines: one row per stay (case, start, stage, place in the case's timeline).
    m_case = np.array(move_case, dtype=np.int64)
    m_at = np.array(move_at, dtype=np.int64)
    m_to = renumber[np.concatenate(move_to)] if move_to else np.zeros(0, dtype=np.int64)
    m_from = renumber[np.concatenate(move_from)] if move_from else np.zeros(0, dtype=np.int64)
    m_index, known = of_cases(m_case)
    m_index, m_at, m_to, m_from = (c[known] for c in (m_index, m_at, m_to, m_from))
    order = np.lexsort((m_from, m_to, m_at, m_index))
    m_index, m_at, m_to, m_from = (c[order] for c in (m_index, m_at, m_to, m_from))
    first_move = np.r_[True, m_index[1:] != m_index[:-1]] if len(m_index) else np.zeros(0, dtype=bool)
    # Before its first change, the case was in the stage that change left ('' when the event did not say).
    before_first = first_move & (m_from != names.index("")) if "" in names else first_move
    without_moves = np.flatnonzero(counted)
    without_moves = without_moves[np.bincount(m_index, minlength=n)[without_moves] == 0]
    s_case = np.concatenate([without_moves, m_index[before_first], m_index])
    s_start = np.concatenate([np.full(len(without_moves) + int(before_first.sum()), BEFORE_ALL), m_at])
    s_stage = np.concatenate([stage[without_moves], m_from[before_first], m_to])
    s_place = np.concatenate([np.zeros(len(without_moves) + int(before_first.sum()), dtype=np.int64),
                              np.ones(len(m_index), dtype=np.int64)])
    order = np.lexsort((np.arange(len(s_case)), s_place, s_case))  # the moves already in order within a case
    s_case, s_start, s_stage = s_case[order], s_start[order], s_stage[order]
    first_stay = np.r_[True, s_case[1:] != s_case[:-1]] if len(s_case) else np.zeros(0, dtype=bool)
    s_end = np.r_[s_start[1:], AFTER_ALL] if len(s_case) else s_start.copy()
    s_end[np.r_[first_stay[1:], True] if len(s_case) else first_stay] = AFTER_ALL
    stages = len(names)
    _, entered = np.unique(s_case * stages + s_stage, return_index=True)  # each case's first stay in each stage
    entering = np.zeros(len(s_case), dtype=np.int64)
    later = entered[~first_stay[entered]]
    entering[entered[first_stay[entered]]] = placed[s_case[entered[first_stay[entered]]]]
    entering[later] = balance_before(s_case[later], s_start[later])
    stay_collected = collected(s_case, s_start, s_end)
    key = currency[s_case] * stages + s_stage
    size = max(len(currencies), 1) * stages
    cases_in = np.bincount(key[entered], minlength=size)
    placed_in = _sum(key, entering, size)
    collected_in = _sum(key, stay_collected, size)
    for code in np.flatnonzero(cases_in):
        money, name = currencies[code // stages], names[code % stages]
        result.stage_cases[money, name] += int(cases_in[code])
        result.stage_placed[money, name] += int(placed_in[code])
        result.stage_collected[money, name] += int(collected_in[code])

    # Placements: the balance handed over; what was paid until the placement's first end at or after it.
    given = [(case, at, str(agency), int(balance or 0)) for case, at, agency, balance in rows.placed if agency]
    if given:
        agencies = sorted({agency for _, _, agency, _ in given})
        agency_code = {agency: index for index, agency in enumerate(agencies)}
        p_case = np.array([g[0] for g in given], dtype=np.int64)
        p_at = np.array([g[1] for g in given], dtype=np.int64)
        p_agency = np.array([agency_code[g[2]] for g in given], dtype=np.int64)
        p_balance = np.array([g[3] for g in given], dtype=np.int64)
        p_index, known = of_cases(p_case)
        p_index, p_at, p_agency, p_balance = (c[known] for c in (p_index, p_at, p_agency, p_balance))
        e_index, e_known = of_cases(ends[0])
        order = np.argsort(e_index[e_known], kind="stable")
        e_index, e_at = e_index[e_known][order], ends[1][e_known][order]
        query, item = _pairs(p_index, e_index)
        after = e_at[item] >= p_at[query]
        p_end = np.full(len(p_index), AFTER_ALL, dtype=np.int64)
        np.minimum.at(p_end, query[after], e_at[item[after]])
        p_collected = collected(p_index, p_at, p_end)
        key = currency[p_index] * len(agencies) + p_agency
        size = max(len(currencies), 1) * len(agencies)
        count = np.bincount(key, minlength=size)
        placed_with = _sum(key, p_balance, size)
        collected_with = _sum(key, p_collected, size)
        for code in np.flatnonzero(count):
            money, agency = currencies[code // len(agencies)], agencies[code % len(agencies)]
            result.agency_cases[money, agency] += int(count[code])
            result.agency_placed[money, agency] += int(placed_with[code])
            result.agency_collected[money, agency] += int(collected_with[code])

    # Cohorts: by month of opening; payments by whole calendar months since then (the curves' months only).
    opened_month = _months(opened)
    first_month = int(opened_month[counted].min()) if counted.any() else 0
    cohort = opened_month - first_month
    months = int(opened_month[counted].max()) - first_month + 1 if counted.any() else 1
    key = currency * months + cohort
    size = max(len(currencies), 1) * months
    count = np.bincount(key[counted], minlength=size)
    placed_by = _sum(key[counted], placed[counted], size)
    since = _months(paid_on) - opened_month[pay_index]
    curve = (since >= 0) & (since < params.periods)
    at = key[pay_index[curve]] * params.periods + since[curve]
    collected_by = _sum(at, pay_amount[curve], size * params.periods)
    for code in np.flatnonzero(count):
        money, month = currencies[code // months], _month_text(first_month + code % months)
        result.cohort_cases[money, month] += int(count[code])
        result.cohort_placed[money, month] += int(placed_by[code])
        for k in np.flatnonzero(collected_by[code * params.periods:(code + 1) * params.periods]):
            result.cohort_collected[money, month, int(k)] += int(collected_by[code * params.periods + k])
    return result


def _month_text(month: int) -> str:
    year, index = divmod(month, 12)
    return f"{1970 + year:04d}-{index + 1:02d}"
