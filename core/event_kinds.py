"""Whose an evidence event's kind is: the core's own, or a plugin's ``<plugin>:<what>``.

The core's kinds (``sent``, ``payment``, ``stage_changed``, ...) mean what
docs/operators.md section 6 says, and the engine acts on some of them: a
``sent`` with a ``deadline`` holds a stage change, a ``payment`` is money.
A plugin therefore never writes them itself; it goes through
``dunning.operations`` (a payment, a hold, a signal), which writes them
with their checks. What a plugin records of its own is namespaced, so it
can never pass for the core's: ``whatsapp:delivered``, ``agency:placed``.

Pure: no store, no plugin manager.
"""

from __future__ import annotations

import re

# Every kind the core writes (docs/operators.md, "Events").
CORE_KINDS = frozenset({
    "case_opened", "obligation_added", "sent", "skipped", "blocked", "deferred", "superseded", "delivery_failed",
    "in_doubt", "approval_requested", "approved", "rejected", "notice", "notice_handled", "account_locked",
    "stage_changed", "payment", "promise", "promise_kept", "promise_broken", "hold", "hold_released", "signal",
    "escalation_triggered", "opt_out", "opt_out_withdrawn", "contact_marked_bad", "acknowledgement", "resolved",
    "cancelled", "steps_missed", "plugin_error", "checkpoint",
    # The ledger: the books' sync, corrections, the bank, interest, fees and settlements.
    "adjusted", "obligation_closed", "obligation_disputed", "dispute_lifted", "debtor_changed",
    "bank_credit_assigned", "bank_credit_unmatched", "debtor_account_added", "payment_reversed", "reopened",
    "obligations_moved", "credit", "credit_applied", "refund", "interest_notice", "charge_posted",
    "charges_accrued", "charges_waived", "rate_set", "settlement_offered", "settlement_settled",
    "settlement_lapsed",
    # `dunning archive`: the run's own event, and the stub each moved event leaves in the chain.
    "cases_archived", "archived",
    # Champion and challenger: the strategy a case was given, once (dunning.strategies).
    "strategy_assigned",
    # Staff accounts of the web console (dunning users).
    "user_added", "user_disabled",
    # What a debtor did on their page (dunning.portal): opened it, promised, asked, disputed, paid.
    "portal",
})

_PART = r"[A-Za-z0-9][A-Za-z0-9_.-]*"
_NAMESPACED = re.compile(rf"^({_PART}):({_PART})$")
EXAMPLE = "'whatsapp:delivered'"


class EventKindError(ValueError):
    """A kind a plugin may not record; the message names the plugin when it is known."""


def plugin_kind(kind: str, plugin: str | None = None) -> str:
    """``kind`` if a plugin may record it (``<plugin>:<what>``, not a core kind), else EventKindError.

    ``plugin`` names the plugin in the message when the caller knows it.
    """
    who = f"plugin {plugin}: " if plugin else ""
    if kind in CORE_KINDS:
        raise EventKindError(
            f"{who}{kind!r} is one of dunning's own event kinds; a plugin records it only through "
            f"dunning.operations (a payment, a hold, a signal, ...), and its own events as '<plugin>:<what>', "
            f"e.g. {EXAMPLE}")
    if not _NAMESPACED.match(kind):
        raise EventKindError(
            f"{who}event kind {kind!r} must be namespaced '<plugin>:<what>' (letters, digits, '_', '-' or '.' "
            f"on each side), e.g. {EXAMPLE}")
    return kind
