"""What each table and column of the database holds, in words, for Datasette's pages.

Money columns are integer minor units of the row's currency (cents, pence; yen have none): the canned
queries show them in major units.
"""

from __future__ import annotations

MINOR = "in minor units of the currency (cents); the canned queries show major units"

TABLES: dict[str, tuple[str, dict[str, str]]] = {
    "debtors": ("People and businesses who owe money. Personal data.", {
        "id": "The debtor's id in the books (ERP, loan system)",
        "kind": "consumer or business: consumer rules bind consumer debts",
        "country": "ISO 3166 country: which jurisdiction's contact rules bind",
        "region": "ISO 3166-2 subdivision (US-NY), for rules of a state",
        "timezone": "Where contact windows are reckoned",
    }),
    "contacts": ("How to reach a debtor: phone numbers, email and postal addresses, and third parties. "
                 "Personal data.", {
        "kind": "mobile, work, home, email, address, ...",
        "role": "debtor, or a third party (guarantor, relative, colleague)",
        "bad": "1 when the contact proved wrong (bounced, wrong number)",
        "active": "0 once the contact left the books or was removed",
    }),
    "cases": ("One debtor's overdue debt in one currency, travelling internal -> onsite -> agency -> litigation.", {
        "stage": "internal, onsite, agency or litigation",
        "status": "open, or how it ended: paid, settled, written_off",
        "balance": "What is still owed, " + MINOR,
        "anchor_due_on": "Due date of the oldest unpaid item: days past due are counted from it",
        "next_action_on": "When the policy next has something to do; empty: nothing planned",
        "stage_entered_on": "Day the case entered its current stage",
        "broken_promises": "How many promises to pay the debtor has broken",
        "account_locked": "1 when further shipments are blocked",
        "creditor_reference": "The ISO 11649 reference the debtor quotes when paying",
    }),
    "obligations": ("The invoices or loan instalments behind a case.", {
        "amount": "Principal, " + MINOR,
        "paid": "Principal paid so far, " + MINOR,
        "due_on": "Due date",
        "closed_reason": "Set when the books closed the item (paid elsewhere, credited)",
        "disputed_on": "Set while the item is disputed and held out of demands",
    }),
    "actions": ("The outbox: every message, call, task and stage change the policy planned, with its outcome.", {
        "key": "Idempotency key case:step:channel:occurrence",
        "status": "pending, awaiting_approval, sending, sent, failed, blocked, skipped, cancelled, rejected, "
                  "superseded",
        "planned_for": "When the policy wanted it (UTC)",
        "not_before": "Earliest moment it may go out (contact windows, holidays)",
        "dpd": "Days past due when planned",
        "reference": "The provider's reference; '' when it is the action's key",
        "template": "The template; '' when it is named as the step",
    }),
    "events": ("The evidence log: append-only, each row carrying the hash of the previous one "
               "(`dunning verify` checks it).", {
        "seq": "Order in the log",
        "at": "When it happened (UTC)",
        "kind": "sent, blocked, payment, promise, stage_changed, ... (docs/operators.md section 6)",
        "dpd": "Days past due at the time",
        "data": "The event's details as JSON; amounts " + MINOR + ". Starting with a space: the reference is the key",
        "hash": "SHA-256 over this event and the previous hash",
    }),
    "promises": ("Promises to pay and instalment plans.", {
        "amount": "Promised amount, " + MINOR,
        "status": "open, kept or broken",
        "due_at": "When the money was promised for (UTC)",
    }),
    "payments": ("Payments received, allocated to the case's items.", {
        "amount": "Amount received, " + MINOR,
        "surplus": "Part beyond what was owed, credited to the debtor, " + MINOR,
        "reversed_at": "Set when the payment was reversed (bounced, mistaken)",
    }),
    "holds": ("Pauses of all outreach to a case (dispute, bankruptcy, breathing space).", {}),
    "opt_outs": ("A debtor's request not to be contacted through a channel. Personal data.", {}),
    "signals": ("Abnormal signals about a case: moved, business closed, bankruptcy.", {}),
    "contact_attempts": ("Every contact attempt, as the frequency caps count them.", {
        "connected": "1 when the call reached someone",
        "action_id": "The action that made the attempt (the attempt's key is the action's)",
        "key": "The attempt's own idempotency key, when no action made it",
    }),
    "report_attempt_rollup": ("Contact attempts counted for the reports up to report_rollup_marks (dunning run keeps "
                              "them).", {
        "quarter": "UTC quarter hour the attempts were made in",
        "reached": "How many reached the debtor",
    }),
    "report_event_rollup": ("Events counted for the reports up to report_rollup_marks (dunning run keeps them).", {
        "quarter": "UTC quarter hour of the events' moment",
        "amount": "Sum of the events' amounts, " + MINOR,
    }),
    "report_rollup_marks": ("The last attempt id and event seq the reports' counts hold.", {}),
    "announced_deadlines": ("The latest deadline a letter or email gave each case; escalation waits for it.", {}),
    "checkpoints": ("Signed heads of the evidence chain.", {}),
    "charges": ("Interest, fees and compensation on arrears, per obligation.", {
        "amount": "Charged, " + MINOR,
        "paid": "Paid, " + MINOR,
        "waived": "Waived, " + MINOR,
    }),
    "payment_allocations": ("Where each payment went: which item, charge or promise it paid.", {
        "amount": MINOR,
    }),
    "credits": ("A debtor's credit per currency: overpayments, credits applied, refunds.", {
        "amount": MINOR,
    }),
    "debtor_accounts": ("Bank accounts (IBAN) a debtor pays from. Personal data.", {}),
    "bank_credits": ("Every credit line of an imported bank statement: applied to a case, or in suspense "
                     "waiting for a person to match it.", {
        "amount": MINOR,
        "status": "applied, suspense (not matched to a case), assigned or reversed",
    }),
    "reference_rates": ("Central bank reference rates the interest rules read, with the day each took effect.", {}),
    "interest_notices": ("The day the written notice of interest went out, per case.", {}),
    "interest_accruals": ("How far interest has been worked out on each obligation.", {}),
    "settlements": ("Offers to settle a case for less than it owes if paid by a date.", {
        "amount": "Amount that settles the case, " + MINOR,
        "owed": "What was owed when offered, " + MINOR,
    }),
    "visit_tasks": ("On-site visits the visit channel planned, and their outcomes.", {
        "due_on": "Day the visit should be made by",
        "status": "open or done",
    }),
}
