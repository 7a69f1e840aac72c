"""A dunning channel that posts each action as signed JSON to an HTTP endpoint.

Enable it in ``dunning.toml``::

    [channels]
    enabled = ["webhook"]

    [channels.webhook]
    url = "https://crm.example.com/hooks/dunning"
    secret = "..."          # HMAC-SHA256 key shared with the receiver
    timeout_seconds = 10    # optional

Every request carries ``Idempotency-Key`` (the action's key, the same on
every retry) and ``X-Dunning-Signature: sha256=<hex>``, the HMAC-SHA256 of
the exact body bytes. The receiver checks it with :func:`verify_signature`.
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.parse
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from dunning import hookimpl

if TYPE_CHECKING:
    import urllib.error

    from dunning import Action, Case, Delivery, DeliveryContext

# Every dunning command imports this module (the entry point), `dunning --help` included: urllib.request and
# urllib.error (with http.client, ssl and tempfile), hmac and hashlib, and dunning's channel API are imported
# when a message is signed or goes out, not here.

__version__ = "0.1.0"

SIGNATURE_HEADER = "X-Dunning-Signature"
TIMESTAMP_HEADER = "X-Dunning-Timestamp"
REQUEST_ID_HEADER = "X-Request-Id"
SIGNATURE_PREFIX = "sha256="

DEFAULT_TIMEOUT_SECONDS = 10
# How long to wait after a 429 that does not say how long.
DEFAULT_BACKOFF = dt.timedelta(minutes=15)
# How much of an error response goes into the failure message.
ERROR_BODY_CHARS = 200

_WHERE = "channels.webhook"
_REQUIRED = ("url", "secret")
_ALLOWED = frozenset({"url", "secret", "timeout_seconds"})


# --- signing ----------------------------------------------------------------


def _key_bytes(secret: str | bytes) -> bytes:
    return secret.encode("utf-8") if isinstance(secret, str) else secret


def sign(secret: str | bytes, body: bytes) -> str:
    """The ``X-Dunning-Signature`` value for ``body``: ``"sha256=<hex>"``."""
    import hashlib
    import hmac

    digest = hmac.new(_key_bytes(secret), body, hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


def verify_signature(secret: str | bytes, body: bytes, header: str | None) -> bool:
    """True if ``header`` is the signature of ``body`` under ``secret``.

    For the receiving side. Pass the raw request body exactly as it arrived,
    before any JSON parsing. The comparison takes constant time, so it does
    not leak how much of a forged signature was right.
    """
    if not header or not isinstance(header, str):
        return False
    import hmac

    expected = sign(secret, body)
    try:
        return hmac.compare_digest(expected.encode("ascii"), header.strip().encode("ascii"))
    except UnicodeEncodeError:
        return False


# --- settings ---------------------------------------------------------------


def check_settings(settings: Mapping[str, Any]) -> None:
    """Raise ``ValueError`` naming the first bad key of ``[channels.webhook]``.

    The message names the key but not the table: dunning adds
    ``channels.webhook:`` (and the file) when it reports the error at start-up.
    """
    for key in sorted(settings):
        if key not in _ALLOWED:
            raise ValueError(
                f"unknown key {key!r} (allowed: {', '.join(sorted(_ALLOWED))})"
            )
    for key in _REQUIRED:
        if key not in settings:
            raise ValueError(f"missing {key!r}")
        if not isinstance(settings[key], str) or not settings[key].strip():
            raise ValueError(f"{key!r} must be a non-empty string")
    scheme = urllib.parse.urlsplit(settings["url"]).scheme
    if scheme not in ("http", "https"):
        raise ValueError("'url' must start with http:// or https://")
    if "timeout_seconds" in settings:
        timeout = settings["timeout_seconds"]
        # bool is an int in Python; `timeout_seconds = true` is a mistake.
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
            raise ValueError("'timeout_seconds' must be a positive number")


# --- the payload ------------------------------------------------------------


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def build_payload(action: Action, case: Case, ctx: DeliveryContext) -> dict[str, Any]:
    """The JSON document posted for one action."""
    debtor = ctx.debtor
    return {
        "key": ctx.key,
        "action": {
            "id": action.id,
            "kind": _text(action.kind),
            "step": action.step,
            "channel": action.channel,
            "template": action.template,
            "dpd": action.dpd,
            "planned_for": action.planned_for.isoformat(),
        },
        "case": {
            "id": case.id,
            "debtor_id": case.debtor_id,
            "stage": _text(case.stage),
            "status": _text(case.status),
            "balance": _format_minor(case.balance, case.currency),
            "balance_minor": case.balance,
            "currency": case.currency,
            "dpd": ctx.dpd,
        },
        "debtor": {
            "id": debtor.id,
            "name": debtor.name,
            "country": debtor.country,
            "locale": debtor.locale,
        },
        "sent_at": ctx.now.isoformat(),
    }


def _format_minor(amount: int, currency: str) -> str:
    from dunning import format_minor

    return format_minor(amount, currency)


def encode(payload: Mapping[str, Any]) -> bytes:
    """Serialise once; the signature is over exactly these bytes."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


