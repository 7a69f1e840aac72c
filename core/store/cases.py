"""Cases, their debtors and obligations: reading them, changing a case, finding the cases due."""

from __future__ import annotations

import datetime as dt
from typing import Any

from dunning.calendar import to_text
from dunning.models import Case, Debtor, Obligation, Stage, Status
from dunning.priority import CaseFacts
from dunning.store.connection import StoreConnection
from dunning.store.errors import NotFound
from dunning.store.rows import _CASE_COLUMNS, _DUE_COLUMNS, _case, _case_filter, _date


class Cases(StoreConnection):
    """The store's part that reads and changes cases."""

    def debtor(self, debtor_id: str) -> Debtor | None:
        row = self.conn.execute(
            "SELECT id, name, kind, country, timezone, locale, region, zone FROM debtors WHERE id = ?", [debtor_id]
        ).fetchone()
        return Debtor(*row) if row else None

    def case(self, case_id: int) -> Case:
        row = self.conn.execute(f"SELECT {_CASE_COLUMNS} FROM cases WHERE id = ?", [case_id]).fetchone()
        if row is None:
            moved = self.conn.execute("SELECT archive, archived_at FROM archived_cases WHERE case_id = ?",
                                      [case_id]).fetchone()
            if moved is not None:
                raise NotFound(f"case {case_id} was archived on {moved[1]} to {moved[0]}")
            raise NotFound(f"no case with id {case_id}")
        return _case(row)

    def cases(self, *, stage: str | None = None, status: str | None = None, limit: int | None = None) -> list[Case]:
        where, params = _case_filter(stage, status)
        sql = f"SELECT {_CASE_COLUMNS} FROM cases WHERE {' AND '.join(['1', *where])} ORDER BY id"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [_case(r) for r in self.conn.execute(sql, params)]

    def stage_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for stage, status, n in self.conn.execute(
            "SELECT stage, status, count(*) FROM cases GROUP BY stage, status"
        ):
            key = stage if status == Status.OPEN else status
            counts[key] = counts.get(key, 0) + n
        return counts

    def obligations(self, case_id: int) -> list[Obligation]:
        return [
            Obligation(case_id=r[0], reference=r[1], amount=r[2], currency=r[3], issued_on=_date(r[4]),
                       due_on=dt.date.fromisoformat(r[5]), paid=r[6], id=r[7], closed_reason=r[8],
                       closed_on=_date(r[9]), disputed_on=_date(r[10]))
            for r in self.conn.execute(
                "SELECT case_id, reference, amount, currency, issued_on, due_on, paid, id, closed_reason, closed_on, "
                "disputed_on FROM obligations "
                "WHERE case_id = ? ORDER BY due_on, id",
                [case_id],
            )
        ]

    def existing_obligation(self, debtor_id: str, reference: str) -> tuple[int, str, str] | None:
        """(amount, currency, due_on) of an obligation already stored under this reference."""
        row = self.conn.execute(
            "SELECT amount, currency, due_on FROM obligations WHERE debtor_id = ? AND reference = ?",
            [debtor_id, reference],
        ).fetchone()
        return (row[0], row[1], row[2]) if row else None

    def open_cases_of(self, debtor_id: str) -> list[Case]:
        return [_case(r) for r in self.conn.execute(
            f"SELECT {_CASE_COLUMNS} FROM cases WHERE debtor_id = ? AND status = 'open' ORDER BY id", [debtor_id])]

    def open_case_id(self, debtor_id: str, currency: str) -> int | None:
        row = self.conn.execute(
            "SELECT id FROM cases WHERE debtor_id = ? AND currency = ? AND status = 'open'", [debtor_id, currency]
        ).fetchone()
        return row[0] if row else None

    def _refresh_balance(self, case_id: int, *, wake_on: dt.date) -> tuple[int, dt.date | None]:
        """Recompute balance and the days-past-due anchor from the obligations; wake the case."""
        balance, anchor = self.conn.execute(
            # Closed items (the books settled them) owe nothing; disputed ones still count in the balance.
            "SELECT coalesce(sum(amount - paid), 0), min(CASE WHEN amount > paid THEN due_on END) "
            "FROM obligations WHERE case_id = ? AND closed_reason IS NULL",
            [case_id],
        ).fetchone()
        self.conn.execute(
            "UPDATE cases SET balance = ?, anchor_due_on = ?, "
            "next_action_on = CASE WHEN status = 'open' THEN min(coalesce(next_action_on, ?), ?) ELSE NULL END "
            "WHERE id = ?",
            [balance, anchor, wake_on.isoformat(), wake_on.isoformat(), case_id],
        )
        return balance, _date(anchor)

    def due_cases(self, today: dt.date, after: tuple[str, int] | None, limit: int) -> list[tuple[Case, str | None]]:
        """Open cases with something due by ``today``, with the debtor's time zone; keyset-paged."""
        return [(_case(r), r[-1]) for r in self.due_case_rows(today, after, limit)]

    def due_case_rows(self, today: dt.date, after: tuple[str, int] | None, limit: int) -> list[tuple[Any, ...]]:
        """``due_cases`` as rows: the case's columns (``_CASE_COLUMNS``), then the debtor's time zone."""
        last_day, last_id = after or ("", 0)
        # Two plain range scans on the cases_due index instead of one row-value
        # comparison "(next_action_on, id) > (?, ?)": SQLite seeks only on the
        # first column of a row value, so each page would rescan every entry of
        # ``last_day`` before ``last_id`` - quadratic when a million cases fall
        # due on the same day (and a dry run, which moves no cursor, rescans
        # them all). First the rest of ``last_day``, then the later days.
        select = f"SELECT {_DUE_COLUMNS} FROM cases c JOIN debtors d ON d.id = c.debtor_id "
        rows = self.conn.execute(
            select + "WHERE c.next_action_on = ? AND c.id > ? AND c.next_action_on <= ? ORDER BY c.id LIMIT ?",
            [last_day, last_id, today.isoformat(), limit],
        ).fetchall()
        if len(rows) < limit:
            rows += self.conn.execute(
                select + "WHERE c.next_action_on > ? AND c.next_action_on <= ? ORDER BY c.next_action_on, c.id LIMIT ?",
                [last_day, today.isoformat(), limit - len(rows)],
            ).fetchall()
        return rows

    def count_due(self, today: dt.date) -> int:
        return self.conn.execute(
            "SELECT count(*) FROM cases WHERE next_action_on <= ?", [today.isoformat()]
        ).fetchone()[0]

    def update_case(self, case_id: int, **fields: Any) -> None:
        """Set columns of a case (inside the caller's transaction)."""
        allowed = {"stage", "status", "previous_stage", "stage_entered_on", "resolved_on", "account_locked",
                   "broken_promises", "next_action_on", "last_acknowledged_on"}
        unknown = set(fields) - allowed
        if unknown:
            raise ValueError(f"cannot set {', '.join(sorted(unknown))} on a case")
        values = [v.isoformat() if isinstance(v, dt.date) else (v.value if isinstance(v, Stage | Status) else v)
                  for v in fields.values()]
        self.conn.execute(
            f"UPDATE cases SET {', '.join(f'{k} = ?' for k in fields)} WHERE id = ?", [*values, case_id]
        )

    def wake(self, case_id: int, day: dt.date) -> None:
        """Make the next run look at this case no later than ``day``."""
        self.conn.execute(
            "UPDATE cases SET next_action_on = min(coalesce(next_action_on, ?), ?) WHERE id = ? AND status = 'open'",
            [day.isoformat(), day.isoformat(), case_id],
        )

    def priority_facts(self, case: Case, today: dt.date, zone: dt.tzinfo = dt.UTC) -> CaseFacts:
        """The facts a work queue weighs for ``case`` on ``today`` in ``zone`` (see ``dunning.priority``)."""
        paid_any = self.conn.execute(
            "SELECT 1 FROM payments WHERE case_id = ? AND reversed_at IS NULL LIMIT 1", [case.id]).fetchone()
        first = self.conn.execute(
            "SELECT paid, due_on FROM obligations WHERE case_id = ? ORDER BY due_on, id LIMIT 1", [case.id]).fetchone()
        start = dt.datetime.combine(today, dt.time(), zone)
        end = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(), zone)
        promise_today = self.conn.execute(
            "SELECT 1 FROM promises WHERE case_id = ? AND status = 'pending' AND due_at >= ? AND due_at < ? LIMIT 1",
            [case.id, to_text(start), to_text(end)]).fetchone()
        phones = self.conn.execute(
            "SELECT count(*), sum(bad) FROM contacts WHERE debtor_id = ? AND role = 'debtor' AND active = 1 "
            "AND kind IN ('mobile', 'work', 'home')", [case.debtor_id]).fetchone()
        return CaseFacts(
            first_instalment_default=bool(first and first[0] == 0 and not paid_any and case.balance > 0
                                          and dt.date.fromisoformat(first[1]) < today),
            promise_due_today=promise_today is not None,
            partial_payer=bool(paid_any) and case.balance > 0,
            lost_contact=phones[0] == 0 or phones[0] == (phones[1] or 0),
        )
