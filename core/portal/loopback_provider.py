"""A payment provider that runs on 127.0.0.1: for tests, demonstrations and a web app's first steps.

``LoopbackProvider`` serves a small real HTTP server. ``start`` answers the
URL of a page there with one button; pressing it (a POST, as a browser
would) "pays" and posts a signed confirmation to ``webhook_url``, as a real
provider's webhook does: a JSON body, and ``X-Loopback-Signature:
sha256=<hex HMAC-SHA256 of the body>`` keyed by the provider's secret.
``post_confirmation`` posts it again, as providers do when unsure it arrived.

    with LoopbackProvider(webhook_url="http://127.0.0.1:8080/portal/payments/loopback") as provider:
        url = provider.start(request)   # send the debtor there
        ... provider.webhooks: [(status, body)] of each post ...
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import html
import json
import secrets
import threading
import urllib.error
import urllib.request
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from dunning import calendar, money
from dunning.portal.providers import BadConfirmation, Confirmation, PaymentRequest

SIGNATURE_HEADER = "X-Loopback-Signature"


class LoopbackProvider:
    """A payment provider on the loopback interface (see the module's docstring)."""

    def __init__(self, webhook_url: str, *, name: str = "loopback", secret: bytes | None = None):
        self.name = name
        self.webhook_url = webhook_url
        self.secret = secret if secret is not None else secrets.token_bytes(32)
        self.payments: dict[str, PaymentRequest] = {}
        self.confirmations: dict[str, bytes] = {}  # payment id -> the signed body, once paid
        self.webhooks: list[tuple[int, bytes]] = []  # (the webhook's HTTP status, the body posted)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- the provider interface -----------------------------------------------------

    def start(self, request: PaymentRequest) -> str:
        payment_id = f"lp_{secrets.token_hex(8)}"
        with self._lock:
            self.payments[payment_id] = request
        return f"{self.base_url}/pay/{payment_id}"

    def confirmation(self, body: bytes, headers: Mapping[str, str]) -> Confirmation:
        given = {k.lower(): v for k, v in headers.items()}.get(SIGNATURE_HEADER.lower(), "")
        if not hmac.compare_digest(given.encode(), self.signature(body).encode()):
            raise BadConfirmation(f"{self.name}: the confirmation's signature does not match")
        try:
            data = json.loads(body)
            return Confirmation(payment_id=str(data["payment_id"]), case_id=int(data["case_id"]),
                                amount=int(data["amount"]), currency=str(data["currency"]),
                                paid_at=calendar.parse_moment(str(data["paid_at"]), dt.UTC))
        except (ValueError, KeyError, TypeError) as exc:
            raise BadConfirmation(f"{self.name}: cannot read the confirmation: {exc}") from None

    # --- what the provider's side does ---------------------------------------------

    def signature(self, body: bytes) -> str:
        return "sha256=" + hmac.new(self.secret, body, hashlib.sha256).hexdigest()

    def pay(self, payment_id: str, paid_at: dt.datetime | None = None) -> int:
        """The debtor paid: sign the confirmation and post it to the webhook; the webhook's HTTP status."""
        with self._lock:
            request = self.payments[payment_id]
            body = json.dumps({"payment_id": payment_id, "case_id": request.case_id, "amount": request.amount,
                               "currency": request.currency, "reference": request.reference,
                               "paid_at": calendar.to_text(paid_at or calendar.utc_now())}, sort_keys=True).encode()
            self.confirmations[payment_id] = body
        return self.post_confirmation(payment_id)

    def post_confirmation(self, payment_id: str) -> int:
        """Post a paid payment's signed confirmation (again); the webhook's HTTP status."""
        body = self.confirmations[payment_id]
        post = urllib.request.Request(self.webhook_url, data=body, method="POST", headers={
            "Content-Type": "application/json", SIGNATURE_HEADER: self.signature(body)})
        try:
            with urllib.request.urlopen(post, timeout=10) as answer:
                status = int(answer.status)
        except urllib.error.HTTPError as exc:
            status = exc.code
        self.webhooks.append((status, body))
        return status

    # --- the server ------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the loopback provider is not running (use it as a context manager)")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> LoopbackProvider:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, name="loopback-provider", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)


def _handler(provider: LoopbackProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _payment(self) -> tuple[str, PaymentRequest] | None:
            parts = self.path.split("?")[0].strip("/").split("/")
            if len(parts) == 2 and parts[0] == "pay" and parts[1] in provider.payments:
                return parts[1], provider.payments[parts[1]]
            return None

        def _answer(self, status: int, text: str) -> None:
            body = f"<!doctype html><meta charset=utf-8><title>Loopback payment</title>{text}".encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            found = self._payment()
            if found is None:
                self._answer(404, "<p>No such payment.</p>")
                return
            payment_id, request = found
            amount = html.escape(money.display(request.amount, request.currency))
            self._answer(200, f"<h1>Pay {amount}</h1><p>Reference {html.escape(request.reference)}</p>"
                              f'<form method="post" action="/pay/{payment_id}"><button>Pay {amount}</button></form>')

        def do_POST(self) -> None:
            found = self._payment()
            if found is None:
                self._answer(404, "<p>No such payment.</p>")
                return
            payment_id, request = found
            status = provider.pay(payment_id)
            back = f'<p><a href="{html.escape(request.return_url)}">Back</a></p>' if request.return_url else ""
            self._answer(200 if status < 300 else 502, f"<h1>Paid</h1><p>The merchant answered {status}.</p>{back}")

        def log_message(self, format: str, *args: Any) -> None:
            pass  # a test's output stays clean

    return Handler
