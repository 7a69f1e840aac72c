"""Plain rows for the portfolio reports (``dunning.reports``): read-only, streamed, in the order each report needs.

Every method yields tuples straight from the cursor, so a report over a
million cases never holds more than what it aggregates. Moments come back as
stored text (UTC, ISO 8601), which sorts as time does. Where a report only
counts (attempts, events per quarter hour: every time zone's offset is a
whole number of quarter hours), SQLite groups the rows and the report
gets one row per group; the report's rules (time slots in the debtor's zone,
business days, attribution) stay with the report. ``case_ids`` limits a
query to the cases a report's filters accept (None: every case).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterable, Iterator
from typing import Any

from dunning.store.report_rollups import (
    ROLL_UP_ATTEMPTS_SQL,
    ROLL_UP_EVENTS_SQL,
    ROLLED_ATTEMPTS_SQL,
    ROLLED_EVENTS_SQL,
    ReportRollups,
    quarter_sql,
)
from dunning.store.dialect_names import POSTGRESQL, SQLITE, json_field

# (id, currency, opened_on, status, resolved_on, stage)
CaseRow = tuple[int, str, str, str, "str | None", str]
# (case_id, amount, due_on, issued_on, closed_on: the day the books closed it, owing nothing here since)
ObligationRow = tuple[int, int, str, "str | None", "str | None"]
# (case_id, amount applied to the debt: the payment less what went to the debtor's credit, at)
PaymentRow = tuple[int, int, str]
# (at, case_id, kind, stage entered, stage left, collector, agency, balance placed)
FactRow = tuple[str, int, str, "str | None", "str | None", "str | None", "str | None", "int | None"]
# (promise id, case_id, amount, due_at, status, created_at, settled_at, days past due when made)
PromiseRow = tuple[int, int, int, str, str, str, "str | None", "int | None"]
# (channel, contact kind, debtor's time zone, UTC quarter hour 'YYYY-MM-DDTHH:M', attempts, right-party contacts)
AttemptGroup = tuple[str, "str | None", "str | None", str, int, int]
# (kind, channel, UTC quarter hour 'YYYY-MM-DDTHH:M', rule, currency, events, sum of amounts)
EventGroup = tuple[str, "str | None", str, "str | None", "str | None", int, "int | None"]
# (case_id, amount, at, last contact: moment, kind, channel; last call: moment, collector)
PaymentContactRow = tuple[int, int, str, "str | None", "str | None", "str | None", "str | None", "str | None"]

# The evidence kinds of the plugins that ship with dunning the reports read (namespaced <plugin>:<what>).
CALL_LOGGED, VISIT_LOGGED = "phone:call_logged", "visit:logged"
AGENCY_PLACED, AGENCY_PLACEMENT_ENDED = "agency:placed", "agency:placement_ended"
CONTACT_KINDS = (CALL_LOGGED, "sent", VISIT_LOGGED)
_IN_CASES = " AND {column} IN (SELECT id FROM temp.report_case_ids)"



def _batches(cursor: Any, size: int = 65536) -> Iterator[list[tuple[int, ...]]]:
    """The cursor's rows a batch at a time: a million rows are never all Python tuples at once."""
    while batch := cursor.fetchmany(size):
        yield batch


def _quoted(text: str) -> str:
    """A string literal for SQL (the cases' own currencies and statuses, built into a CASE)."""
    return "'" + text.replace("'", "''") + "'"


_quarter = quarter_sql  # '2026-03-02T09:15' from '2026-03-02T09:27:03Z'


CASES_SQL = "SELECT id, currency, opened_on, status, resolved_on, stage FROM cases ORDER BY id"
OBLIGATIONS_SQL = "SELECT case_id, amount, due_on, issued_on, closed_on FROM obligations ORDER BY case_id, due_on, id"
# A payment reversed by the day no longer counts; its surplus went to the debtor's credit, not to the debt.
_STANDS = "AND (reversed_at IS NULL OR reversed_at >= ?1)"
PAYMENTS_SQL = ("SELECT case_id, amount - surplus, at FROM payments WHERE at < ?1 "
                f"{_STANDS} ORDER BY case_id, at, id")


