"""The case page and its forms (``/cases/{id}``): a collector sees only the cases assigned to them."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from dunning.models import HoldReason
from dunning.web import case_forms
from dunning.web.assignment import recorders, works_case
from dunning.web.case_view import case_context
from dunning.web.console import Visit, done, language, message, page, render

if TYPE_CHECKING:
    from starlette.responses import Response

    from dunning.work_lists import Said


def _case_id(visit: Visit) -> int | None:
    text = visit.request.path_params["case_id"]
    return int(text) if text.isascii() and text.isdigit() else None


def _show(visit: Visit, case_id: int, *, form: str | None = None, errors: dict[str, str] | None = None,
          status: int = 200) -> Response:
    case = visit.rt.store.case(case_id)
    from dunning.work_lists import language_of

    lang = language(visit.request)
    return render(visit.request, "case.html", {
        **case_context(visit.rt, case, visit.today, visit.now),
        # One outcome form per work list that records outcomes (the phone channel's logs a call).
        "recorders": [(w.channel, language_of(w.title, lang) or w.channel, dict(w.outcomes))
                      for w in recorders(visit.rt)],
        "hold_reasons": [r.value for r in HoldReason], "form": form, "errors": errors or {},
        "disputed": case_forms.disputed_items(visit.rt, case_id),
        "values": dict(visit.form) if errors else {},
    }, status=status, user=visit.user)


def _open(visit: Visit) -> int | Response:
    """The case id if this person may work it, else the page that refuses."""
    from dunning.store import NotFound

    case_id = _case_id(visit)
    if case_id is None:
        return message(visit.request, 404, "not_found", user=visit.user)
    try:
        visit.rt.store.case(case_id)
    except NotFound:
        return message(visit.request, 404, "not_found", user=visit.user)
    if not works_case(visit.rt, visit.user, case_id, visit.now):
        return message(visit.request, 403, "refused", user=visit.user)
    return case_id


@page("collector")
def case_page(visit: Visit) -> Response:
    case_id = _open(visit)
    return _show(visit, case_id) if isinstance(case_id, int) else case_id


def _form_page(name: str, action: Callable[[Visit, int], Said]) -> Callable[..., object]:
    @page("collector")
    def submit(visit: Visit) -> Response:
        case_id = _open(visit)
        if not isinstance(case_id, int):
            return case_id
        try:
            said = action(visit, case_id)
        except case_forms.FormError as exc:
            return _show(visit, case_id, form=name, errors={exc.field: exc.shown(language(visit.request))}, status=422)
        return done(visit, f"/cases/{case_id}", said)

    submit.__name__ = f"case_{name}"
    return submit


log_call = _form_page("call", case_forms.log_call)
record_payment = _form_page("payment", case_forms.record_payment)
place_hold = _form_page("hold", case_forms.place_hold)
release_holds = _form_page("release", case_forms.release_holds)
