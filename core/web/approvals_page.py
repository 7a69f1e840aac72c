"""Approvals (supervisors): each action waiting, with its debtor, amounts and reason; approve or reject.

The list is ``dunning approvals``'s (``dunning.approvals.approval_rows``), the
decision ``dunning approve``/``reject``'s (``operations.decide``), with the
signed-in supervisor as who decided.
"""

# The Chinese lines are written with full-width punctuation, which the ambiguous-character rule flags.
# ruff: noqa: RUF001

from __future__ import annotations

from typing import TYPE_CHECKING

from dunning.web.console import Visit, done, language, page, render

if TYPE_CHECKING:
    from starlette.responses import Response


def _refused(visit: Visit, action: str, text: str, code: str | None, params: dict[str, object]) -> Response:
    """The list again, the refusal beside the action it is about, in the reader's language where it has a code."""
    from dunning.web.strings import message

    return _show(visit, {action: message(language(visit.request), code, params) or text}, status=422)


def _show(visit: Visit, errors: dict[str, str] | None = None, status: int = 200) -> Response:
    from dunning import money
    from dunning.approvals import approval_rows

    return render(visit.request, "approvals.html", {
        "rows": list(approval_rows(visit.rt, visit.today)), "display": money.display, "errors": errors or {},
    }, status=status, user=visit.user)


@page("supervisor")
def approvals(visit: Visit) -> Response:
    return _show(visit)


@page("supervisor")
def decide(visit: Visit) -> Response:
    from dunning import operations
    from dunning.store import NotFound

    text = visit.request.path_params["action_id"]
    decision = visit.form.get("decision")
    if not (text.isascii() and text.isdigit()) or decision not in ("approve", "reject"):
        return _refused(visit, text, "choose approve or reject", "choose_decision", {})
    try:
        action = operations.decide(visit.rt, int(text), approve=decision == "approve", by=visit.user.name,
                                   now=visit.now, note=visit.form.get("note", "").strip() or None)
    except operations.OperationError as exc:
        return _refused(visit, text, str(exc), exc.code, exc.params)
    except NotFound as exc:
        return _refused(visit, text, str(exc), "not_found", {})
    word, chinese = ("approved", "已批准") if decision == "approve" else ("rejected", "已拒绝")
    return done(visit, "/approvals", {"en": f"action {action.id} ({action.step}) {word}",
                                      "zh_CN": f"动作 {action.id}（{action.step}）{chinese}"})