def _fact_queries(dialect: str) -> dict[str, str]:
    """The queries that read facts out of events' JSON data, as ``dialect``'s database says them
    (dunning.store.dialect.json_field): SQLite's json_extract, PostgreSQL's ``->>``."""
    def field(key: str, sql_type: str = "text", column: str = "data") -> str:
        return json_field(dialect, column, key, sql_type)

    def window_start(number: int) -> str:
        # The payment's moment moved by the window (a parameter: '-30 days'), as stored text. SQLite's takes
        # `?` beside ?3 as it comes; psycopg wants every parameter named by number, or none.
        if dialect == POSTGRESQL:
            return (f"to_char((p.at::timestamptz + CAST(?{number} AS interval)) AT TIME ZONE 'UTC', "
                    "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')")
        return "strftime('%Y-%m-%dT%H:%M:%SZ', p.at, ?)"

    return {
        # Every stage change, later ones too: the first one after the day says, by its "from", where the case stood.
        "stages": (f"SELECT at, case_id, kind, {field('to')}, {field('from')}, NULL, NULL, NULL "
                   "FROM events WHERE kind = 'stage_changed' AND case_id IS NOT NULL"),
        "calls": (f"SELECT at, case_id, kind, NULL, NULL, {field('collector')}, NULL, NULL "
                  f"FROM events WHERE kind = '{CALL_LOGGED}' AND at < ? AND case_id IS NOT NULL"),
        "placements": (
            f"SELECT at, case_id, kind, NULL, NULL, NULL, {field('agency')}, {field('balance', 'bigint')} "
            f"FROM events WHERE kind IN ('{AGENCY_PLACED}', '{AGENCY_PLACEMENT_ENDED}') AND at < ? "
            "AND case_id IS NOT NULL"),
        # The days past due come from the promise's own event, found among its case's events (index events_case;
        # the unary + keeps SQLite from walking every promise event of that moment instead).
        "promises": (
            "SELECT p.id, p.case_id, p.amount, p.due_at, p.status, p.created_at, p.settled_at, "
            "(SELECT e.dpd FROM events e WHERE e.case_id = p.case_id AND +e.kind = 'promise' "
            f"AND +e.at = p.created_at AND {field('promise_id', 'bigint', 'e.data')} = p.id) "
            "FROM promises p WHERE p.created_at < ?"),
        # kind IN (...) with a range on `at` walks index events_kind_at (m020) kind by kind, in order of time.
        "event groups": (
            f"SELECT kind, channel, {_quarter('at')}, {field('rule')}, {field('currency')}, "
            f"count(*), sum({field('amount', 'bigint')}) FROM events WHERE kind IN ({{kinds}}) AND at >= ? AND at < ?"
            "{filter} GROUP BY 1, 2, 3, 4, 5"),
        # For each payment, the case's last contact and last logged call at or before it and not before `window`
        # earlier: a walk of the case's own events on index events_case.
        "payment contacts": (
            "SELECT p.case_id, p.amount - p.surplus, p.at, c.at, c.kind, c.channel, k.at, "
            f"{field('collector', column='k.data')} "
            "FROM payments p "
            # The unary + keeps SQLite on index events_case (the case's few events) rather than a range of all cases'.
            "LEFT JOIN events c ON c.seq = (SELECT e.seq FROM events e WHERE e.case_id = p.case_id "
            f"AND +e.kind IN ({', '.join(repr(k) for k in CONTACT_KINDS)}) AND +e.at <= p.at "
            f"AND +e.at >= {window_start(1)} ORDER BY e.at DESC, e.seq DESC LIMIT 1) "
            "LEFT JOIN events k ON k.seq = (SELECT e.seq FROM events e WHERE e.case_id = p.case_id "
            f"AND +e.kind = '{CALL_LOGGED}' AND +e.at <= p.at AND +e.at >= {window_start(2)} "
            "ORDER BY e.at DESC, e.seq DESC LIMIT 1) "
            "WHERE p.at < ?3 AND (p.reversed_at IS NULL OR p.reversed_at >= ?3){filter}"),
    }


