"""Dispute one item from the case page, or lift its dispute: ``dunning dispute CASE/REF [--lift]`` in two forms.

Both go through ``dunning.corrections.dispute``: a dispute holds the item
out of demands and queues the supervisor's notice; a lift where Reg F binds
the debtor needs the box "verification of the debt was sent" ticked, and a
refusal is shown beside the field it is about, with nothing changed.
"""

# The Chinese lines are written with full-width punctuation, which the ambiguous-character rule flags.
# ruff: noqa: RUF001

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from dunning import corrections, operations
from dunning.web.case_forms import FormError
from dunning.web.case_pages import _form_page
from dunning.web.console import Visit

if TYPE_CHECKING:
    from dunning.work_lists import Said


def _submit(visit: Visit, case_id: int, *, lift: bool) -> Said:
    fields: Sequence[str] = ["reference", "reason", *(["verification_sent"] if lift else [])]
    reference = visit.form.get("reference", "").strip()
    reason = visit.form.get("reason", "").strip()
    if not reference:
        raise FormError("reference", "choose the item", "choose_item")
    if not reason:
        raise FormError("reason", "say why (it is kept as evidence)", "dispute_reason_required")
    try:
        item = corrections.dispute(visit.rt, f"{case_id}/{reference}", reason=reason, by=visit.user.name,
                                   now=visit.now, lift=lift,
                                   verification_sent=lift and bool(visit.form.get("verification_sent")))
    except operations.OperationError as exc:
        raise FormError.refused(exc, fields) from None
    name = f"{item.case_id}/{item.reference}"
    if lift:
        return {"en": f"{name}: dispute lifted; collected again", "zh_CN": f"{name}：争议已解除，恢复催收"}
    return {"en": f"{name}: held out of demands; the supervisor is sent a notice",
            "zh_CN": f"{name}：该款项已暂停催收，并已通知主管"}


def dispute(visit: Visit, case_id: int) -> Said:
    return _submit(visit, case_id, lift=False)


def lift(visit: Visit, case_id: int) -> Said:
    return _submit(visit, case_id, lift=True)


dispute_item = _form_page("dispute", dispute)
lift_dispute = _form_page("lift", lift)