# --- HTTP -------------------------------------------------------------------


def _no_redirect_opener() -> Any:
    import urllib.request

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        # A redirect would turn the POST into a GET or resend the body somewhere
        # the config does not name; report it as a failure instead.
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    return urllib.request.build_opener(_NoRedirect)


def _where(url: str) -> str:
    """The URL without credentials or query string, for messages and logs."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    if parts.port:
        host = f"{host}:{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))


def _excerpt(body: bytes) -> str:
    return body.decode("utf-8", errors="replace").strip()[:ERROR_BODY_CHARS]


def _retry_after(value: str | None, now: dt.datetime) -> dt.datetime:
    """When to try again after a 429: ``Retry-After`` seconds or date, else 15 minutes."""
    if value:
        value = value.strip()
        if value.isdigit():
            return now + dt.timedelta(seconds=int(value))
        try:
            import email.utils

            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            when = None
        if when is not None and when.tzinfo is not None:
            return max(when.astimezone(dt.UTC), now)
    return now + DEFAULT_BACKOFF


class WebhookChannel:
    """Posts each action to ``[channels.webhook] url``.

    ``needs`` is empty: the channel reaches a system, not a person, so it
    does not use the debtor's contacts; for the same reason its medium is
    ``other`` (no contact window, the caps for ``other``).
    """

    name = "webhook"
    in_doubt = "resend"  # the receiver sees the same Idempotency-Key on a re-send
    deduplicates_by_key = True
    medium = "other"
    needs: tuple[str, ...] = ()

    def __init__(self, opener: Callable[..., Any] | None = None) -> None:
        self._open = opener  # None: urllib's, without redirects, made on the first send

    def check_settings(self, settings: Mapping[str, Any]) -> None:
        check_settings(settings)

    def send(self, action: Action, case: Case, ctx: DeliveryContext) -> Delivery:
        import urllib.error
        import urllib.request

        from dunning import Delivery

        if self._open is None:
            self._open = _no_redirect_opener().open
        try:
            check_settings(ctx.settings)
        except ValueError as exc:
            return Delivery.failed(f"{_WHERE}: {exc}")
        url: str = ctx.settings["url"]
        timeout = ctx.settings.get("timeout_seconds", DEFAULT_TIMEOUT_SECONDS)

        body = encode(build_payload(action, case, ctx))
        request = urllib.request.Request(
            url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Idempotency-Key": ctx.key,
                SIGNATURE_HEADER: sign(ctx.settings["secret"], body),
                TIMESTAMP_HEADER: str(int(ctx.now.timestamp())),
                "User-Agent": f"dunning-webhook/{__version__}",
            },
        )
        ctx.log.debug("webhook.post", url=_where(url), bytes=len(body))
        try:
            with self._open(request, timeout=timeout) as response:
                status = response.status
                request_id = response.headers.get(REQUEST_ID_HEADER)
                response.read(65536)
        except urllib.error.HTTPError as exc:
            with exc:
                return self._refused(exc, ctx)
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", None) or exc
            return Delivery.failed(f"cannot reach {_where(url)}: {reason}")

        if not 200 <= status < 300:
            # A safeguard: urllib raises HTTPError for every status outside 2xx.
            return Delivery.failed(f"HTTP {status} from {_where(url)}", status=status)
        return Delivery.sent(reference=request_id or ctx.key, status=status)

    def _refused(self, exc: urllib.error.HTTPError, ctx: DeliveryContext) -> Delivery:
        from dunning import Delivery

        status = exc.code
        if status == 429:
            until = _retry_after(exc.headers.get("Retry-After"), ctx.now)
            return Delivery.deferred(
                until=until,
                reason=f"HTTP 429 Too Many Requests; retry at {until.isoformat()}",
                status=status,
            )
        try:
            excerpt = _excerpt(exc.read(4096))
        except OSError:
            excerpt = ""
        message = f"HTTP {status} {exc.reason}"
        if excerpt:
            message = f"{message}: {excerpt}"
        return Delivery.failed(message, status=status)


@hookimpl
def register_channels(register: Callable[[Any], None]) -> None:
    register(WebhookChannel())
