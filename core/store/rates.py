"""Reference rates with the day each took effect (``dunning rates``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

from dunning.calendar import to_text
from dunning.store.connection import StoreConnection

if TYPE_CHECKING:
    from dunning.ledger.rates import RatePoint  # made where interest is worked out (not by every command's store)


class Rates(StoreConnection):
    """The store's part that keeps reference rate histories."""

    def rate_histories(self) -> dict[str, list[RatePoint]]:
        """Every history, oldest point first."""
        from dunning.ledger.rates import RatePoint

        found: dict[str, list[RatePoint]] = {}
        for name, valid_from, rate in self.conn.execute(
            "SELECT name, valid_from, rate FROM reference_rates ORDER BY name, valid_from"
        ):
            found.setdefault(name, []).append(RatePoint(dt.date.fromisoformat(valid_from), Decimal(rate)))
        return found

    def rate_rows(self) -> list[tuple[str, dt.date, Decimal, str, str]]:
        """(name, valid_from, rate, set_by, set_at) for ``rates list``."""
        return [(r[0], dt.date.fromisoformat(r[1]), Decimal(r[2]), r[3], r[4]) for r in self.conn.execute(
            "SELECT name, valid_from, rate, set_by, set_at FROM reference_rates ORDER BY name, valid_from")]

    def set_rate(self, name: str, valid_from: dt.date, rate: Decimal, by: str, now: dt.datetime) -> Decimal | None:
        """Record the rate in force from ``valid_from`` (replacing one given for that day); the rate it replaced."""
        before = self.conn.execute("SELECT rate FROM reference_rates WHERE name = ? AND valid_from = ?",
                                   [name, valid_from.isoformat()]).fetchone()
        self.conn.execute(
            "INSERT INTO reference_rates (name, valid_from, rate, set_by, set_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(name, valid_from) DO UPDATE SET rate = excluded.rate, set_by = excluded.set_by, "
            "set_at = excluded.set_at",
            [name, valid_from.isoformat(), str(rate), by, to_text(now)])
        return Decimal(before[0]) if before else None
