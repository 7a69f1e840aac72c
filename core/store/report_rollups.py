"""Counts kept for the contacts and activity reports, so they need not count millions of rows each time.

The tables of migration m026 hold, for every contact attempt and every event
of ``ROLLED_EVENT_KINDS`` up to a mark (a row id, an event seq), the counts a
report groups them into: attempts by channel, kind of contact, debtor's zone
and UTC quarter hour; events by kind, channel, quarter hour, rule and
currency. ``dunning run``'s housekeeping moves the marks up to the last row
written (``roll_up_reports``). A report reads the counts in its range of
quarter hours and adds the rows after the marks, counted from the tables
themselves, so it is exact however long ago the last roll-up ran. The mark
is a row id rather than a day: a row written today about an earlier day (an
agency's return, a correction) is after the mark and counted as it is.

A counted row that changes moves its count with it (m026's triggers: a
call's outcome filled in, an attempt forgotten, ``dunning archive`` moving a
case's attempts out and leaving stubs of its events). The kind of contact
and the zone are those on file when the row was counted; a report with a
per-case filter reads the rows, not the counts.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator

from dunning.store.connection import StoreConnection
from dunning.store.dialect_names import POSTGRESQL, SQLITE, json_field

# The event kinds counted: what `activity` and `contacts` read (a test keeps them in step).
ROLLED_EVENT_KINDS = ("approved", "blocked", "deferred", "payment", "phone:call_logged", "promise", "rejected",
                      "sent", "stage_changed")
_KINDS = ", ".join(f"'{kind}'" for kind in ROLLED_EVENT_KINDS)


def quarter_sql(column: str) -> str:
    """The UTC quarter hour a stored moment starts in: '2026-03-02T09:15' from '2026-03-02T09:27:03Z'."""
    # The minutes named by a CASE, which both databases take (PostgreSQL has no printf).
    return (f"substr({column}, 1, 14) || CASE CAST(substr({column}, 15, 2) AS INTEGER) / 15 "
            "WHEN 0 THEN '00' WHEN 1 THEN '15' WHEN 2 THEN '30' ELSE '45' END")


# The groups of the attempts with seq in (?1, ?2]: contact kind looked up once per attempt (LIMIT -1: a co-routine).
_ATTEMPT_ROWS = (
    "SELECT a.channel AS channel, coalesce((SELECT c.kind FROM contacts c WHERE c.debtor_id = a.debtor_id "
    "AND c.value = a.contact LIMIT 1), '') AS kind, coalesce(d.timezone, '') AS zone, "
    # A CASE, not the comparison itself: PostgreSQL's is a boolean, which it does not add up.
    f"{quarter_sql('a.at')} AS quarter, CASE WHEN a.connected = 1 AND a.role = 'debtor' THEN 1 ELSE 0 END "
    "AS reached "
    "FROM contact_attempts a JOIN debtors d ON d.id = a.debtor_id WHERE a.id > ?1 AND a.id <= ?2 LIMIT -1")
ROLL_UP_ATTEMPTS_SQL = (
    "INSERT INTO report_attempt_rollup (channel, kind, zone, quarter, attempts, reached) "
    f"SELECT channel, kind, zone, quarter, count(*), sum(reached) FROM ({_ATTEMPT_ROWS}) AS attempt_rows WHERE true "
    "GROUP BY 1, 2, 3, 4 ON CONFLICT (quarter, channel, kind, zone) DO UPDATE SET "
    "attempts = report_attempt_rollup.attempts + excluded.attempts, "
    "reached = report_attempt_rollup.reached + excluded.reached")


def _event_facts(dialect: str) -> tuple[str, str, str]:
    """An event's rule, currency (text) and amount (a whole number), read from its JSON data the database's way."""
    return (json_field(dialect, "data", "rule"), json_field(dialect, "data", "currency"),
            json_field(dialect, "data", "amount", "bigint"))


def _roll_up_events_sql(dialect: str) -> str:
    rule, currency, amount = _event_facts(dialect)
    # +kind keeps SQLite on the seq range (the new events), not on index events_kind_at (every event of the kind).
    return (
        "INSERT INTO report_event_rollup (kind, channel, quarter, rule, currency, events, amount) "
        f"SELECT kind, coalesce(channel, ''), {quarter_sql('at')}, coalesce({rule}, ''), "
        f"coalesce({currency}, ''), count(*), coalesce(sum({amount}), 0) "
        f"FROM events WHERE seq > ?1 AND seq <= ?2 AND +kind IN ({_KINDS}) GROUP BY 1, 2, 3, 4, 5 "
        "ON CONFLICT (quarter, kind, channel, rule, currency) DO UPDATE SET "
        "events = report_event_rollup.events + excluded.events, "
        "amount = report_event_rollup.amount + excluded.amount")


ROLL_UP_EVENTS_SQL = _roll_up_events_sql(SQLITE)

# The counts and the rows after the mark are read in one statement, so in one snapshot of the file: a roll-up
# committed in between cannot count a row twice or not at all.
_MARK = "coalesce((SELECT upto FROM report_rollup_marks WHERE name = '{name}'), 0)"
ROLLED_ATTEMPTS_SQL = (
    "SELECT channel, nullif(kind, ''), nullif(zone, ''), quarter, attempts, reached FROM report_attempt_rollup "
    "WHERE quarter >= ?1 AND quarter < ?2 AND attempts > 0 UNION ALL "
    # the attempts after the mark, grouped as the counts are: the rowid range, then the moments
    "SELECT channel, nullif(kind, ''), nullif(zone, ''), quarter, count(*), sum(reached) "
    "FROM ({later}) AS attempt_rows GROUP BY 1, 2, 3, 4").format(
    later=_ATTEMPT_ROWS.replace("?1", _MARK.format(name="attempts")).replace("a.id <= ?2",
                                                                             "+a.at >= ?3 AND +a.at < ?4"))


def _rolled_events_sql(dialect: str) -> str:
    rule, currency, amount = _event_facts(dialect)
    return (
        "SELECT kind, nullif(channel, ''), quarter, nullif(rule, ''), nullif(currency, ''), events, amount "
        "FROM report_event_rollup WHERE kind IN ({kinds}) AND quarter >= ?1 AND quarter < ?2 AND events > 0 "
        f"UNION ALL SELECT kind, channel, {quarter_sql('at')}, {rule}, {currency}, "
        f"count(*), sum({amount}) FROM events WHERE seq > {_MARK.format(name='events')} "
        "AND +kind IN ({kinds}) AND +at >= ?3 AND +at < ?4 GROUP BY 1, 2, 3, 4, 5")


ROLLED_EVENTS_SQL = _rolled_events_sql(SQLITE)
# Each statement that reads an event's JSON data, as each database says it.
_ROLL_UP_EVENTS = {dialect: _roll_up_events_sql(dialect) for dialect in (SQLITE, POSTGRESQL)}
_ROLLED_EVENTS = {dialect: _rolled_events_sql(dialect) for dialect in (SQLITE, POSTGRESQL)}


def on_quarter(moment: str) -> bool:
    """Whether a stored moment ('2026-03-02T00:00:00Z', UTC) is the start of a quarter hour: the counts' finest cut."""
    return moment == "" or (len(moment) == 20 and moment[14:16] in ("00", "15", "30", "45")
                            and moment[16:] == ":00Z")


