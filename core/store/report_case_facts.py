"""What ``recovery`` reads from the figures m027 keeps per case and per payment, as whole numbers for arrays.

Migration m027 keeps, by triggers (exact at every moment, no roll-up):
``report_case_moves``, every stage change and agency placement as its event
says (the key is kind, case, moment: each kind a range, by case and time),
and ``report_payment_contacts``, each payment's last contact and last logged
call in the ATTRIBUTION window before it (what ``PAYMENT_CONTACTS_SQL``
looks up among the case's events for every payment). ``recovery`` reads
the cases, obligations and payments as roll-rates does (whole numbers, a
batch at a time), the moves from the kept table, and the payments' credit
already grouped by currency and contact: no event is read.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import Any

import attrs

from dunning.store.connection import StoreConnection
from dunning.store.reports import _EPOCH_DAY, _EPOCH_SECOND, ROLL_OBLIGATIONS_SQL, ROLL_PAYMENTS_SQL, _batches, _quoted

# The window m027's triggers keep the payments' contacts for (dunning.reports.recovery.ATTRIBUTION_DAYS).
KEPT_WINDOW_DAYS = 30

_STANDS = "(p.reversed_at IS NULL OR p.reversed_at >= ?1)"
# Stage changes, every one (later ones too, as STAGE_FACTS_SQL): (case, seconds, stage entered, stage left); the
# key's range for the kind, in order of case and moment.
MOVES_SQL = (f"SELECT case_id, {_EPOCH_SECOND.format('at')}, to_stage, from_stage FROM report_case_moves "
             "WHERE kind = 'stage_changed'")
# Placements and their ends before ?1 (as PLACEMENT_FACTS_SQL): (case, seconds, agency, balance) and (case, seconds).
PLACED_SQL = (f"SELECT case_id, {_EPOCH_SECOND.format('at')}, agency, balance FROM report_case_moves "
              "WHERE kind = 'agency:placed' AND at < ?1")
PLACEMENT_ENDS_SQL = (f"SELECT case_id, {_EPOCH_SECOND.format('at')} FROM report_case_moves "
                      "WHERE kind = 'agency:placement_ended' AND at < ?1")
# The payments before ?1 still standing then, of the cases opened by ?2, grouped by the case's currency and by
# what their kept contact says (whether there is one, its kind and channel; the last call's collector); a payment
# without a kept row (none should be) is looked up among its case's events, as PAYMENT_CONTACTS_SQL does.
_LAST = ("(SELECT e.seq FROM events e WHERE e.case_id = p.case_id AND +e.kind IN ({kinds}) AND +e.at <= p.at "
         f"AND +e.at >= strftime('%Y-%m-%dT%H:%M:%SZ', p.at, '-{KEPT_WINDOW_DAYS} days') "
         "ORDER BY e.at DESC, e.seq DESC LIMIT 1)")
_CONTACT_KINDS = "'phone:call_logged', 'sent', 'visit:logged'"
CREDIT_GROUPS_SQL = (
    "SELECT currency, reached, kind, channel, collector, count(*), sum(amount) FROM ("
    "SELECT c.currency AS currency, coalesce(k.contact_at, '') != '' AS reached, k.contact_kind AS kind, "
    "k.contact_channel AS channel, k.collector AS collector, p.amount - p.surplus AS amount "
    "FROM payments p JOIN cases c ON c.id = p.case_id JOIN report_payment_contacts k ON k.payment_id = p.id "
    f"WHERE p.at < ?1 AND {_STANDS} AND substr(c.opened_on, 1, 10) <= ?2{{filter}} "
    "UNION ALL "
    "SELECT c.currency, coalesce(e.at, '') != '', e.kind, e.channel, json_extract(l.data, '$.collector'), "
    "p.amount - p.surplus FROM payments p JOIN cases c ON c.id = p.case_id "
    f"LEFT JOIN events e ON e.seq = {_LAST.format(kinds=_CONTACT_KINDS)} "
    f"LEFT JOIN events l ON l.seq = {_LAST.format(kinds=repr('phone:call_logged'))} "
    f"WHERE p.at < ?1 AND {_STANDS} AND substr(c.opened_on, 1, 10) <= ?2{{filter}} "
    "AND NOT EXISTS (SELECT 1 FROM report_payment_contacts k WHERE k.payment_id = p.id)) "
    "GROUP BY 1, 2, 3, 4, 5")
# (id, opened day, currency index, stage index): the indexes built into a CASE from the lists read first.
CASES_SQL = f"SELECT id, {_EPOCH_DAY.format('opened_on')}, {{currency}}, {{stage}} FROM cases ORDER BY id"
# (currency, whether a contact was found, its kind, its channel, the last call's collector, payments, amount)
CreditGroup = tuple[str, int, "str | None", "str | None", Any, int, int]
_IN_CASES = " AND p.case_id IN (SELECT id FROM temp.report_case_ids)"


@attrs.frozen
class RecoveryRows:
    """The rows ``recovery`` works from, each a cursor read a batch at a time (whole numbers where they can be)."""

    currencies: list[str]
    stages: list[str]
    cases: Iterator[list[tuple[Any, ...]]]  # (id, opened day, currency index, stage index) by id
    obligations: Iterator[list[tuple[Any, ...]]]  # as ROLL_OBLIGATIONS_SQL: (case, amount, due, issued, closed)
    payments: Iterator[list[tuple[Any, ...]]]  # as ROLL_PAYMENTS_SQL: (case, amount applied, seconds)
    moves: Iterator[list[tuple[Any, ...]]]  # (case, seconds, stage entered, stage left): every stage change
    placed: list[tuple[Any, ...]]  # (case, seconds, agency, balance)
    ends: Iterator[list[tuple[Any, ...]]]  # (case, seconds)


class ReportCaseFacts(StoreConnection):
    """The store's part that reads m027's kept moves and payment contacts."""

    report_counts: bool

    def report_recovery_rows(self, until: str) -> RecoveryRows | None:
        """The cases, obligations, payments before ``until`` and the stage changes, placements and their ends the
        kept table holds; None when the reports are to read the events (``report_counts`` False)."""
        if not self.report_counts:
            return None
        pairs = self.conn.execute("SELECT DISTINCT currency, stage FROM cases").fetchall()  # one scan for both
        currencies, stages = sorted({c for c, _ in pairs}), sorted({s for _, s in pairs})

        def index_of(column: str, values: list[str]) -> str:
            return "CASE " + column + "".join(f" WHEN {_quoted(v)} THEN {i}" for i, v in enumerate(values)) + " END"

        cases_sql = CASES_SQL.replace("{currency}", index_of("currency", currencies)).replace(
            "{stage}", index_of("stage", stages))
        return RecoveryRows(currencies=currencies, stages=stages, cases=_batches(self.conn.execute(cases_sql)),
                            obligations=_batches(self.conn.execute(ROLL_OBLIGATIONS_SQL)),
                            payments=_batches(self.conn.execute(ROLL_PAYMENTS_SQL, [until])),
                            moves=_batches(self.conn.execute(MOVES_SQL)),
                            placed=self.conn.execute(PLACED_SQL, [until]).fetchall(),
                            ends=_batches(self.conn.execute(PLACEMENT_ENDS_SQL, [until])))

    def report_credit_groups(self, until: str, day: str, window_days: int,
                             case_ids: Collection[int] | None = None) -> list[CreditGroup] | None:
        """Payments before ``until`` standing then, of the cases opened by ``day`` (ISO date) and in ``case_ids``
        (None: all), counted and summed by currency and attributed contact. None when the reports are to read the
        events, or for a window other than the kept one."""
        if not self.report_counts or window_days != KEPT_WINDOW_DAYS:
            return None
        if case_ids is None:
            return self.conn.execute(CREDIT_GROUPS_SQL.replace("{filter}", ""), [until, day]).fetchall()
        self.conn.execute("CREATE TEMP TABLE IF NOT EXISTS report_case_ids (id INTEGER PRIMARY KEY)")
        with self.transaction():  # as ReportRows._filtered: not left open
            self.conn.execute("DELETE FROM temp.report_case_ids")
            self.conn.executemany("INSERT INTO temp.report_case_ids (id) VALUES (?)", ((i,) for i in case_ids))
        return self.conn.execute(CREDIT_GROUPS_SQL.replace("{filter}", _IN_CASES), [until, day]).fetchall()