_FACT_QUERIES = {dialect: _fact_queries(dialect) for dialect in (SQLITE, POSTGRESQL)}
STAGE_FACTS_SQL = _FACT_QUERIES[SQLITE]["stages"]
CALL_FACTS_SQL = _FACT_QUERIES[SQLITE]["calls"]
PLACEMENT_FACTS_SQL = _FACT_QUERIES[SQLITE]["placements"]
PROMISES_SQL = _FACT_QUERIES[SQLITE]["promises"]
PAYMENT_CONTACTS_SQL = _FACT_QUERIES[SQLITE]["payment contacts"]

# The contact's kind is looked up once per attempt in a co-routine (LIMIT -1 keeps it from being flattened into
# the GROUP BY, which would look it up twice).
ATTEMPT_GROUPS_SQL = (
    "SELECT channel, kind, zone, quarter, count(*), sum(reached) FROM (SELECT a.channel AS channel, "
    "(SELECT c.kind FROM contacts c WHERE c.debtor_id = a.debtor_id AND c.value = a.contact LIMIT 1) AS kind, "
    f"d.timezone AS zone, {_quarter('a.at')} AS quarter, "
    "CASE WHEN a.connected = 1 AND a.role = 'debtor' THEN 1 ELSE 0 END AS reached "
    "FROM contact_attempts a JOIN debtors d ON d.id = a.debtor_id WHERE a.at >= ? AND a.at < ?{filter} LIMIT -1) "
    "GROUP BY 1, 2, 3, 4")
EVENT_GROUPS_SQL = _FACT_QUERIES[SQLITE]["event groups"]
# roll-rates without the per-case Python books (dunning.reports.roll_states): the same rows as CASES_SQL,
# OBLIGATIONS_SQL and PAYMENTS_SQL, as whole numbers (days since 1970-01-01, seconds since its start; currency and
# status as their index in the lists passed in, built into a CASE), so they load straight into arrays.
# unixepoch() (SQLite 3.38) reads a date a third faster than julianday(); the day is floored (moments before 1970 too).
_HAS_UNIXEPOCH = sqlite3.sqlite_version_info >= (3, 38, 0)
EPOCH_DAY_BY_UNIXEPOCH = "(unixepoch({0}) + 86400000000) / 86400 - 1000000"
EPOCH_DAY_BY_JULIANDAY = "CAST(julianday(substr({0}, 1, 10)) - 2440587.5 AS INTEGER)"
_EPOCH_DAY = EPOCH_DAY_BY_UNIXEPOCH if _HAS_UNIXEPOCH else EPOCH_DAY_BY_JULIANDAY
_EPOCH_SECOND = "unixepoch({0})" if _HAS_UNIXEPOCH else "CAST(strftime('%s', {0}) AS INTEGER)"
NO_DAY = 1 << 40  # a day that never comes: not resolved, never closed by the books
_OPENED = _EPOCH_DAY.format("opened_on")
_RESOLVED = _EPOCH_DAY.format("nullif(resolved_on, '')")
# (id, opened day << 16 | status index << 8 | currency index, resolved day): fewer values a row is less to fetch.
ROLL_CASES_SQL = (f"SELECT id, (({_OPENED}) << 16) | ({{status}} << 8) | {{currency}}, "
                  f"coalesce({_RESOLVED}, {NO_DAY}) FROM cases ORDER BY id")
_DUE = _EPOCH_DAY.format("due_on")
_ISSUED = _EPOCH_DAY.format("nullif(issued_on, '')")
_CLOSED = _EPOCH_DAY.format("nullif(closed_on, '')")
# Without an issue date an obligation counts from its case's opening: -NO_DAY says so (the arrays look it up).
# In the table's order, unsorted: walking an index would look every row up by its id; the arrays sort by case and
# due day (which item of the same day a payment covers first does not change the oldest open item's due day).
ROLL_OBLIGATIONS_SQL = (f"SELECT case_id, amount, {_DUE}, coalesce({_ISSUED}, -{NO_DAY}), "
                        f"coalesce({_CLOSED}, {NO_DAY}) FROM obligations")
