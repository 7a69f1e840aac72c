"""Interest, fees and compensation posted against obligations, kept apart from principal."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from dunning.calendar import to_text
from dunning.store.connection import StoreConnection


class Charges(StoreConnection):
    """The store's part that reads the charges ledger."""

    def open_charges(self, case_id: int) -> list[tuple[int, int, str, int]]:
        """Each open charge of a case as (charge id, obligation id, kind, amount still open), oldest first."""
        return [
            (r[0], r[1], r[2], r[3])
            for r in self.conn.execute(
                "SELECT id, obligation_id, kind, amount - paid - waived FROM charges "
                "WHERE case_id = ? AND amount > paid + waived ORDER BY id",
                [case_id],
            )
        ]

    def charges_owed(self, case_id: int) -> dict[str, int]:
        """What is still open of each kind of charge on a case: {"interest": …, "fee": …, "compensation": …}."""
        owed = {"interest": 0, "fee": 0, "compensation": 0}
        for kind, amount in self.conn.execute(
            "SELECT kind, sum(amount - paid - waived) FROM charges WHERE case_id = ? GROUP BY kind", [case_id]
        ):
            owed[kind] = int(amount or 0)
        return owed

    # --- writing: what `dunning run` accrues and posts, and what `dunning waive` forgoes -------------

    def interest_notice(self, case_id: int) -> dt.date | None:
        """The day the written notice of interest went out for the case, if it has."""
        row = self.conn.execute("SELECT sent_on FROM interest_notices WHERE case_id = ?", [case_id]).fetchone()
        return dt.date.fromisoformat(row[0]) if row else None

    def record_interest_notice(self, case_id: int, sent_on: dt.date, action_id: int | None, step: str) -> bool:
        """Remember the first notice of interest sent for the case; False when one was recorded before."""
        return self.conn.execute(
            "INSERT OR IGNORE INTO interest_notices (case_id, sent_on, action_id, step) VALUES (?, ?, ?, ?)",
            [case_id, sent_on.isoformat(), action_id, step]).rowcount == 1

    def noticed_open_cases(self) -> list[tuple[int, dt.date]]:
        """Open cases whose notice of interest has gone out, with its day."""
        return [(r[0], dt.date.fromisoformat(r[1])) for r in self.conn.execute(
            "SELECT n.case_id, n.sent_on FROM interest_notices n JOIN cases c ON c.id = n.case_id "
            "WHERE c.status = 'open' ORDER BY n.case_id")]

    def obligations_for_interest(self, case_id: int) -> list[tuple[int, str, int, int, str, dt.date, str | None]]:
        """(id, reference, amount, open, currency, due_on, agreed interest rate) of each obligation, oldest first."""
        return [(r[0], r[1], r[2], r[3], r[4], dt.date.fromisoformat(r[5]), r[6]) for r in self.conn.execute(
            "SELECT id, reference, amount, amount - paid, currency, due_on, interest_rate FROM obligations "
            "WHERE case_id = ? ORDER BY due_on, id", [case_id])]

    def accrual_state(self, obligation_id: int) -> tuple[dt.date, Decimal] | None:
        """How far interest on the obligation was worked out, and its exact (unrounded) total so far."""
        row = self.conn.execute("SELECT accrued_to, exact FROM interest_accruals WHERE obligation_id = ?",
                                [obligation_id]).fetchone()
        return (dt.date.fromisoformat(row[0]), Decimal(row[1])) if row else None

    def save_accrual_state(self, obligation_id: int, accrued_to: dt.date, exact: Decimal) -> None:
        self.conn.execute(
            "INSERT INTO interest_accruals (obligation_id, accrued_to, exact) VALUES (?, ?, ?) "
            "ON CONFLICT(obligation_id) DO UPDATE SET accrued_to = excluded.accrued_to, exact = excluded.exact",
            [obligation_id, accrued_to.isoformat(), str(exact)])

    def post_charge(self, case_id: int, obligation_id: int, kind: str, amount: int, rule: str, key: str,
                    now: dt.datetime, accrued_from: dt.date | None = None, accrued_to: dt.date | None = None) -> bool:
        """Post one charge; False (and nothing written) when a charge with ``key`` exists already."""
        return self.conn.execute(
            "INSERT OR IGNORE INTO charges (case_id, obligation_id, kind, amount, rule, accrued_from, accrued_to, "
            "key, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [case_id, obligation_id, kind, amount, rule, accrued_from.isoformat() if accrued_from else None,
             accrued_to.isoformat() if accrued_to else None, key, to_text(now)]).rowcount == 1

    def charge_exists(self, key: str) -> bool:
        return self.conn.execute("SELECT 1 FROM charges WHERE key = ?", [key]).fetchone() is not None

    def charge_rows(self, case_id: int) -> list[dict[str, Any]]:
        """Every posting on the case, oldest first, for ``cases show --json``."""
        columns = ("id", "obligation_id", "kind", "amount", "paid", "waived", "rule", "accrued_from", "accrued_to",
                   "key")
        return [dict(zip(columns, r, strict=True)) for r in self.conn.execute(
            f"SELECT {', '.join(columns)} FROM charges WHERE case_id = ? ORDER BY id", [case_id])]

    def waive_charges(self, case_id: int, kinds: Sequence[str]) -> list[tuple[int, str, int]]:
        """Forgo what is still open of the case's charges of ``kinds``: (charge id, kind, amount waived) each."""
        marks = ", ".join("?" for _ in kinds)
        rows = self.conn.execute(
            f"SELECT id, kind, amount - paid - waived FROM charges WHERE case_id = ? AND kind IN ({marks}) "
            "AND amount > paid + waived ORDER BY id", [case_id, *kinds]).fetchall()
        for charge_id, _kind, open_amount in rows:
            self.conn.execute("UPDATE charges SET waived = waived + ? WHERE id = ?", [open_amount, charge_id])
        return [(r[0], r[1], r[2]) for r in rows]
