"""A debtor's dispute of one item: whether Reg F's verification rule binds it, and the supervisor's notice. Pure.

A disputed item is held out of demands at once (``dunning.corrections.dispute``);
a supervisor is told through a notice (an action of kind ``notice`` to the
``supervisor`` role, delivered and evidenced as the policy's notices are).
Where US Regulation F binds the debtor, collection of a disputed debt resumes
only once verification of it was sent (12 CFR 1006.38(d)(2)), so the lift
must say so; elsewhere the lift stands as it is.
"""

from __future__ import annotations

from dunning.action_key import ActionKey
from dunning.compliance.jurisdictions import Chosen
from dunning.compliance.profiles import US_REGF

# The notice's step and role: the key names the step, ``dunning notices --role supervisor`` lists it.
NOTICE_STEP = "item-dispute"
NOTICE_ROLE = "supervisor"


def verification_required(chosen: Chosen) -> bool:
    """Whether lifting a dispute of this debtor's item needs verification of the debt to have been sent.

    It does where the profile binding the debtor is Reg F's. That profile
    binds consumers only: a company debtor is held to another profile (see
    ``choose_profile``), so a business debt's dispute is lifted as before.
    """
    return chosen.profile.name == US_REGF.name


def verification_missing(name: str) -> str:
    """The refusal of a lift without verification: the case-level rule's words, for one item."""
    return (f"{name} is disputed: collection resumes only once verification of the debt was sent; "
            "say so with --verification-sent")


def notice_key(case_id: int, obligation_id: int, dispute_seq: int) -> str:
    """The notice's idempotency key: one per dispute (the ``obligation_disputed`` event's number).

    A second dispute of the same item after a lift is a new event and so a
    new notice; replaying the same dispute finds the key taken.
    """
    return str(ActionKey(case_id, NOTICE_STEP, "notice", f"{obligation_id}-{dispute_seq}"))


def notice_why(name: str, open_amount: str, reason: str, *, verification: bool) -> str:
    """What the notice says about the dispute: the item, its open amount, the reason given, what lifts it."""
    if verification:
        return (f"item {name} ({open_amount} open) disputed: {reason}; held out of demands until verification of "
                f"the debt was sent (Reg F): dunning dispute {name} --lift --verification-sent")
    return (f"item {name} ({open_amount} open) disputed: {reason}; held out of demands until the dispute is "
            f"settled: dunning dispute {name} --lift")
