"""Signing in and out, and the language switch.

The session (a signed cookie) holds only the person's name, the CSRF token
and the chosen language; the account is read again on every request, so a
disabled account is out at once. Failed sign-ins are limited per address
and per name (``LoginLimit``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dunning.log import get_logger
from dunning.web import csrf, strings
from dunning.web.accounts import authenticate
from dunning.web.console import console_of, message, render, signed_in

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response


async def login(request: Request) -> Response:
    from starlette.responses import RedirectResponse

    console = console_of(request)
    if request.method != "POST":  # GET, and HEAD as a monitor asks it
        with console.runtime() as rt:
            if signed_in(request, rt) is not None:
                return RedirectResponse("/", status_code=303)
        return render(request, "login.html", {})
    form = await request.form()
    if not csrf.valid(request.session, form.get(csrf.FIELD)):
        return message(request, 403, "csrf")
    name = str(form.get("name", "")).strip()
    password = str(form.get("password", ""))
    address = request.client.host if request.client else "-"
    log = get_logger("dunning.web")
    if console.limit.blocked(address, name):
        log.warning("sign-in refused: too many failures", user=name, address=address)
        return render(request, "login.html", {"error": "too_many", "values": {"name": name}}, status=429)
    with console.runtime() as rt:
        user = authenticate(rt, name, password)
    if user is None:
        console.limit.failed(address, name)
        log.warning("sign-in failed", user=name, address=address)
        return render(request, "login.html", {"error": "bad_login", "values": {"name": name}}, status=401)
    console.limit.succeeded(name)
    lang = request.session.get("lang")
    request.session.clear()  # a new session: nothing from before signing in carries over, the token included
    request.session["user"] = user.name
    if lang:
        request.session["lang"] = lang
    log.info("signed in", user=user.name, role=user.role, address=address)
    return RedirectResponse("/", status_code=303)


async def logout(request: Request) -> Response:
    from starlette.responses import RedirectResponse

    form = await request.form()
    if not csrf.valid(request.session, form.get(csrf.FIELD)):
        return message(request, 403, "csrf")
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


async def switch_language(request: Request) -> Response:
    """``/lang/zh_CN``: the console in that language for this session; back to where the link was."""
    from starlette.responses import RedirectResponse

    chosen = request.path_params["code"]
    if chosen not in strings.LANGUAGES:
        return message(request, 404, "not_found")
    request.session["lang"] = chosen
    back = request.query_params.get("back", "/")
    # Only a path of ours: never a redirect to another site.
    if not back.startswith("/") or back.startswith("//") or "\\" in back:
        back = "/"
    return RedirectResponse(back, status_code=303)
