"""The debtors' page in the web app: ``<path of [portal] base_url>/<token>``, its forms, the providers' webhook.

No account and no session: the link's signed token is the key. A token
that is wrong, tampered with or expired (or names no case) gets one plain
page, the same status and body whatever the reason, and counts against the
address: after a few in a window, that address is refused for a while
even with a good link, so guessing tells nothing. Forms carry a CSRF token
bound to the link token (``portal_csrf``); every rule and every event is
``dunning.portal``'s.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

import attrs

from dunning import money
from dunning.web import portal_csrf, portal_strings, strings
from dunning.web.console import Console, console_of
from dunning.web.login_limit import LoginLimit

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from dunning.config import Config
    from dunning.portal.page import Page
    from dunning.runtime import Runtime

# What a debtor may stop: the ways of reaching them (each covers every channel that uses it), not plugin names.
OPT_OUT_MEDIA = ("email", "text", "call", "letter", "visit")
DEFAULT_PATH = "/portal"  # where the page is served when [portal] base_url is not set


def path_of(config: Config) -> str:
    """The path the links point under: that of ``[portal] base_url`` (``/portal`` without one)."""
    base = config.sections.portal.base_url
    path = urlsplit(base).path.rstrip("/") if base else DEFAULT_PATH
    return path


@attrs.define
class PortalSite:
    """The page's share of the server: the key its forms' tokens are made with, the limit on wrong links."""

    secret: str
    path: str
    plugins: Sequence[object] = ()  # plugins given in-process (a test's payment provider) besides the installed
    # Wrong links per address: generous for a debtor who mistypes, short for a script trying tokens.
    limit: LoginLimit = attrs.field(factory=lambda: LoginLimit(failures=10, window_seconds=900.0))

    @contextlib.contextmanager
    def runtime(self, console: Console) -> Iterator[Runtime]:
        from dunning.runtime import Runtime

        rt = Runtime(console.config, db_path=console.db_path, create_db=False, extra_plugins=list(self.plugins))
        try:
            yield rt
        finally:
            rt.close()


def site_of(request: Request) -> PortalSite:
    site: PortalSite = request.app.state.portal
    return site


def _language(request: Request, fields: Mapping[str, Any] | None = None) -> str:
    chosen = (fields or {}).get("lang") or request.query_params.get("lang")
    if isinstance(chosen, str) and chosen in strings.LANGUAGES:
        return chosen
    return strings.from_accept_language(request.headers.get("accept-language"))


def _html(request: Request, template: str, lang: str, context: Mapping[str, Any], status: int) -> Response:
    from starlette.responses import HTMLResponse

    html = console_of(request).env.get_template(template).render({
        "t": portal_strings.words(lang), "lang": lang, "languages": strings.LANGUAGES, **context})
    return HTMLResponse(html, status_code=status)


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _refused(request: Request, lang: str, *, slow: bool = False) -> Response:
    """The one page for every link that does not open a case: it never says which kind of wrong it was."""
    key = "slow_down" if slow else "refused"
    return _html(request, "portal/refused.html", lang, {"key": key}, 429 if slow else 404)


def _blocked(request: Request) -> bool:
    address = _address(request)
    return site_of(request).limit.blocked(address, f"portal@{address}")


def _wrong_link(request: Request) -> None:
    address = _address(request)
    site_of(request).limit.failed(address, f"portal@{address}")


def _case(request: Request, rt: Runtime, token: str, now: dt.datetime) -> int | None:
    from dunning.portal import links

    case_id = links.case_for_token(rt, token, now)
    if case_id is None:
        _wrong_link(request)
    return case_id


def _page(request: Request, rt: Runtime, view: Page, token: str, lang: str, *, done: str | None = None,
          form: str | None = None, errors: Mapping[str, str] | None = None, values: Mapping[str, str] | None = None,
          status: int = 200) -> Response:
    from dunning.portal.providers import payment_providers

    site = site_of(request)
    limits = rt.config.sections.portal
    items = [*view.overdue_items, *view.later_items]
    return _html(request, "portal/page.html", lang, {
        "view": view, "shown": lambda minor: money.display(minor, view.currency),
        "here": f"{site.path}/{token}", "csrf": portal_csrf.token(site.secret, token), "done": done,
        "form": form, "errors": errors or {}, "values": values or {},
        "references": [i.reference for i in items if i.open > 0],
        "channels": OPT_OUT_MEDIA, "providers": sorted(payment_providers(rt)),
        "plan_rows": range(1, limits.plan_max_instalments + 1), "request_max_days": limits.request_max_days,
    }, status)


async def show(request: Request) -> Response:
    """The page: every visit is the portal's ``opened`` event, except the page shown after a form."""
    from dunning.portal import actions, page

    lang = _language(request)
    if _blocked(request):
        return _refused(request, lang, slow=True)
    token = request.path_params["token"]
    console = console_of(request)
    now = console.clock()
    with site_of(request).runtime(console) as rt:
        case_id = _case(request, rt, token, now)
        if case_id is None:
            return _refused(request, lang)
        done = request.query_params.get("done")
        after_form = done is not None and done.startswith("done_") and done in portal_strings.EN
        view = page.page(rt, case_id, now) if after_form else actions.open_page(rt, case_id, now)
        return _page(request, rt, view, token, lang, done=done if after_form else None)


