"""Propose a settlement from the case page: ``dunning offer`` in a form (``/cases/{id}/settle``).

The offer's every rule is ``dunning.ledger.settlement``'s (the discount the
stage allows, a future date, one instalment a day at most, a letter or an
email to carry it); the form reads the fields and shows a refusal beside
the field it is about. The signed-in person makes the offer; a discount
beyond the stage's limit needs a supervisor's approval, which the command
line records (``dunning offer --approved-by``).
"""

# The Chinese lines are written with full-width punctuation, which the ambiguous-character rule flags.
# ruff: noqa: RUF001

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

from dunning import money
from dunning.web.case_forms import FormError
from dunning.web.case_pages import _form_page
from dunning.web.console import Visit

if TYPE_CHECKING:
    from dunning.work_lists import Said

# Which field a refusal is about, by the option its message names.
_FIELDS: Sequence[tuple[str, str]] = (("--until", "until"), ("--instalments", "instalments"))
_CONSOLE_WORDS = (("a supervisor must approve it with --approved-by NAME",
                   "a supervisor approves it on the command line (dunning offer --approved-by)"),
                  ("--settle", "the amount"), ("--until", "the date"), ("--instalments", "instalments"))


def _field(message: str) -> str:
    return next((field for option, field in _FIELDS if option in message), "amount")


def _words(message: str) -> str:
    for said, meant in _CONSOLE_WORDS:
        message = message.replace(said, meant)
    return message


def propose(visit: Visit, case_id: int) -> Said:
    """Offer to settle as ``dunning offer CASE --settle AMOUNT --until DATE --instalments N --by <me>`` does."""
    from dunning.ledger.settlement import SettlementError, offer

    amount = visit.form.get("amount", "").strip()
    if not amount:
        raise FormError("amount", "required", "required")
    until_text = visit.form.get("until", "").strip()
    try:
        until = dt.date.fromisoformat(until_text)
    except ValueError:
        raise FormError("until", f"not a date (YYYY-MM-DD): {until_text!r}", "not_a_date",
                        {"text": until_text}) from None
    instalments_text = visit.form.get("instalments", "").strip() or "1"
    if not instalments_text.isdigit():
        raise FormError("instalments", f"not a whole number: {instalments_text!r}", "not_a_whole_number",
                        {"text": instalments_text})
    try:
        offer_id = offer(visit.rt, case_id, amount, until, now=visit.now, by=visit.user.name,
                         instalments=int(instalments_text))
    except SettlementError as exc:
        raise FormError(_field(str(exc)), _words(str(exc)), exc.code, exc.params) from None
    made = visit.rt.store.open_settlement(case_id)
    assert made is not None and made.id == offer_id
    currency = visit.rt.store.case(case_id).currency
    amount, owed, until = money.display(made.amount, currency), money.display(made.owed, currency), made.until
    return {"en": f"offer {offer_id} to settle {amount} of {owed} by {until.isoformat()}; collection paused",
            "zh_CN": f"和解方案 {offer_id}：以 {amount} 了结所欠 {owed}，{until.isoformat()} 前有效；催收已暂停"}


propose_settlement = _form_page("settle", propose)
