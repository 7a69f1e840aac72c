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
from collections.abc import Collection
from typing import Any

import numpy as np

from dunning import calendar
from dunning.reports.columns import columns, lookup, positions
from dunning.reports.history import day_start
from dunning.reports.params import Params
from dunning.reports.recovery_sums import Credit, Sums
from dunning.store.reports import NO_DAY
from dunning.store.report_case_facts import RecoveryRows

_EPOCH = dt.date(1970, 1, 1)
BEFORE_ALL = np.iinfo(np.int64).min // 4  # a moment before any: the stage a case was in before its first change
AFTER_ALL = np.iinfo(np.int64).max // 4  # a stay not ended
_NONE = np.zeros(0, dtype=np.int64)
CHUNK = 1 << 16  # cases whose stays are worked out together


def _starts(index: np.ndarray, size: int) -> np.ndarray:
    """Where each case's rows begin in ``index`` (case indexes in order), and where the last ends."""
    return np.r_[0, np.cumsum(np.bincount(index, minlength=size))]


def _pairs(queries: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every (query, item) index pair of the same case: ``starts`` as ``_starts`` gives them for the items."""
    low = starts[queries]
    count = starts[queries + 1] - low
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


def sums(rows: RecoveryRows, accepted: Collection[int] | None, params: Params) -> tuple[Sums, list[Credit]] | None:
    """The stage, agency and cohort sums of the cases opened by the report's day (and in ``accepted``), and their
    payments' credit (as ``recovery._attribute`` takes it); None if one of those payments has no kept credit."""
    result = Sums()
    currencies, names = rows.currencies, rows.stages
    case_id, packed = columns(rows.cases, 2)
    # A few hundred currencies and stages at most: 32 bits hold them and the keys made from them.
    opened, currency, stage = packed >> 16, ((packed >> 8) & 255).astype(np.int32), (packed & 255).astype(np.int32)
    del packed
    n = len(case_id)
    if not n:
        return result, []
    counted = opened <= (params.as_of - _EPOCH).days
    if accepted is not None:
        counted &= np.isin(case_id, np.fromiter(accepted, dtype=np.int64, count=len(accepted)))
    position = positions(case_id, counted)

    def of_cases(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The rows of a counted case on file, by case (stable: as read within a case), and their case index."""
        index = lookup(position, ids)
        kept = np.flatnonzero(index >= 0)
        order = kept[np.argsort(index[kept], kind="stable")]
        return order, index[order]

    # Each table read, then cut to the counted cases' rows by case, one column at a time: the rows read are let go
    # before the next table is.
    # Everything owed (placed on entering the first stage and in the cohorts): every obligation of the case.
    ob: list[Any] = columns(rows.obligations, 4)
    order, ob_index = of_cases(ob[0])
    ob_amount, ob[1] = ob[1][order], None
    counts_from, ob[2] = ob[2][order], None
    closed, ob[3] = ob[3][order], None
    del ob, order
    counts_from = np.where(counts_from == -NO_DAY, opened[ob_index], counts_from)
    placed = _sum(ob_index, ob_amount, n)
    ob_starts = _starts(ob_index, n)
    pay: list[Any] = columns(rows.payments, 4)
    order, pay_index = of_cases(pay[0])
    order = order[np.lexsort((pay[2][order], pay_index))]  # by case, then moment
    pay_index, pay[0] = lookup(position, pay[0][order]), None
    pay_amount, pay[1] = pay[1][order], None
    paid_at, pay[2] = pay[2][order], None
    pay_credit, pay[3] = pay[3][order], None
    del pay, order
    if (pay_credit < 0).any():
        return None  # a payment without its kept contact: the events are read instead
    kinds = max(rows.credit_kinds, default=0) + 1
    credited = currency[pay_index].astype(np.int64) * kinds + pay_credit
    credit_count = np.bincount(credited, minlength=max(len(currencies), 1) * kinds)
    credit_sum = _sum(credited, pay_amount, len(credit_count))
    credits: list[Credit] = [(currencies[code // kinds], *rows.credit_kinds[code % kinds], int(credit_count[code]),
                              int(credit_sum[code])) for code in np.flatnonzero(credit_count).tolist()]
    del credited, pay_credit
    pay_starts = _starts(pay_index, n)
    paid_on = local_days(paid_at, params.zone)

    def collected(index: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
        """The payments of each case ``index`` made at or after ``start`` and before ``end``."""
        query, item = _pairs(index, pay_starts)
        within = (paid_at[item] >= start[query]) & (paid_at[item] < end[query])
        return _sum(query[within], pay_amount[item[within]], len(index))

    def balance_before(index: np.ndarray, moment: np.ndarray) -> np.ndarray:
        """``CaseBook.balance_before``: owed on the moment's day (in the zone), less what was paid before it."""
        day = local_days(moment, params.zone)
        query, item = _pairs(index, ob_starts)
        owing = (counts_from[item] <= day[query]) & (day[query] < closed[item])
        owed = _sum(query[owing], ob_amount[item[owing]], len(index))
        query, item = _pairs(index, pay_starts)
        before = paid_at[item] < moment[query]
        return owed - _sum(query[before], pay_amount[item[before]], len(index))

    # The stage changes of the counted cases, by case, moment, then names (as the events path sorts them): the
    # moves' stage numbers as places in ``names``.
    renumber = np.zeros(max(rows.stage_codes, default=0) + 1, dtype=np.int64)
    for code, name in rows.stage_codes.items():
        renumber[code] = names.index(name)
    moves: list[Any] = columns(rows.moves, 3)
    index, moves[0] = lookup(position, moves[0]), None
    kept = np.flatnonzero(index >= 0)
    m_index = index[kept]
    del index
    m_at, moves[1] = moves[1][kept], None
    codes, moves[2] = moves[2][kept], None
    del moves, kept
    m_stages = (renumber[codes >> 8] << 8) | renumber[codes & 255]
    del codes
    order = np.lexsort((m_stages & 255, m_stages >> 8, m_at, m_index))
    m_index = m_index[order]
    m_at = m_at[order]
    m_stages = m_stages[order]
    del order
    m_starts = _starts(m_index, n)
    stages = len(names)
    none_named = names.index("") if "" in names else -1
    size = max(len(currencies), 1) * stages
    cases_in = np.zeros(size, dtype=np.int64)
    placed_in = np.zeros(size, dtype=np.int64)
    collected_in = np.zeros(size, dtype=np.int64)
    # A chunk of cases at a time: the stays of a million cases at once would hold several arrays of millions.
    for low in range(0, n, CHUNK):
        high = min(low + CHUNK, n)
        first, last = m_starts[low], m_starts[high]
        c_index, c_at = m_index[first:last], m_at[first:last]
        c_to, c_left = m_stages[first:last] >> 8, m_stages[first:last] & 255
        first_move = np.r_[True, c_index[1:] != c_index[:-1]] if len(c_index) else np.zeros(0, dtype=bool)
        # Before its first change, the case was in the stage that change left ('' when the event did not say).
        before_first = first_move & (c_left != none_named)
        quiet = low + np.flatnonzero(counted[low:high] & (np.diff(m_starts[low:high + 1]) == 0))
        s_case = np.concatenate([quiet, c_index[before_first], c_index])
        s_start = np.concatenate([np.full(len(quiet) + int(before_first.sum()), BEFORE_ALL), c_at])
        s_stage = np.concatenate([stage[quiet], c_left[before_first], c_to])
        s_place = np.concatenate([np.zeros(len(quiet) + int(before_first.sum()), dtype=np.int64),
                                  np.ones(len(c_index), dtype=np.int64)])
        order = np.lexsort((np.arange(len(s_case)), s_place, s_case))  # the moves already in order within a case
        s_case, s_start, s_stage = s_case[order], s_start[order], s_stage[order]
        if not len(s_case):
            continue
        first_stay = np.r_[True, s_case[1:] != s_case[:-1]]
        s_end = np.r_[s_start[1:], AFTER_ALL]
        s_end[np.r_[first_stay[1:], True]] = AFTER_ALL
        _, entered = np.unique(s_case * stages + s_stage, return_index=True)  # each case's first stay in a stage
        entering = np.zeros(len(s_case), dtype=np.int64)
        opening = entered[first_stay[entered]]
        later = entered[~first_stay[entered]]
        entering[opening] = placed[s_case[opening]]
        entering[later] = balance_before(s_case[later], s_start[later])
        key = currency[s_case] * stages + s_stage
        cases_in += np.bincount(key[entered], minlength=size)
        placed_in += _sum(key, entering, size)
        collected_in += _sum(key, collected(s_case, s_start, s_end), size)
    # The obligations and moves are done with: let them go before the placements and cohorts are worked out.
    ob_index = ob_amount = counts_from = closed = ob_starts = m_index = m_at = m_stages = m_starts = _NONE
    for code in np.flatnonzero(cases_in).tolist():
        money, name = currencies[code // stages], names[code % stages]
        result.stage_cases[money, name] += int(cases_in[code])
        result.stage_placed[money, name] += int(placed_in[code])
        result.stage_collected[money, name] += int(collected_in[code])

    # Placements: the balance handed over; what was paid until the placement's first end at or after it.
    agencies = rows.agencies
    placements = columns(rows.placed, 4)
    placements = [column[placements[2] >= 0] for column in placements]  # an empty agency places nothing
    ends = columns(rows.ends, 2)
    if len(placements[0]):
        order, p_index = of_cases(placements[0])
        p_at, p_agency, p_balance = placements[1][order], placements[2][order], placements[3][order]
        order, e_index = of_cases(ends[0])
        e_at = ends[1][order]
        query, item = _pairs(p_index, _starts(e_index, n))
        after = e_at[item] >= p_at[query]
        p_end = np.full(len(p_index), AFTER_ALL, dtype=np.int64)
        np.minimum.at(p_end, query[after], e_at[item[after]])
        p_collected = collected(p_index, p_at, p_end)
        key = currency[p_index] * len(agencies) + p_agency
        size = max(len(currencies), 1) * len(agencies)
        count = np.bincount(key, minlength=size)
        placed_with = _sum(key, p_balance, size)
        collected_with = _sum(key, p_collected, size)
        for code in np.flatnonzero(count).tolist():
            money, agency = currencies[code // len(agencies)], agencies[code % len(agencies)]
            result.agency_cases[money, agency] += int(count[code])
            result.agency_placed[money, agency] += int(placed_with[code])
            result.agency_collected[money, agency] += int(collected_with[code])

    # Cohorts: by month of opening; payments by whole calendar months since then (the curves' months only).
    opened_month = np.zeros(n, dtype=np.int64)
    opened_month[counted] = _months(opened[counted])
    first_month = int(opened_month[counted].min()) if counted.any() else 0
    months = int(opened_month[counted].max()) - first_month + 1 if counted.any() else 1
    size = max(len(currencies), 1) * months
    key = currency[counted] * months + (opened_month[counted] - first_month)
    count = np.bincount(key, minlength=size)
    placed_by = _sum(key, placed[counted], size)
    del key
    since = _months(paid_on) - opened_month[pay_index]
    curve = (since >= 0) & (since < params.periods)
    at = (currency[pay_index[curve]] * months + opened_month[pay_index[curve]] - first_month) * params.periods \
        + since[curve]
    collected_by = _sum(at, pay_amount[curve], size * params.periods)
    for code in np.flatnonzero(count).tolist():
        money, month = currencies[code // months], _month_text(first_month + int(code) % months)
        result.cohort_cases[money, month] += int(count[code])
        result.cohort_placed[money, month] += int(placed_by[code])
        for k in np.flatnonzero(collected_by[code * params.periods:(code + 1) * params.periods]):
            result.cohort_collected[money, month, int(k)] += int(collected_by[code * params.periods + k])
    return result, credits


def _month_text(month: int) -> str:
    year, index = divmod(month, 12)
    return f"{1970 + year:04d}-{index + 1:02d}"
