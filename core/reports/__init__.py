"""The portfolio reports: each a pure function over the store's plain rows (``dunning.store.reports``).

``REPORTS`` names them; ``run`` builds one. Every figure comes from the
obligations, payments, promises, contact log and events, so the same
database and the same day give the same report.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from dunning.reports import activity, aging, contacts, promises, recovery, roll_rates
from dunning.reports.model import Report
from dunning.reports.params import Params, ReportSource

REPORTS: Mapping[str, tuple[Callable[[ReportSource, Params], Report], str]] = {
    "aging": (aging.build, "balance and cases by days past due, overdue and not yet due apart"),
    "roll-rates": (roll_rates.build, "moves between buckets period over period, cure rate, path to write-off"),
    "recovery": (recovery.build, "collected / placed by stage, agency, channel, collector; recovery curves"),
    "promises": (promises.build, "promises made, kept, broken and kept rate by collector, bucket and month"),
    "contacts": (contacts.build, "attempts, right-party contacts and contact rate by channel, number and time"),
    "activity": (activity.build, "per day: sent by channel, approvals, stage changes, payments"),
}


def run(name: str, source: ReportSource, params: Params) -> Report:
    return REPORTS[name][0](source, params)


__all__ = ["REPORTS", "Params", "Report", "run"]
