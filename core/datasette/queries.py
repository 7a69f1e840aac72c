"""Canned queries: the reports in plain SQL, and the cases that need a person's attention.

Each query takes an optional ``as_of`` day (YYYY-MM-DD; empty means today) and shows money in major units
of its currency. They are simple equivalents of ``dunning report``: the aging here buckets a case by its
oldest unpaid due date and sums what its open items owe now, principal only, where ``dunning report aging``
works out any past day from the log.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from dunning import money
from dunning.lifecycle import STAGE_ORDER
from dunning.policy import Policy
from dunning.reports.buckets import Buckets

AS_OF = "coalesce(nullif(:as_of, ''), date('now'))"

# The aging report's buckets: label, first and last day past due (None: open-ended).
AGING_BUCKETS: tuple[tuple[str, int | None, int | None], ...] = tuple(
    zip(Buckets().labels, (None, 1, *(b + 1 for b in Buckets().bounds)), (0, *Buckets().bounds, None), strict=True))


def major(column: str, currency: str = "currency") -> str:
    """SQL for ``column`` (minor units) in major units of the row's ``currency`` (2 decimals unless listed)."""
    odd = {code: exp for code in money.currencies() if (exp := money.exponent(code)) != 2}
    cases = " ".join(f"WHEN '{code}' THEN {10 ** exp}" for code, exp in sorted(odd.items()))
    return f"round({column} * 1.0 / (CASE {currency} {cases} ELSE 100 END), 3)"


def days_past_due(due: str) -> str:
    return f"CAST(julianday({AS_OF}) - julianday({due}) AS INTEGER)"


def _bucket(dpd: str) -> str:
    whens = []
    for name, low, high in AGING_BUCKETS:
        if low is None:
            whens.append(f"WHEN {dpd} <= {high} THEN '{name}'")
        elif high is None:
            whens.append(f"ELSE '{name}'")
        else:
            whens.append(f"WHEN {dpd} BETWEEN {low} AND {high} THEN '{name}'")
    return "CASE " + " ".join(whens) + " END"


def _bucket_order(dpd: str) -> str:
    whens = " ".join(f"WHEN {dpd} <= {high} THEN {i}" for i, (_, _, high) in enumerate(AGING_BUCKETS)
                     if high is not None)
    return f"CASE {whens} ELSE {len(AGING_BUCKETS) - 1} END"


def aging() -> str:
    dpd = days_past_due("c.oldest_due")
    return f"""
WITH open_items AS (
  SELECT o.case_id, o.currency, o.due_on, o.amount - o.paid AS owed
  FROM obligations o JOIN cases k ON k.id = o.case_id
  WHERE k.status = 'open' AND o.closed_reason IS NULL AND o.amount > o.paid
),
c AS (
  SELECT case_id, currency, min(due_on) AS oldest_due,
         sum(CASE WHEN due_on < {AS_OF} THEN owed ELSE 0 END) AS overdue,
         sum(CASE WHEN due_on >= {AS_OF} THEN owed ELSE 0 END) AS not_yet_due
  FROM open_items GROUP BY case_id, currency
)
SELECT {_bucket(dpd)} AS bucket, c.currency, count(*) AS cases,
       {major("sum(c.overdue)", "c.currency")} AS overdue,
       {major("sum(c.not_yet_due)", "c.currency")} AS not_yet_due,
       {major("sum(c.overdue + c.not_yet_due)", "c.currency")} AS balance
FROM c
GROUP BY bucket, c.currency
ORDER BY c.currency, min({_bucket_order(dpd)})
"""


def promises() -> str:
    return f"""
SELECT substr(p.created_at, 1, 7) AS month, k.currency,
       count(*) AS made,
       sum(p.status = 'kept') AS kept,
       sum(p.status = 'broken') AS broken,
       sum(p.status = 'open') AS still_open,
       round(100.0 * sum(p.status = 'kept') / nullif(sum(p.status IN ('kept', 'broken')), 0), 1) AS kept_percent,
       {major("sum(p.amount)", "k.currency")} AS promised
FROM promises p JOIN cases k ON k.id = p.case_id
WHERE substr(p.created_at, 1, 10) <= {AS_OF}
GROUP BY month, k.currency
ORDER BY month DESC, k.currency
"""


def activity(channels: Collection[str]) -> str:
    per_channel = "".join(f"       sum(kind = 'sent' AND channel = '{name}') AS sent_{name},\n"
                          for name in sorted(channels) if name.isidentifier())
    return f"""
SELECT substr(at, 1, 10) AS day,
       sum(kind = 'sent') AS sent,
{per_channel}       sum(kind = 'blocked') AS blocked,
       sum(kind = 'deferred') AS deferred,
       sum(kind IN ('approved', 'rejected')) AS approvals,
       sum(kind = 'stage_changed') AS stage_changes,
       sum(kind = 'payment') AS payments,
       sum(kind = 'promise') AS promises
FROM events
WHERE substr(at, 1, 10) BETWEEN date({AS_OF}, '-30 days') AND {AS_OF}
GROUP BY day
ORDER BY day DESC
"""


