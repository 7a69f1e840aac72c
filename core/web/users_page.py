"""Users (admins): the staff accounts, adding one and disabling one, as ``dunning users`` does."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dunning.web.accounts import ROLES, AccountError, add_user, disable_user
from dunning.web.console import Visit, done, page, render

if TYPE_CHECKING:
    from starlette.responses import Response


def _show(visit: Visit, errors: dict[str, str] | None = None, status: int = 200) -> Response:
    return render(visit.request, "users.html", {
        "accounts": visit.rt.store.staff_users(), "roles": ROLES, "errors": errors or {},
        "values": {k: v for k, v in visit.form.items() if k != "password"} if errors else {},
    }, status=status, user=visit.user)


@page("admin")
def users(visit: Visit) -> Response:
    return _show(visit)


@page("admin")
def add(visit: Visit) -> Response:
    name = visit.form.get("name", "").strip()
    try:
        add_user(visit.rt, name, visit.form.get("role", ""), visit.form.get("password", ""), by=visit.user.name,
                 now=visit.now)
    except AccountError as exc:
        text = str(exc)
        field = "password" if "password" in text else "role" if "role" in text else "name"
        return _show(visit, {field: text}, status=422)
    return done(visit, "/users", {"en": f"user {name} added", "zh_CN": f"已添加用户 {name}"})


@page("admin")
def disable(visit: Visit) -> Response:
    name = visit.request.path_params["name"]
    if name == visit.user.name:
        return _show(visit, {"disable": "you cannot disable your own account"}, status=422)
    try:
        disable_user(visit.rt, name, by=visit.user.name, now=visit.now)
    except AccountError as exc:
        return _show(visit, {"disable": str(exc)}, status=422)
    return done(visit, "/users", {"en": f"user {name} disabled", "zh_CN": f"已停用用户 {name}"})
