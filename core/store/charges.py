"""Interest, fees and compensation posted against obligations, kept apart from principal."""

from __future__ import annotations

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
