"""The console's ASGI app: routes, signed session cookies, security headers, static files."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from dunning import privacy
from dunning.web.console import HERE, Console
from dunning.web.login_limit import LoginLimit

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from dunning.config import Config
    from dunning.store.database import DatabaseName

SESSION_COOKIE = "dunning_session"
SESSION_HOURS = 10  # a working day; then sign in again


def load_secret(path: Path) -> str:
    """The key that signs session cookies, made on first start; owner-only, like the database."""
    if path.exists():
        if privacy.readable_by_others(path):
            raise PermissionError(f"{path}: others can read the server's secret; chmod 600 it")
        secret = path.read_text(encoding="utf-8").strip()
        if len(secret) < 32:
            raise ValueError(f"{path}: the server's secret is too short (32 characters at least)")
        return secret
    privacy.owner_only()
    secret = secrets.token_urlsafe(48)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(secret + "\n", encoding="utf-8")
    return secret


def create_app(config: Config, *, db_path: DatabaseName | None, clock: Callable[[], dt.datetime], secret: str,
               https: bool = False, limit: LoginLimit | None = None, plugins: Sequence[object] = ()) -> Starlette:
    """The console and the debtors' page; ``plugins`` are given to both runtimes in-process (a test's payment
    provider or work list) besides those installed."""
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.middleware.sessions import SessionMiddleware
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles

    from dunning.web import (approvals_page, auth, case_pages, day, dispute_form, portal_pages, settlement_form,
                            users_page)
    from dunning.web.headers import SecurityHeaders

    routes = [
        Route("/", day.my_day),
        Route("/login", auth.login, methods=["GET", "POST"]),
        Route("/logout", auth.logout, methods=["POST"]),
        Route("/lang/{code}", auth.switch_language),
        Route("/cases/{case_id}", case_pages.case_page),
        Route("/cases/{case_id}/call", case_pages.log_call, methods=["POST"]),
        Route("/cases/{case_id}/payment", case_pages.record_payment, methods=["POST"]),
        Route("/cases/{case_id}/hold", case_pages.place_hold, methods=["POST"]),
        Route("/cases/{case_id}/release", case_pages.release_holds, methods=["POST"]),
        Route("/cases/{case_id}/settle", settlement_form.propose_settlement, methods=["POST"]),
        Route("/cases/{case_id}/dispute", dispute_form.dispute_item, methods=["POST"]),
        Route("/cases/{case_id}/lift-dispute", dispute_form.lift_dispute, methods=["POST"]),
        Route("/approvals", approvals_page.approvals),
        Route("/approvals/{action_id}", approvals_page.decide, methods=["POST"]),
        Route("/users", users_page.users),
        Route("/users/add", users_page.add, methods=["POST"]),
        Route("/users/{name}/disable", users_page.disable, methods=["POST"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    portal_path = portal_pages.path_of(config)
    routes += portal_pages.routes(portal_path)  # after the console's own: they win where paths could meet
    middleware = [
        Middleware(SecurityHeaders, https=https),
        # Signed (itsdangerous), HttpOnly always; Secure when the proxy speaks TLS.
        Middleware(SessionMiddleware, secret_key=secret, session_cookie=SESSION_COOKIE,
                   max_age=SESSION_HOURS * 3600, same_site="lax", https_only=https),
    ]
    app = Starlette(routes=routes, middleware=middleware)
    app.state.portal = portal_pages.PortalSite(secret=secret, path=portal_path, plugins=plugins)
    app.state.console = Console(config=config, db_path=db_path, clock=clock, limit=limit or LoginLimit(),
                                plugins=plugins)
    return app