# Unsorted too: the arrays only sum them by case.
ROLL_PAYMENTS_SQL = (f"SELECT case_id, amount - surplus, {_EPOCH_SECOND.format('at')} FROM payments "
                     f"WHERE at < ?1 {_STANDS}")

# Aging without a filter, summed in SQL: each open case's obligations counted on day ?1 (issued by then, not closed
# by then), the payments made before ?2 (the first moment after the day) applied oldest due first, as
# dunning.reports.history.CaseBook.open_items applies them (tests/core/test_report_rollups.py keeps the two equal).
# What is left of each item, by currency and days past due; the oldest open item of each case (ordered as the
# payments were applied) counts the case.
AGING_GROUPS_SQL = (
    "WITH open_cases AS (SELECT id, currency, substr(opened_on, 1, 10) AS opened FROM cases "
    "WHERE substr(opened_on, 1, 10) <= ?1 AND (resolved_on IS NULL OR resolved_on = '' "
    "OR substr(resolved_on, 1, 10) > ?1)), "
    f"paid AS (SELECT case_id, sum(amount - surplus) AS paid FROM payments WHERE at < ?2 {_STANDS.replace('?1', '?2')} "
    "GROUP BY case_id), "
    "items AS (SELECT o.case_id, o.id, c.currency, substr(o.due_on, 1, 10) AS due, o.amount, "
    "sum(o.amount) OVER (PARTITION BY o.case_id ORDER BY o.due_on, o.id ROWS UNBOUNDED PRECEDING) - o.amount AS before "
    "FROM open_cases c JOIN obligations o ON o.case_id = c.id "
    "WHERE coalesce(nullif(substr(o.issued_on, 1, 10), ''), c.opened) <= ?1 "
    "AND (o.closed_on IS NULL OR o.closed_on = '' OR substr(o.closed_on, 1, 10) > ?1)), "
    "owed AS (SELECT i.case_id, i.id, i.currency, i.due, "
    "i.amount - max(0, min(i.amount, coalesce(p.paid, 0) - i.before)) AS amount "
    "FROM items i LEFT JOIN paid p ON p.case_id = i.case_id), "
    "open_items AS (SELECT currency, due, amount, "
    "CASE WHEN row_number() OVER (PARTITION BY case_id ORDER BY due, id) = 1 THEN 1 ELSE 0 END AS oldest "
    "FROM owed WHERE amount > 0) "
    "SELECT currency, CAST(julianday(?1) - julianday(due) AS INTEGER), sum(amount), sum(oldest) "
    "FROM open_items GROUP BY 1, 2")
# (currency, days past due, amount still owed, cases whose oldest open item it is)
AgingGroup = tuple[str, int, int, int]


