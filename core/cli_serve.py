"""``dunning serve``: the web console for collectors and supervisors."""

from __future__ import annotations

import datetime as dt

import click

from dunning.cli_support import State, fail, pass_state


@click.command()
@click.option("--host", help="The address to listen on (default: [server] host, 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), help="The port (default: [server] port, 8080).")
@pass_state
def serve(state: State, host: str | None, port: int | None) -> None:
    """Serve the web console: the day's calls, cases, payments, holds and approvals in a browser.

    Staff sign in with the accounts `dunning users add` makes. Every change
    goes through the same operations as the commands, so it is the same
    evidence event, with the signed-in person as who did it. Listens on
    127.0.0.1 unless told otherwise: put a reverse proxy with TLS in front
    to reach it from other machines (docs/admin.md, [server]). With --now
    the console's clock stands still at that moment (a rehearsal).
    """
    import uvicorn

    from dunning import calendar
    from dunning.web.app import create_app, load_secret
    from dunning.web.portal_pages import path_of

    state.runtime()  # the database must exist, and its migrations run, before the first request
    config = state.config
    server = config.sections.server
    try:
        secret = load_secret(config.base_dir / server.secret_file)
    except (OSError, ValueError) as exc:
        fail(str(exc))
    # --now: the clock stands still there; else each request reads the clock.
    fixed = state.now() if click.get_current_context().find_root().params.get("now_text") else None

    def clock() -> dt.datetime:
        return fixed or calendar.utc_now()

    app = create_app(config, db_path=state.db, clock=clock, secret=secret, https=server.https)
    host, port = host or server.host, port or server.port
    _check_free(host, port)
    click.echo(f"dunning console on http://{host}:{port}/", err=True)
    # The debtors' page answers under the path of [portal] base_url: say where, so a proxy can be set up to match.
    click.echo(f"debtors' page under http://{host}:{port}{path_of(config)}/", err=True)
    uvicorn.run(app, host=host, port=port, proxy_headers=True,
                forwarded_allow_ips=list(server.trusted_proxies), log_level="warning", server_header=False)


def _check_free(host: str, port: int) -> None:
    """One line, exit 1, when the address is taken or unknown (uvicorn would print a log line and exit 3)."""
    import socket

    try:
        with socket.create_server((host, port)):
            pass
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