async def submit(request: Request) -> Response:
    """A form: the CSRF token first, then the link, then the portal's rule; an error is shown beside its field."""
    from starlette.responses import RedirectResponse

    from dunning.portal import page
    from dunning.web.case_forms import FormError
    from dunning.web.portal_forms import FORMS, Submitted

    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    lang = _language(request, fields)
    if _blocked(request):
        return _refused(request, lang, slow=True)
    token, name = request.path_params["token"], request.path_params["form"]
    site = site_of(request)
    handler = FORMS.get(name)
    if handler is None:
        return _refused(request, lang)
    if not portal_csrf.valid(site.secret, token, fields.get(portal_csrf.FIELD)):
        return _html(request, "portal/refused.html", lang, {"key": "csrf"}, 403)
    console = console_of(request)
    now = console.clock()
    with site.runtime(console) as rt:
        case_id = _case(request, rt, token, now)
        if case_id is None:
            return _refused(request, lang)
        back = f"{site.path}/{token}"
        return_url = str(request.base_url).rstrip("/") + back + "?" + urlencode({"done": "done_paid", "lang": lang})
        try:
            outcome = handler(Submitted(rt, case_id, fields, now, return_url))
        except FormError as exc:
            return _page(request, rt, page.page(rt, case_id, now), token, lang, form=name,
                         errors={exc.field: exc.shown(lang)}, values=fields, status=422)
    if outcome.go_to is not None:
        # A page that moves on by itself rather than a redirect: the CSP's form-action 'self' rightly stops a
        # form's redirect to another site, and a plain link (or refresh) to the provider is no form.
        return _html(request, "portal/continue.html", lang, {"go_to": outcome.go_to}, 200)
    return RedirectResponse(f"{back}?{urlencode({'done': outcome.said, 'lang': lang})}", status_code=303)


async def webhook(request: Request) -> Response:
    """A provider's signed confirmation: recorded once (200), refused (400), or no such provider (404)."""
    from starlette.responses import PlainTextResponse

    from dunning.portal.payments import webhook_answer
    from dunning.portal.providers import payment_providers

    body = await request.body()
    console = console_of(request)
    with site_of(request).runtime(console) as rt:
        status, text = webhook_answer(rt, payment_providers(rt), request.path_params["provider"], body,
                                      dict(request.headers), console.clock())
    return PlainTextResponse(text, status_code=status)


def routes(path: str) -> list[Route]:
    from starlette.routing import Route

    return [
        Route(f"{path}/payments/{{provider}}", webhook, methods=["POST"]),
        Route(f"{path}/{{token}}", show),
        Route(f"{path}/{{token}}/{{form}}", submit, methods=["POST"]),
    ]
