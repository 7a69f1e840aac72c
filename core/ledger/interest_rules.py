"""The interest and compensation rules, each a pure function of the debt, the days and the reference rates.

Amounts are minor units. ``Accrual.exact`` is the interest before the final
rounding (a ``Decimal`` of minor units): the caller adds up the exact
amounts of successive runs and rounds the total, so interest posted day by
day comes to the same penny as interest worked out in one go.

Sources, and the worked examples the tests reproduce:

- UK, Late Payment of Commercial Debts (Interest) Act 1998 with the Rate of
  Interest (No. 3) Order 2002 (SI 2002/1675): 8 % over the Bank of England
  rate in force on 30 June (interest that starts to run from 1 July to
  31 December) or on 31 December (from 1 January to 30 June) immediately
  before the day statutory interest starts to run; that rate holds for the
  life of the debt. Day count as gov.uk's "Late commercial payments:
  charging interest and debt recovery": yearly interest / 365 gives the
  daily interest (rounded to the penny), times the days late. Fixed
  compensation (s. 5A): £40 under £1,000, £70 under £10,000, £100 above.
- EU, Directive 2011/7/EU: statutory interest is simple interest at the
  reference rate (the ECB's main refinancing rate) plus at least 8 points
  (Art. 2(6), 2(7)); the rate in force on 1 January binds the first half
  of the year and the rate on 1 July the second (Art. 3(2), 4(2)); €40
  fixed compensation (Art. 6(1)). Daily: yearly / 365, as the Irish
  implementation's guidance states ("12.25 % divided by 365 days").
- DE, § 288 BGB: 5 points over the Basiszinssatz (§ 247 BGB), 9 points for
  a payment claim where no consumer is party (§ 288(2)); €40 Pauschale
  where the debtor is not a consumer (§ 288(5)). The Basiszinssatz changes
  on 1 January and 1 July, and the interest follows it, so a change splits
  the period. German practice counts days exactly and divides by 365 (the
  "Tageszinsformel" Kapital * Tage * Prozentsatz / (365 * 100)), rounding
  the result once: €1,000 at 5.12 % for 25 days gives €3.51.
- ``contract``: the rate agreed for the obligation, a year (actual/365) or a day.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal

import attrs

from dunning.ledger.rates import RatePoint, changes_between, rate_on

YEAR_DAYS = 365
_HUNDRED = Decimal(100)


@attrs.frozen
class ContractRate:
    """A rate agreed in the contract: ``percent`` a year, or a day when ``per == "day"``."""

    percent: Decimal
    per: str = "year"  # year | day

    def __str__(self) -> str:
        return f"{self.percent}%" + ("/day" if self.per == "day" else "")


_CONTRACT_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*(?:(/\s*(?:year|yr|a|day|d))|p\.?\s*a\.?)?\s*$", re.IGNORECASE)


def parse_contract_rate(text: str) -> ContractRate:
    """``"12%"``, ``"12% p.a."`` or ``"12%/year"`` (a year); ``"0.05%/day"`` (a day). ValueError otherwise."""
    match = _CONTRACT_RATE.match(text)
    if not match:
        raise ValueError(f"must be a rate such as \"12%\" (a year) or \"0.05%/day\", got {text!r}")
    per = "day" if match.group(2) and match.group(2).replace("/", "").strip().lower() in ("day", "d") else "year"
    percent = Decimal(match.group(1))
    if percent > (100 if per == "year" else 1):
        raise ValueError(f"{text!r} is not a believable rate (at most 100% a year or 1% a day)")
    return ContractRate(percent, per)


@attrs.frozen
class Debt:
    """What a rule needs to know about one obligation."""

    principal: int  # what is still open of it, minor units
    amount: int  # as invoiced: the size of the debt for fixed compensation
    currency: str
    # The first day late: the day after the due date, when interest could start to run by law.
    late_from: dt.date
    consumer: bool = False
    contract_rate: ContractRate | None = None


@attrs.frozen
class Segment:
    """Days ``first`` to ``last`` (both counted) at ``percent`` a year (or a day, for a daily contract rate)."""

    first: dt.date
    last: dt.date
    percent: Decimal
    per: str = "year"

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


@attrs.frozen
class Accrual:
    segments: tuple[Segment, ...]
    exact: Decimal  # minor units, unrounded

    @property
    def amount(self) -> int:
        return round_minor(self.exact)


def round_minor(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _split(first: dt.date, last: dt.date, at: Sequence[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """[first, last] cut before each day in ``at``."""
    spans, start = [], first
    for day in sorted(d for d in set(at) if first < d <= last):
        spans.append((start, day - dt.timedelta(days=1)))
        start = day
    spans.append((start, last))
    return spans


def _half_year_starts(first: dt.date, last: dt.date) -> list[dt.date]:
    return [dt.date(y, m, 1) for y in range(first.year, last.year + 1) for m in (1, 7)]


def _simple(principal: int, segments: Sequence[Segment]) -> Decimal:
    """Simple interest, actual/365 (or per day), unrounded."""
    total = Decimal(0)
    for s in segments:
        per_day = s.percent / _HUNDRED if s.per == "day" else s.percent / _HUNDRED / YEAR_DAYS
        total += Decimal(principal) * per_day * s.days
    return total


def _empty(first: dt.date, last: dt.date) -> bool:
    return last < first


# --- the rules --------------------------------------------------------------------------------


def uk_reference_day(late_from: dt.date) -> dt.date:
    """30 June or 31 December immediately before the day statutory interest starts to run (SI 2002/1675)."""
    if late_from.month >= 7:
        return dt.date(late_from.year, 6, 30)
    return dt.date(late_from.year - 1, 12, 31)


def uk_late_payment(debt: Debt, first: dt.date, last: dt.date, rates: Mapping[str, Sequence[RatePoint]]) -> Accrual:
    """Statutory interest under the 1998 Act: daily interest rounded to the penny, times the days."""
    if _empty(first, last) or debt.consumer:
        return Accrual((), Decimal(0))
    percent = rate_on(rates["boe-base"], uk_reference_day(debt.late_from), "boe-base") + 8
    daily = round_minor(Decimal(debt.principal) * percent / _HUNDRED / YEAR_DAYS)
    segment = Segment(first, last, percent)
    return Accrual((segment,), Decimal(daily * segment.days))


def uk_compensation(debt: Debt) -> int:
    """s. 5A: £40 for a debt under £1,000, £70 under £10,000, £100 from £10,000 (sterling debts only)."""
    if debt.consumer or debt.currency != "GBP":
        return 0
    if debt.amount < 100_000:
        return 4_000
    if debt.amount < 1_000_000:
        return 7_000
    return 10_000


def eu_late_payment(debt: Debt, first: dt.date, last: dt.date, rates: Mapping[str, Sequence[RatePoint]]) -> Accrual:
    """Directive 2011/7/EU: ECB rate in force on 1 January / 1 July for that half-year, plus 8 points."""
    if _empty(first, last) or debt.consumer:
        return Accrual((), Decimal(0))
    segments = []
    for start, end in _split(first, last, _half_year_starts(first, last)):
        semester = dt.date(start.year, 1 if start.month < 7 else 7, 1)
        segments.append(Segment(start, end, rate_on(rates["ecb-mro"], semester, "ecb-mro") + 8))
    return Accrual(tuple(segments), _simple(debt.principal, segments))


def eu_compensation(debt: Debt) -> int:
    """Art. 6(1): a fixed €40 (euro debts only; a consumer's debt is outside the Directive)."""
    return 4_000 if not debt.consumer and debt.currency == "EUR" else 0


def de_bgb(debt: Debt, first: dt.date, last: dt.date, rates: Mapping[str, Sequence[RatePoint]]) -> Accrual:
    """§ 288 BGB: Basiszinssatz + 9 points between businesses, + 5 for a consumer; split where it changes."""
    if _empty(first, last):
        return Accrual((), Decimal(0))
    history = rates["de-basiszins"]
    margin = 5 if debt.consumer else 9
    segments = [Segment(start, end, rate_on(history, start, "de-basiszins") + margin)
                for start, end in _split(first, last, changes_between(history, first, last))]
    return Accrual(tuple(segments), _simple(debt.principal, segments))


def de_compensation(debt: Debt) -> int:
    """§ 288(5) BGB: a €40 Pauschale where the debtor is not a consumer."""
    return 4_000 if not debt.consumer and debt.currency == "EUR" else 0


def contract(debt: Debt, first: dt.date, last: dt.date, rates: Mapping[str, Sequence[RatePoint]]) -> Accrual:
    """The rate agreed for the obligation, simple interest (actual/365 for a yearly rate)."""
    agreed = debt.contract_rate
    if _empty(first, last) or agreed is None:
        return Accrual((), Decimal(0))
    segments = [Segment(first, last, agreed.percent, agreed.per)]
    return Accrual(tuple(segments), _simple(debt.principal, segments))


def no_compensation(debt: Debt) -> int:
    return 0


@attrs.frozen
class Rule:
    name: str
    interest: Callable[[Debt, dt.date, dt.date, Mapping[str, Sequence[RatePoint]]], Accrual]
    compensation: Callable[[Debt], int]
    # The reference rate histories it reads.
    reads: tuple[str, ...] = ()
    # Whether the law lets it run against a consumer at all (before the profile is asked).
    consumers: bool = False


RULES: Mapping[str, Rule] = {
    "uk-late-payment": Rule("uk-late-payment", uk_late_payment, uk_compensation, ("boe-base",)),
    "eu-late-payment": Rule("eu-late-payment", eu_late_payment, eu_compensation, ("ecb-mro",)),
    "de-bgb": Rule("de-bgb", de_bgb, de_compensation, ("de-basiszins",), consumers=True),
    "contract": Rule("contract", contract, no_compensation, (), consumers=True),
}
RULE_NAMES = (*RULES, "none")


def rule_for(name: str, debt: Debt) -> Rule | None:
    """The rule that charges ``debt``: a rate agreed in the contract comes before a statutory one
    (no statutory interest where the contract sets a rate, as gov.uk's guidance says); "none" charges nothing."""
    if name == "none":
        return None
    if debt.contract_rate is not None:
        return RULES["contract"]
    return RULES[name]