def _case_columns(dpd: str = days_past_due("k.anchor_due_on")) -> str:
    return (f"k.id AS case_id, d.name AS debtor, k.stage, k.currency, {major('k.balance', 'k.currency')} AS balance, "
            f"{dpd} AS dpd")


def open_cases() -> str:
    return f"""
SELECT {_case_columns()}, k.next_action_on, k.stage_entered_on, k.broken_promises
FROM cases k JOIN debtors d ON d.id = k.debtor_id
WHERE k.status = 'open'
ORDER BY k.balance DESC
"""


def no_next_action() -> str:
    return f"""
SELECT {_case_columns()}, k.planned_through,
       (SELECT count(*) FROM holds h WHERE h.case_id = k.id AND h.released_at IS NULL) AS holds
FROM cases k JOIN debtors d ON d.id = k.debtor_id
WHERE k.status = 'open' AND k.next_action_on IS NULL
  AND NOT EXISTS (SELECT 1 FROM actions a WHERE a.case_id = k.id
                  AND a.status IN ('pending', 'awaiting_approval', 'sending'))
ORDER BY k.balance DESC
"""


def stuck_in_stage(policy: Policy) -> str:
    """Open cases whose days past due reached a later stage's entry in the policy, still in an earlier stage
    (an approval not given, a veto, a balance below the stage's minimum, a deadline still running)."""
    rank = "CASE k.stage " + " ".join(f"WHEN '{s.value}' THEN {i}" for i, s in enumerate(STAGE_ORDER)) + " END"
    rules = [(STAGE_ORDER.index(stage), stage.value, rule.entry_dpd) for stage, rule in policy.stages.items()
             if rule.entry_dpd is not None]
    if not rules:
        rules = [(len(STAGE_ORDER), "none", 1_000_000)]
    values = ", ".join(f"({i}, '{name}', {entry})" for i, name, entry in sorted(rules))
    dpd = days_past_due("k.anchor_due_on")
    return f"""
WITH rules(rank, stage, entry_dpd) AS (VALUES {values})
SELECT {_case_columns(dpd)}, max(r.stage) AS due_in_stage, min(r.entry_dpd) AS entered_at_dpd,
       k.stage_entered_on,
       (SELECT count(*) FROM actions a WHERE a.case_id = k.id AND a.status = 'awaiting_approval') AS awaiting_approval
FROM cases k JOIN debtors d ON d.id = k.debtor_id
JOIN rules r ON r.rank > {rank} AND {dpd} >= r.entry_dpd
WHERE k.status = 'open'
GROUP BY k.id
ORDER BY dpd DESC
"""


def unmatched_payments() -> str:
    return f"""
SELECT id, paid_on, {major('amount')} AS amount, currency, payer, payer_iban, remittance, reason, source,
       bank_reference, imported_at
FROM bank_credits
WHERE status = 'suspense'
ORDER BY paid_on
"""


def visits_overdue() -> str:
    return f"""
SELECT v.id AS visit, v.case_id, d.name AS debtor, v.area, v.address, v.due_on,
       CAST(julianday({AS_OF}) - julianday(v.due_on) AS INTEGER) AS days_late, v.step, v.collector
FROM visit_tasks v JOIN debtors d ON d.id = v.debtor_id
WHERE v.status = 'open' AND v.due_on < {AS_OF}
ORDER BY v.due_on
"""


def canned_queries(policy: Policy, tables: Collection[str], channels: Collection[str]) -> dict[str, Mapping[str, Any]]:
    """The canned queries whose tables the database has, each with a title and a description."""
    found: list[tuple[str, str, str, str, set[str]]] = [
        ("aging", "Aging", "Open balance and cases per days-past-due bucket and currency, overdue and not yet "
         "due apart; principal, from the items as they are now (`dunning report aging` works out any past day).",
         aging(), {"obligations"}),
        ("promises", "Promises to pay", "Made, kept, broken and kept rate per month of the promise.", promises(),
         {"promises"}),
        ("activity", "Activity", "Per day over the 30 days to as_of: sent by channel, blocked, deferred, "
         "approvals, stage changes, payments.", activity(channels), {"events"}),
        ("open_cases", "Open cases", "Every open case with its balance in major units and its days past due.",
         open_cases(), {"cases"}),
        ("attention_no_next_action", "Attention: no next action",
         "Open cases with nothing planned and nothing waiting: the policy has no step left for them.",
         no_next_action(), {"cases", "actions"}),
        ("attention_stuck_in_stage", "Attention: stuck in a stage",
         f"Open cases past the days at which the policy ({policy.name}) moves them to a later stage, "
         "still in an earlier one.", stuck_in_stage(policy), {"cases"}),
        ("attention_unmatched_payments", "Attention: unmatched payments",
         "Bank credits in suspense: no case matched; `dunning payments suspense` assigns them.",
         unmatched_payments(), {"bank_credits"}),
        ("attention_visits_overdue", "Attention: visits overdue",
         "On-site visits still open after the day they were due.", visits_overdue(), {"visit_tasks"}),
    ]
    return {
        name: {"title": title, "description": description, "sql": sql.strip(), "params": ["as_of"]}
        for name, title, description, sql, needs in found
        if needs <= set(tables)
    }
