"""What every page shares: the server's settings, a runtime per request, the signed-in person, rendering.

A page is a plain function of a ``Visit`` (the request, an open runtime, the
person, the form, the moment) wrapped by ``page(role)``, which refuses a
POST without the session's CSRF token, sends a visitor who is not signed
in to the sign-in page, and refuses a role below the page's. The runtime
is opened per request (a few milliseconds) and closed after it, so the
server holds no connection between requests and sees every change the
command line makes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import jinja2

from dunning.web import csrf, strings
from dunning.web.accounts import rank
from dunning.web.login_limit import LoginLimit

if TYPE_CHECKING:
    from starlette.datastructures import FormData
    from starlette.requests import Request
    from starlette.responses import Response

    from dunning.config import Config
    from dunning.runtime import Runtime
    from dunning.store.database import DatabaseName
    from dunning.store.users import StaffUser
    from dunning.work_lists import Said

HERE = Path(__file__).parent


@attrs.define
class Console:
    """The server's state, shared by every request."""

    config: Config
    db_path: DatabaseName | None  # --db: a file or a PostgreSQL server; None: the config's
    clock: Callable[[], dt.datetime]
    limit: LoginLimit = attrs.field(factory=LoginLimit)
    plugins: Sequence[object] = ()  # plugins given in-process (a test's work list) besides those installed
    env: jinja2.Environment = attrs.field(factory=lambda: jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True, undefined=jinja2.StrictUndefined))

    @contextlib.contextmanager
    def runtime(self) -> Iterator[Runtime]:
        from dunning.runtime import Runtime

        rt = Runtime(self.config, db_path=self.db_path, create_db=False, extra_plugins=list(self.plugins))
        try:
            yield rt
        finally:
            rt.close()


@attrs.frozen
class Visit:
    """One request as a page sees it."""

    request: Request
    rt: Runtime
    user: StaffUser
    form: Mapping[str, str]
    now: dt.datetime

    @property
    def today(self) -> dt.date:
        return self.rt.today(self.now)


def console_of(request: Request) -> Console:
    console: Console = request.app.state.console
    return console


def language(request: Request) -> str:
    chosen = request.session.get("lang")
    if isinstance(chosen, str) and chosen in strings.LANGUAGES:
        return chosen
    return strings.from_accept_language(request.headers.get("accept-language"))


def render(request: Request, template: str, context: Mapping[str, Any], *, status: int = 200,
           user: StaffUser | None = None) -> Response:
    from starlette.responses import HTMLResponse

    lang = language(request)
    flash = request.session.pop("flash", None)
    if flash is not None:  # the line after a change, one text or by language (dunning.work_lists.Said)
        from dunning.work_lists import said_in

        flash = said_in(flash, lang)
    html = console_of(request).env.get_template(template).render({
        "t": strings.words(lang), "lang": lang, "languages": strings.LANGUAGES, "user": user,
        "csrf": csrf.token(request.session), "flash": flash, "path": request.url.path,
        "errors": {}, "values": {}, "error": None, "form": None, **context})
    return HTMLResponse(html, status_code=status)


def message(request: Request, status: int, key: str, *, user: StaffUser | None = None) -> Response:
    """A plain page that says only what was refused, never why in more detail."""
    return render(request, "message.html", {"key": key}, status=status, user=user)


def signed_in(request: Request, rt: Runtime) -> StaffUser | None:
    name = request.session.get("user")
    if not isinstance(name, str):
        return None
    user = rt.store.staff_user(name)
    # Disabling an account ends its sessions at their next request.
    return user if user is not None and user.active else None


Page = Callable[[Visit], "Response"]

# Each page's endpoint and the least role it admits: the route-by-role test walks every route of the app and
# reads what each one should refuse from here, so a new page cannot go untested.
ROLE_OF: dict[Callable[..., Any], str] = {}


async def _form(request: Request) -> FormData | None:
    if request.method != "POST":
        return None
    return await request.form()


def page(role: str) -> Callable[[Page], Callable[[Request], Any]]:
    """The endpoint for ``handler``: CSRF on POST, signed in, at least ``role``."""
    from starlette.responses import RedirectResponse

    def wrap(handler: Page) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            form = await _form(request)
            if form is not None and not csrf.valid(request.session, form.get(csrf.FIELD)):
                return message(request, 403, "csrf")
            console = console_of(request)
            with console.runtime() as rt:
                user = signed_in(request, rt)
                if user is None:
                    return RedirectResponse("/login", status_code=303)
                if rank(user.role) < rank(role):
                    return message(request, 403, "refused", user=user)
                fields = {k: v for k, v in (form or {}).items() if isinstance(v, str)}
                return handler(Visit(request, rt, user, fields, console.clock()))

        endpoint.__name__ = handler.__name__
        ROLE_OF[endpoint] = role
        return endpoint

    return wrap


def done(visit: Visit, to: str, said: Said) -> Response:
    """After a change: back to ``to`` with a line saying what was done (POST, redirect, GET), in the reader's
    language when ``said`` gives it by language."""
    from starlette.responses import RedirectResponse

    visit.request.session["flash"] = said if isinstance(said, str) else dict(said)
    return RedirectResponse(to, status_code=303)
