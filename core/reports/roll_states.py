"""roll-rates' states rebuilt over arrays: each case's bucket at each period end, without a Python object per case.

The same rule as ``CaseBook.states_on`` (dunning.reports.history), applied to
every case at once with numpy: at a period end a case not yet opened has no
state; one resolved by then is in its status; otherwise the payments made by
the end of that day (in the report's zone) are applied to the obligations
counted that day (issued by then, not closed by the books), oldest due first,
and the first not covered gives the bucket; none left open is ``paid``.
Amounts are whole minor units (int64), so the sums are exact.
tests/core/test_report_rollups.py keeps this equal to the case-by-case path.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Sequence

import numpy as np

from dunning import calendar
from dunning.reports.buckets import PAID, WRITTEN_OFF
from dunning.reports.columns import columns, lookup, positions
from dunning.reports.history import day_start
from dunning.reports.params import Params
from dunning.reports.roll_rates import ENDED, Tally, period_ends
from dunning.store.reports import NO_DAY

_EPOCH = dt.date(1970, 1, 1).toordinal()
NONE = -1  # no state: not yet opened, or nothing counted on the day

Batches = Iterable[list[tuple[int, ...]]]
Rows = tuple[list[str], list[str], Batches, Batches, Batches]


def states(rows: Rows, params: Params) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray]:
    """(state codes: one row per period end, one column per case; each case's currency index; the code's names;
    case ids). Codes: the buckets in order, then ``paid``, then each status not among them."""
    _currencies, statuses, case_rows, obligation_rows, payment_rows = rows
    labels = list(params.buckets.labels)
    names = [*labels, PAID, *[s for s in statuses if s not in labels and s != PAID]]
    code_of_status = np.array([names.index(s) for s in statuses] or [0], dtype=np.int64)
    case_id, packed, resolved = columns(case_rows, 3)
    opened, status, currency = packed >> 16, (packed >> 8) & 255, packed & 255
    n = len(case_id)
    ob_case, ob_amount, due, counts_from, closed = columns(obligation_rows, 5)
    # By case, then due day: the order payments are applied in (see ROLL_OBLIGATIONS_SQL).
    order = np.lexsort((due, ob_case))
    ob_case, ob_amount, due, counts_from, closed = (column[order] for column in
                                                    (ob_case, ob_amount, due, counts_from, closed))
    pay_case, pay_amount, paid_at = columns(payment_rows, 3)
    ends = period_ends(params.as_of, params.period, params.periods)
    codes = np.full((len(ends), n), NONE, dtype=np.int16)  # buckets and statuses: a few dozen codes, at most 2 x 256
    if not n:
        return codes, currency, names, case_id
    # An obligation of a case no longer on file counts for none, nor does a payment.
    position = positions(case_id, np.ones(n, dtype=bool))
    ob_index = lookup(position, ob_case)
    on_file = ob_index >= 0
    ob_index, ob_amount, due, counts_from, closed = (column[on_file] for column in
                                                     (ob_index, ob_amount, due, counts_from, closed))
    # Without an issue date, from the case's opening.
    counts_from = np.where(counts_from == -NO_DAY, opened[ob_index], counts_from)
    pay_index = lookup(position, pay_case)
    known = pay_index >= 0
    pay_index, pay_amount, paid_at = pay_index[known], pay_amount[known], paid_at[known]
    # Where each obligation's case begins in the (case, due date) order: the running sums restart there.
    group_start = np.zeros(len(ob_index), dtype=np.int64)
    if len(ob_index):
        first = np.r_[True, ob_index[1:] != ob_index[:-1]]
        group_start = np.maximum.accumulate(np.where(first, np.arange(len(ob_index)), 0))
    bounds = np.array(params.buckets.bounds, dtype=np.int64)
    for row, end in enumerate(ends):
        day = end.toordinal() - _EPOCH
        # Paid by the end of the day in the zone: before the first moment of the next day.
        cut = int(calendar.from_text(day_start(end + dt.timedelta(days=1), params.zone)).timestamp())
        made = paid_at < cut
        # float sums of whole numbers below 2**53 are exact
        paid = np.bincount(pay_index[made], weights=pay_amount[made], minlength=n).astype(np.int64)
        counted = (counts_from <= day) & (day < closed)
        owed = np.where(counted, ob_amount, 0)
        running = np.cumsum(owed)
        upto = running - np.where(group_start > 0, running[np.maximum(group_start - 1, 0)], 0)
        still_open = counted & (upto > paid[ob_index])
        first = np.flatnonzero(still_open)
        first = first[np.r_[True, ob_index[first][1:] != ob_index[first][:-1]]] if len(first) else first
        state = np.full(n, NONE, dtype=np.int16)
        state[np.bincount(ob_index[counted], minlength=n) > 0] = names.index(PAID)
        past_due = day - due[first]
        state[ob_index[first]] = np.where(past_due <= 0, 0, 1 + np.searchsorted(bounds, past_due, side="left"))
        state[resolved <= day] = code_of_status[status[resolved <= day]]
        state[opened > day] = NONE
        codes[row] = state
    return codes, currency, names, case_id


def tally(rows: Rows, accepted: Collection[int] | None, params: Params) -> Tally:
    """roll-rates' counts (as ``roll_rates.compute`` counts them) over the cases in ``accepted`` (None: all)."""
    currencies = rows[0]
    codes, currency, names, case_id = states(rows, params)
    if accepted is not None:
        keep = np.isin(case_id, np.fromiter(accepted, dtype=np.int64, count=len(accepted)))
        codes, currency = codes[:, keep], currency[keep]
    ends = period_ends(params.as_of, params.period, params.periods)
    k, c = len(names), max(len(currencies), 1)
    ended = np.array([name in ENDED for name in names] + [True])  # index -1 (no state) counts as ended: left out
    result = Tally()
    counts = np.zeros((len(ends) - 1) * c * k * k, dtype=np.int64)
    for at in range(len(ends) - 1):  # a period at a time: the pairs of every period at once are a dozen million
        before, after = codes[at].astype(np.int64), codes[at + 1].astype(np.int64)
        moved = ~ended[before] & (after != NONE)
        keys = ((at * c + currency[moved]) * k + before[moved]) * k + after[moved]
        counts += np.bincount(keys, minlength=len(counts))
    for key in np.flatnonzero(counts):
        count = counts[key]
        rest, to = divmod(int(key), k)
        rest, source = divmod(rest, k)
        at, money = divmod(rest, c)
        result.matrix[currencies[money], names[source], names[to]] += int(count)
        result.by_period[ends[at + 1], names[source], names[to]] += int(count)
    written_off = codes[-1] == names.index(WRITTEN_OFF) if WRITTEN_OFF in names else np.zeros(len(currency), bool)
    for code, name in enumerate(names):
        if ended[code]:
            continue
        in_it = (codes == code).any(axis=0)
        for money, count in _count(currency[in_it], c):
            result.seen[currencies[money], name] += count
        for money, count in _count(currency[in_it & written_off], c):
            result.written_off[currencies[money], name] += count
    return result


def _count(values: np.ndarray, size: int) -> Sequence[tuple[int, int]]:
    return [(index, int(n)) for index, n in enumerate(np.bincount(values, minlength=size)) if n]

