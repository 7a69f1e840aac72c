"""Internal work the policy asks for: a notice to a member of staff, an account lock.

The delivery paths of ``notice`` and ``lock_account`` actions (see
``delivery``). Neither reaches the debtor, so ``RunSummary.internal`` counts
them rather than ``sent``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dunning.channels import DeliveryStatus
from dunning.staff_delivery import send_notice

if TYPE_CHECKING:
    from dunning.dispatch.delivery import _Delivery


def notice(d: _Delivery) -> None:
    """Record the notice, sent to the role's address through the staff channel when there is one."""
    role = d.action.target or "supervisor"
    # The debtor and obligations as the round read them (``facts``): the notice's figures need no reads of their own.
    sent = send_notice(d.rt, d.action, d.case, d.now, d.claimer, known=(d.debtor, d.facts.obligations_of(d.case.id)))
    delivery = sent.delivery
    if delivery is None or delivery.status is DeliveryStatus.SENT:
        reference = delivery.reference if delivery is not None and delivery.reference else f"notice:{role}"
        d.done(d.event("notice", **sent.facts), reference=reference)
    elif delivery.status is DeliveryStatus.DEFERRED:
        assert delivery.until is not None
        d.defer(f"channel:{sent.via}", delivery.until, delivery.error or "the channel asked to wait",
                count_attempt=True)
    else:
        d.fail(delivery.error or "the channel reported a failure", sent.facts, retry=delivery.retry)


def lock_account(d: _Delivery) -> None:
    """Mark the case's account locked, once the rules (``check_action``) allow it."""
    verdict = d.rule_verdict(d.check_hooks())
    if verdict is not None:
        d.apply(verdict)
        return
    with d.rt.store.transaction():
        if d.done(d.event("account_locked", approved_by=d.action.approved_by)):
            d.rt.store.update_case(d.case.id, account_locked=1)
