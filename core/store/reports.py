"""Plain rows for the portfolio reports (``dunning.reports``): read-only, streamed, in the order each report needs.

Every method yields tuples straight from the cursor, so a report over a
million cases never holds more than what it aggregates. Moments come back as
stored text (UTC, ISO 8601), which sorts as time does; the reports compare
and cut them as text.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from dunning.store.connection import StoreConnection

# (id, currency, opened_on, status, resolved_on, stage)
CaseRow = tuple[int, str, str, str, "str | None", str]
# (case_id, amount, due_on, issued_on)
ObligationRow = tuple[int, int, str, "str | None"]
# (case_id, amount, at)
PaymentRow = tuple[int, int, str]
# (at, case_id, kind, stage, dpd, channel, step, data as JSON text)
EventRow = tuple[str, "int | None", str, "str | None", "int | None", "str | None", "str | None", str]
# (id, case_id, amount, due_at, status, created_at, settled_at)
PromiseRow = tuple[int, int, int, str, str, str, "str | None"]
# (case_id, channel, at, connected, role, outcome, contact kind, debtor's time zone)
AttemptRow = tuple["int | None", str, str, "int | None", str, "str | None", "str | None", "str | None"]


CASES_SQL = "SELECT id, currency, opened_on, status, resolved_on, stage FROM cases ORDER BY id"
OBLIGATIONS_SQL = "SELECT case_id, amount, due_on, issued_on FROM obligations ORDER BY case_id, due_on, id"
PAYMENTS_SQL = "SELECT case_id, amount, at FROM payments WHERE at < ? ORDER BY case_id, at, id"
PROMISES_SQL = ("SELECT id, case_id, amount, due_at, status, created_at, settled_at FROM promises "
                "WHERE created_at < ? ORDER BY id")
ATTEMPTS_SQL = (
    "SELECT a.case_id, a.channel, a.at, a.connected, a.role, a.outcome, "
    "(SELECT c.kind FROM contacts c WHERE c.debtor_id = a.debtor_id AND c.value = a.contact LIMIT 1), "
    "d.timezone FROM contact_attempts a JOIN debtors d ON d.id = a.debtor_id WHERE a.at >= ? AND a.at < ?")


def _events_sql(kinds: int) -> str:
    # kind IN (...) with a range on `at` walks index events_kind_at (m020) kind by kind, in order of time.
    marks = ", ".join("?" for _ in range(kinds))
    return ("SELECT at, case_id, kind, stage, dpd, channel, step, data FROM events "
            f"WHERE kind IN ({marks}) AND at >= ? AND at < ? ORDER BY kind, at")


class ReportRows(StoreConnection):
    """The store's part that hands the reports their rows."""

    def report_cases(self) -> Iterator[CaseRow]:
        """Every case, by id."""
        yield from self.conn.execute(CASES_SQL)

    def report_obligations(self) -> Iterator[ObligationRow]:
        """Every obligation, by case and due date (the order payments are applied in), on index obligations_case."""
        yield from self.conn.execute(OBLIGATIONS_SQL)

    def report_payments(self, until: str) -> Iterator[PaymentRow]:
        """Payments made before ``until`` (a UTC moment as text), by case and moment (index m020 payments_case_at)."""
        yield from self.conn.execute(PAYMENTS_SQL, [until])

    def report_events(self, kinds: Iterable[str], until: str, since: str = "") -> Iterator[EventRow]:
        """Events of ``kinds`` with ``since <= at < until``, kind by kind and in order of time within a kind."""
        wanted = sorted(set(kinds))
        yield from self.conn.execute(_events_sql(len(wanted)), [*wanted, since, until])

    def report_promises(self, until: str) -> Iterator[PromiseRow]:
        """Promises made before ``until``."""
        yield from self.conn.execute(PROMISES_SQL, [until])

    def report_attempts(self, until: str, since: str = "") -> Iterator[AttemptRow]:
        """Contact attempts with ``since <= at < until``, with the kind of number or address tried.

        The kind comes from the debtor's contacts (mobile, work, home, email,
        postal); an address no longer on file has none.
        """
        yield from self.conn.execute(ATTEMPTS_SQL, [since, until])

    def report_query_plans(self) -> dict[str, list[str]]:
        """How SQLite runs each query above (``EXPLAIN QUERY PLAN``), for bench/reports.py and its notes."""
        samples: dict[str, tuple[str, list[Any]]] = {
            "cases": (CASES_SQL, []), "obligations": (OBLIGATIONS_SQL, []), "payments": (PAYMENTS_SQL, ["9999"]),
            "events": (_events_sql(2), ["payment", "sent", "", "9999"]), "promises": (PROMISES_SQL, ["9999"]),
            "attempts": (ATTEMPTS_SQL, ["", "9999"])}
        return {name: [str(row[-1]) for row in self.conn.execute(f"EXPLAIN QUERY PLAN {sql}", params)]
                for name, (sql, params) in samples.items()}
