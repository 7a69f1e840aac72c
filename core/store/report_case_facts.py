"""What ``recovery`` reads from the figures m027 keeps per case and per payment, as whole numbers for arrays.

Migration m027 keeps, by triggers (exact at every moment, no roll-up):
``report_case_moves``, every stage change and agency placement as its event
says (the key is kind, case, moment: each kind a range, by case and time;
the stages numbered in ``report_stage_names``), and
``report_payment_contacts``, each payment's last contact and last logged
call in the 30 days before it (what ``PAYMENT_CONTACTS_SQL`` looks up among
the case's events for every payment), with what the report credits by
numbered in ``report_credit_kinds``. ``recovery`` reads the cases,
obligations, payments and moves as whole numbers, a batch at a time (as
roll-rates does): no event is read, no Python object made per case.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import attrs

from dunning.store.connection import StoreConnection
from dunning.store.reports import _EPOCH_DAY, _EPOCH_SECOND, _STANDS, NO_DAY, _quoted

# The window m027's triggers keep the payments' contacts for (dunning.reports.recovery.ATTRIBUTION_DAYS).
KEPT_WINDOW_DAYS = 30
_UNTIL = "CAST(strftime('%s', ?1) AS INTEGER)"  # the moves' `at` is in seconds
# Stage changes, every one (later ones too, as STAGE_FACTS_SQL): (case, seconds, entered << 8 | left), the stages
# as report_stage_names numbers them; the key's range for the kind.
MOVES_SQL = "SELECT case_id, at, stages FROM report_case_moves WHERE kind = 'stage_changed'"
# Placements and their ends before ?1 (as PLACEMENT_FACTS_SQL): (case, seconds, agency index, balance) and
# (case, seconds); an agency that is none (empty) is -1.
PLACED_SQL = ("SELECT case_id, at, {agency}, CAST(coalesce(balance, 0) AS INTEGER) FROM report_case_moves "
              f"WHERE kind = 'agency:placed' AND at < {_UNTIL}")
AGENCIES_SQL = "SELECT DISTINCT agency FROM report_case_moves WHERE kind = 'agency:placed'"
PLACEMENT_ENDS_SQL = ("SELECT case_id, at FROM report_case_moves "
                      f"WHERE kind = 'agency:placement_ended' AND at < {_UNTIL}")
# (id, opened day << 16 | currency index << 8 | stage index): the indexes built into a CASE from the lists read first.
CASES_SQL = (f"SELECT id, ({_EPOCH_DAY.format('opened_on')} << 16) | ({{currency}} << 8) | {{stage}} "
             "FROM cases ORDER BY id")
# As ROLL_OBLIGATIONS_SQL without the due day: (case, amount, issue day or -NO_DAY, closed day or NO_DAY).
_ISSUED = _EPOCH_DAY.format("nullif(issued_on, '')")
_CLOSED = _EPOCH_DAY.format("nullif(closed_on, '')")
OBLIGATIONS_SQL = (f"SELECT case_id, amount, coalesce({_ISSUED}, -{NO_DAY}), coalesce({_CLOSED}, {NO_DAY}) "
                   "FROM obligations")
# As ROLL_PAYMENTS_SQL, with what the payment is credited by (report_credit_kinds; -1 without a kept row, which
# m027's triggers give every payment): (case, amount applied, seconds, credit).
PAYMENTS_SQL = (f"SELECT p.case_id, p.amount - p.surplus, {_EPOCH_SECOND.format('p.at')}, coalesce(k.credit, -1) "
                "FROM payments p LEFT JOIN report_payment_contacts k ON k.payment_id = p.id "
                f"WHERE p.at < ?1 {_STANDS.replace('reversed_at', 'p.reversed_at')}")
Batches = Iterator[list[tuple[Any, ...]]]
# (whether a contact was found, its kind, its channel, the last call's collector)
CreditKind = tuple[Any, Any, Any, Any]


@attrs.frozen
class RecoveryRows:
    """The rows ``recovery`` works from: cursors read a batch at a time, whole numbers only."""

    currencies: list[str]
    stages: list[str]  # every stage a case is in or a change names, in order ('' for a change that names none)
    stage_codes: dict[int, str]  # report_stage_names: the moves' numbers
    agencies: list[str]
    credit_kinds: dict[int, CreditKind]  # report_credit_kinds: the payments' credit numbers
    cases: Batches  # (id, opened day << 16 | currency index << 8 | stage index) by id
    obligations: Batches  # (case, amount, issue day or -NO_DAY, closed day or NO_DAY)
    payments: Batches  # (case, amount applied, seconds, credit kind or -1)
    moves: Batches  # (case, seconds, stage code entered << 8 | stage code left): every stage change
    placed: Batches  # (case, seconds, agency index or -1, balance)
    ends: Batches  # (case, seconds)


def _batches(cursor: Any, size: int = 16384) -> Batches:
    """The cursor's rows a batch at a time (a batch of Python tuples is held beside the arrays: kept small)."""
    while batch := cursor.fetchmany(size):
        yield batch