class ReportRollups(StoreConnection):
    """The store's part that keeps and reads the reports' counts."""

    def rollup_mark(self, name: str) -> int:
        """The last attempt id (``attempts``) or event seq (``events``) the counts hold; 0 before any roll-up."""
        row = self.conn.execute("SELECT upto FROM report_rollup_marks WHERE name = ?", [name]).fetchone()
        return int(row[0]) if row else 0

    def roll_up_reports(self) -> tuple[int, int]:
        """Count every attempt and event written since the last roll-up; (new attempt id mark, new event seq mark).

        Runs inside the caller's transaction, or its own.
        """
        with self.transaction():
            marks = []
            for name, table, column, sql in (("attempts", "contact_attempts", "id", ROLL_UP_ATTEMPTS_SQL),
                                             ("events", "events", "seq", _ROLL_UP_EVENTS[self.dialect])):
                since = self.rollup_mark(name)
                (upto,) = self.conn.execute(f"SELECT coalesce(max({column}), 0) FROM {table}").fetchone()
                if upto > since:
                    self.conn.execute(sql, [since, upto])
                    self.conn.execute("INSERT INTO report_rollup_marks (name, upto) VALUES (?, ?) "
                                      "ON CONFLICT (name) DO UPDATE SET upto = excluded.upto", [name, upto])
                marks.append(max(upto, since))
        return marks[0], marks[1]

    def rolled_attempt_groups(self, until: str, since: str = "") -> Iterator[tuple[object, ...]] | None:
        """The attempt groups of ``since <= at < until`` from the counts and the rows after the mark.

        None when the range does not start and end on quarter hours (the counts cannot cut finer).
        """
        if not (on_quarter(until) and on_quarter(since)):
            return None
        return iter(self.conn.execute(ROLLED_ATTEMPTS_SQL, [since[:16], until[:16], since, until]))

    def rolled_event_groups(self, kinds: Collection[str], until: str, since: str = ""
                            ) -> Iterator[tuple[object, ...]] | None:
        """The event groups of ``kinds`` with ``since <= at < until``, as ``rolled_attempt_groups`` gives attempts.

        None when a kind is not counted or the range is not on quarter hours.
        """
        if not set(kinds) <= set(ROLLED_EVENT_KINDS) or not (on_quarter(until) and on_quarter(since)):
            return None
        wanted = sorted(set(kinds))
        # ?1-?4 are the range; the kinds follow as ?5, ?6, ...
        marks = ", ".join(f"?{5 + n}" for n in range(len(wanted)))
        return iter(self.conn.execute(_ROLLED_EVENTS[self.dialect].replace("{kinds}", marks),
                                      [since[:16], until[:16], since, until, *wanted]))