class ReportRows(ReportRollups):
    """The store's part that hands the reports their rows (the attempt and event groups from the kept counts
    where they can answer: ``dunning.store.report_rollups``)."""

    # False: the reports count and sum every row themselves, as before the kept counts and the sums in SQL
    # (the bench's "before", the tests' reference).
    report_counts = True

    def report_cases(self) -> Iterator[CaseRow]:
        """Every case, by id."""
        yield from self.conn.execute(CASES_SQL)

    def report_obligations(self) -> Iterator[ObligationRow]:
        """Every obligation, by case and due date (the order payments are applied in), on index obligations_case."""
        yield from self.conn.execute(OBLIGATIONS_SQL)

    def report_payments(self, until: str) -> Iterator[PaymentRow]:
        """Payments made before ``until`` (a UTC moment as text), by case and moment (index m020 payments_case_at)."""
        yield from self.conn.execute(PAYMENTS_SQL, [until])

    def report_aging_groups(self, day: str, until: str) -> Iterator[AgingGroup] | None:
        """What open cases owed at the end of ``day`` (ISO date; ``until`` its first moment after), summed by
        currency and days past due, with how many cases each sum is the oldest open item of. None when the
        reports are to count from the rows (``report_counts`` False)."""
        return iter(self.conn.execute(AGING_GROUPS_SQL, [day, until])) if self.report_counts else None

    def report_roll_columns(self, until: str) -> tuple[list[str], list[str], Iterator[list[tuple[int, ...]]],
                                                       Iterator[list[tuple[int, ...]]],
                                                       Iterator[list[tuple[int, ...]]]] | None:
        """Currencies, statuses, then in batches cases (id, opened day << 16 | status index << 8 | currency index,
        resolved day or NO_DAY), obligations (case, amount, due day, issue day or -NO_DAY, closed day or NO_DAY)
        and payments before ``until`` (case, amount applied, seconds) as whole numbers: the rows roll-rates
        rebuilds states from. None when the reports are to count from the rows (``report_counts`` False), or
        with more than 256 currencies or statuses."""
        if not self.report_counts:
            return None
        pairs = self.conn.execute("SELECT DISTINCT currency, status FROM cases").fetchall()  # one scan for both
        currencies, statuses = sorted({c for c, _ in pairs}), sorted({s for _, s in pairs})
        if len(currencies) > 256 or len(statuses) > 256:
            return None  # more than a byte each: case by case

        def index_of(column: str, values: list[str]) -> str:
            return "CASE " + column + "".join(f" WHEN {_quoted(v)} THEN {i}" for i, v in enumerate(values)) + " END"

        cases_sql = ROLL_CASES_SQL.replace("{currency}", index_of("currency", currencies)).replace(
            "{status}", index_of("status", statuses))
        return (currencies, statuses, _batches(self.conn.execute(cases_sql)),
                _batches(self.conn.execute(ROLL_OBLIGATIONS_SQL)),
                _batches(self.conn.execute(ROLL_PAYMENTS_SQL, [until])))

    def report_case_facts(self, until: str, *, stages: bool = True, calls: bool = True, placements: bool = True
                          ) -> Iterator[FactRow]:
        """Where cases stood and who worked them: every stage change; calls logged and agency placements before
        ``until``. A report reads only the parts it needs."""
        if stages:
            yield from self.conn.execute(_FACT_QUERIES[self.dialect]["stages"])
        if calls:
            yield from self.conn.execute(_FACT_QUERIES[self.dialect]["calls"], [until])
        if placements:
            yield from self.conn.execute(_FACT_QUERIES[self.dialect]["placements"], [until])

    def report_promises(self, until: str) -> Iterator[PromiseRow]:
        """Promises made before ``until``, with the days past due their ``promise`` event recorded."""
        yield from self.conn.execute(_FACT_QUERIES[self.dialect]["promises"], [until])

    def report_attempt_groups(self, until: str, since: str = "",
                              case_ids: Collection[int] | None = None) -> Iterator[AttemptGroup]:
        """Attempts with ``since <= at < until``, counted by channel, kind of contact, zone and UTC quarter hour.

        The kind comes from the debtor's contacts (mobile, work, home, email,
        postal); an address no longer on file, or none noted, has none. Without ``case_ids`` the groups come
        from the kept counts and the attempts after them; with, from the attempts alone.
        """
        rolled = self.rolled_attempt_groups(until, since) if case_ids is None and self.report_counts else None
        if rolled is not None:
            yield from rolled  # type: ignore[misc]
            return
        yield from self._filtered(ATTEMPT_GROUPS_SQL, [since, until], case_ids, "a.case_id")

    def report_event_groups(self, kinds: Iterable[str], until: str, since: str = "",
                            case_ids: Collection[int] | None = None) -> Iterator[EventGroup]:
        """Events of ``kinds`` with ``since <= at < until``, counted by kind, channel, quarter hour, rule, currency.

        Without ``case_ids``, from the kept counts and the events after them where every kind is counted.
        """
        wanted = sorted(set(kinds))
        rolled = (self.rolled_event_groups(wanted, until, since) if case_ids is None and self.report_counts
                  else None)
        if rolled is not None:
            yield from rolled  # type: ignore[misc]
            return
        sql = _FACT_QUERIES[self.dialect]["event groups"].replace("{kinds}", ", ".join("?" for _ in wanted))
        yield from self._filtered(sql, [*wanted, since, until], case_ids, "case_id")

    def report_payment_contacts(self, until: str, window_days: int, case_ids: Collection[int] | None = None
                                ) -> Iterator[PaymentContactRow]:
        """Payments before ``until``, each with the case's last contact and last call logged in the window before."""
        back = f"-{int(window_days)} days"
        yield from self._filtered(_FACT_QUERIES[self.dialect]["payment contacts"], [back, back, until], case_ids,
                                  "p.case_id")

    def _filtered(self, sql: str, params: list[Any], case_ids: Collection[int] | None, column: str
                  ) -> Iterator[Any]:
        if case_ids is None:
            yield from self.conn.execute(sql.replace("{filter}", ""), params)
            return
        self.conn.execute("CREATE TEMP TABLE IF NOT EXISTS report_case_ids (id INTEGER PRIMARY KEY)")
        # In a transaction of its own: writing the temp table would otherwise open one and leave it open
        # (then `dunning archive` in the same process could not detach its file).
        with self.transaction():
            self.conn.execute("DELETE FROM temp.report_case_ids")
            self.conn.executemany("INSERT INTO temp.report_case_ids (id) VALUES (?)", ((i,) for i in case_ids))
        yield from self.conn.execute(sql.replace("{filter}", _IN_CASES.format(column=column)), params)

    def report_query_plans(self) -> dict[str, list[str]]:
        """How SQLite runs each query above (``EXPLAIN QUERY PLAN``), for bench/reports.py and its notes."""
        until = [" "]
        samples: dict[str, tuple[str, list[Any]]] = {
            "cases": (CASES_SQL, []), "obligations": (OBLIGATIONS_SQL, []), "payments": (PAYMENTS_SQL, until),
            "stage changes": (STAGE_FACTS_SQL, []), "calls": (CALL_FACTS_SQL, until),
            "placements": (PLACEMENT_FACTS_SQL, until), "promises": (PROMISES_SQL, until),
            "attempt groups": (ATTEMPT_GROUPS_SQL.replace("{filter}", ""), ["", " "]),
            "event groups": (EVENT_GROUPS_SQL.replace("{kinds}", "?, ?").replace("{filter}", ""),
                             ["sent", "payment", "", " "]),
            "payment contacts": (PAYMENT_CONTACTS_SQL.replace("{filter}", ""), ["-30 days", "-30 days", " "]),
            "aging groups": (AGING_GROUPS_SQL, ["", " "]),
            "kept attempt counts and the attempts after them": (ROLLED_ATTEMPTS_SQL, ["", " ", "", " "]),
            "kept event counts and the events after them": (ROLLED_EVENTS_SQL.replace("{kinds}", "?5, ?6"),
                                                            ["", " ", "", " ", "sent", "payment"]),
            "roll-up of attempts": (ROLL_UP_ATTEMPTS_SQL, [0, 0]),
            "roll-up of events": (ROLL_UP_EVENTS_SQL, [0, 0]),
        }
        from dunning.store import report_case_facts as kept  # recovery's reads (m027); it imports this module

        samples |= {"recovery: kept stage changes": (kept.MOVES_SQL, []),
                    "recovery: kept placements": (kept.PLACED_SQL.replace("{agency}", "agency"), until),
                    "recovery: payments with their kept credit": (kept.PAYMENTS_SQL, until),
                    "recovery: obligations": (kept.OBLIGATIONS_SQL, [])}
        return {name: [str(row[-1]) for row in self.conn.execute(f"EXPLAIN QUERY PLAN {sql}", params)]
                for name, (sql, params) in samples.items()}