def _index_of(column: str, values: list[Any]) -> str:
    """SQL numbering ``column``'s value by its place in ``values`` (-1 for any other)."""
    if not values:
        return "-1"
    return ("CASE " + column + "".join(f" WHEN {_quoted(v)} THEN {i}" for i, v in enumerate(values))
            + " ELSE -1 END")


class ReportCaseFacts(StoreConnection):
    """The store's part that reads m027's kept moves and payment contacts."""

    report_counts: bool

    def report_recovery_rows(self, until: str, window_days: int) -> RecoveryRows | None:
        """The cases, obligations, payments before ``until`` (each with its kept credit), and the stage changes,
        placements and their ends the kept table holds. None when the reports are to read the events
        (``report_counts`` False), for a window other than the kept one, with more than 256 currencies or stages,
        or names other than text, and on PostgreSQL, where m027 makes the tables but not yet the triggers that
        keep them (dunning.store.postgres_schema)."""
        if not self.report_counts or window_days != KEPT_WINDOW_DAYS or self.dialect != "sqlite":
            return None
        pairs = self.conn.execute("SELECT DISTINCT currency, stage FROM cases").fetchall()  # one scan for both
        stage_codes = dict(self.conn.execute("SELECT code, name FROM report_stage_names").fetchall())
        given = [agency for (agency,) in self.conn.execute(AGENCIES_SQL) if agency]
        names = [*stage_codes.values(), *(s for _, s in pairs), *(c for c, _ in pairs), *given]
        if not all(isinstance(name, str) for name in names) or max(stage_codes, default=0) > 255:
            return None
        currencies, stages = sorted({c for c, _ in pairs}), sorted({s for _, s in pairs} | set(stage_codes.values()))
        if len(currencies) > 256 or len(stages) > 256:
            return None  # more than a byte each
        agencies = sorted(set(given))
        credit_kinds = {code: tuple(json.loads(signature)) for code, signature
                        in self.conn.execute("SELECT code, signature FROM report_credit_kinds")}
        cases_sql = CASES_SQL.replace("{currency}", _index_of("currency", currencies)).replace(
            "{stage}", _index_of("stage", stages))
        return RecoveryRows(
            currencies=currencies, stages=stages, stage_codes=stage_codes, agencies=agencies,
            credit_kinds=credit_kinds,  # type: ignore[arg-type]
            cases=_batches(self.conn.execute(cases_sql)),
            obligations=_batches(self.conn.execute(OBLIGATIONS_SQL)),
            payments=_batches(self.conn.execute(PAYMENTS_SQL, [until])),
            moves=_batches(self.conn.execute(MOVES_SQL)),
            placed=_batches(self.conn.execute(PLACED_SQL.replace("{agency}", _index_of("agency", agencies)),
                                              [until])),
            ends=_batches(self.conn.execute(PLACEMENT_ENDS_SQL, [until])))
