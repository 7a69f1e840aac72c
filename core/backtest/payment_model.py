"""The payment model a backtest states: how often a contact was followed by a payment, per bucket and channel.

Fitted on the history in the evidence log: every ``sent`` event is a contact, in the days-past-due bucket
of its ``dpd``. A payment is put down to the last contact on the same case before it, if that came within
``WINDOW``; a cell's rate is the payments put down to its contacts over its contacts. Where a
bucket and channel have fewer than ``MIN_CONTACTS`` contacts, the bucket's rate over all channels is used,
and failing that the rate over all contacts. A payment pays ``share`` of the balance: the mean, over the
payments that followed a contact, of the amount paid over the balance just before it.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Sequence

import attrs

from dunning.reports.buckets import Buckets

# A payment this long after a contact is put down to it.
WINDOW = dt.timedelta(days=14)
# Fewer contacts than this in a bucket and channel: that cell's rate is too noisy to use on its own.
MIN_CONTACTS = 5
# The aging report's buckets, each with the days past due that close it (the last is open-ended).
BUCKETS: tuple[tuple[str, int | None], ...] = tuple(
    zip(Buckets().labels, (0, *Buckets().bounds, None), strict=True))


def bucket_of(dpd: int | None) -> str:
    days = 0 if dpd is None else dpd
    return next(name for name, high in BUCKETS if high is None or days <= high)


@attrs.frozen
class Contact:
    case_id: int
    at: dt.datetime
    dpd: int | None
    channel: str


@attrs.frozen
class Paid:
    case_id: int
    at: dt.datetime
    amount: int
    balance_before: int


@attrs.frozen
class Cell:
    """One bucket and channel of the model: contacts seen, and the payments put down to them."""

    bucket: str
    channel: str
    contacts: int
    paid: int

    @property
    def rate(self) -> float:
        return self.paid / self.contacts if self.contacts else 0.0


@attrs.frozen
class PaymentModel:
    cells: tuple[Cell, ...]
    share: float  # of the balance, that a payment pays
    payments: int  # payments the share was taken from
    window_days: int = WINDOW.days
    min_contacts: int = MIN_CONTACTS

    @property
    def contacts(self) -> int:
        return sum(c.contacts for c in self.cells)

    def rate(self, dpd: int | None, channel: str) -> float:
        """The chance that a contact on ``channel`` at ``dpd`` days past due is followed by a payment."""
        bucket = bucket_of(dpd)
        cell = next((c for c in self.cells if c.bucket == bucket and c.channel == channel), None)
        if cell is not None and cell.contacts >= self.min_contacts:
            return cell.rate
        in_bucket = [c for c in self.cells if c.bucket == bucket]
        seen = sum(c.contacts for c in in_bucket)
        if seen >= self.min_contacts:
            return sum(c.paid for c in in_bucket) / seen
        return sum(c.paid for c in self.cells) / self.contacts if self.contacts else 0.0


def fit(contacts: Sequence[Contact], payments: Sequence[Paid]) -> PaymentModel:
    """The model from the history's contacts and payments (any order)."""
    counts: dict[tuple[str, str], list[int]] = {}
    by_case: dict[int, list[tuple[dt.datetime, tuple[str, str]]]] = {}
    for c in contacts:
        cell = (bucket_of(c.dpd), c.channel)
        counts.setdefault(cell, [0, 0])[0] += 1
        by_case.setdefault(c.case_id, []).append((c.at, cell))
    for timeline in by_case.values():
        timeline.sort(key=lambda item: item[0])
    shares: list[float] = []
    for p in payments:
        timeline = by_case.get(p.case_id, [])
        # The last contact before the payment takes it, if it came within the window.
        i = bisect.bisect_left(timeline, p.at, key=lambda item: item[0])
        if i == 0 or p.at > timeline[i - 1][0] + WINDOW:
            continue
        counts[timeline[i - 1][1]][1] += 1
        if p.balance_before > 0:
            shares.append(min(1.0, p.amount / p.balance_before))
    order = {name: i for i, (name, _) in enumerate(BUCKETS)}
    cells = tuple(Cell(bucket, channel, n, paid) for (bucket, channel), (n, paid)
                  in sorted(counts.items(), key=lambda kv: (order[kv[0][0]], kv[0][1])))
    share = sum(shares) / len(shares) if shares else 1.0
    return PaymentModel(cells, share=share, payments=len(shares))
