"""The ``sms`` channel: text messages through an HTTP SMS gateway.

The request is the shape most providers' APIs share: a JSON ``POST`` of
``{"to", "from", "text", "reference"}`` with the action's key both as
``reference`` and as the ``Idempotency-Key`` header, so a gateway that
de-duplicates sends a message once however often a crashed run retries it.
Opt-outs are the core's business: an action for a debtor who opted out of
``sms`` never reaches ``send``.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import os
import urllib.error
import urllib.parse
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from dunning import Delivery, DeliveryContext, calendar
from dunning.models import Action, Case
from dunning.plugins.phone import numbers
from dunning.schema import Invalid, must, structure

if TYPE_CHECKING:
    import urllib.request

DEFAULT_TIMEOUT = 10.0
# How long to wait after a 429 or 503 that does not say how long.
DEFAULT_BACKOFF = dt.timedelta(minutes=15)
ERROR_BODY_CHARS = 200

# Characters of the GSM 7-bit alphabet; anything else makes the message UCS-2.
_GSM = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
           "¿abcdefghijklmnopqrstuvwxyzäöñüà")
_GSM_EXTENDED = set("^{}\\[~]|€\f")


# --- settings ------------------------------------------------------------------


def _strip(text: str) -> str:
    return text.strip()


TEXT = must("a non-empty string", lambda text: text.strip() != "")
MISSING = {"required": "missing {key}"}


@attrs.frozen(kw_only=True)
class SmsSettings:
    """The ``[channels.sms]`` table, as written and as used."""

    url: str = attrs.field(validator=TEXT, metadata=MISSING)
    sender_id: str = attrs.field(converter=_strip, validator=TEXT, metadata=MISSING)
    timeout: float = attrs.field(default=DEFAULT_TIMEOUT, validator=must("a positive number of seconds",
                                                                         lambda seconds: seconds > 0))
    username: str | None = attrs.field(default=None, validator=TEXT)
    password: str | None = attrs.field(default=None, validator=TEXT)
    password_env: str | None = attrs.field(default=None, validator=TEXT)
    token: str | None = attrs.field(default=None, validator=TEXT)
    token_env: str | None = attrs.field(default=None, validator=TEXT)

    def __attrs_post_init__(self) -> None:
        url = urllib.parse.urlsplit(self.url)
        if url.scheme not in ("http", "https"):
            raise Invalid("'url' must start with http:// or https://")
        if url.username is not None or url.password is not None:
            # user:secret@host goes to the name resolver and into proxies' logs; it belongs in the settings.
            raise Invalid("'url' must not hold credentials: use 'username' with 'password', or 'token'")
        if any(c.isalpha() for c in self.sender_id) and len(self.sender_id) > 11:
            raise Invalid("'sender_id' may have at most 11 characters when it is a name rather than a number")
        basic = any(v is not None for v in (self.username, self.password, self.password_env))
        bearer = self.token is not None or self.token_env is not None
        if basic and bearer:
            raise Invalid("use either 'username' with 'password' (basic auth) or 'token' (bearer), not both")
        if basic:
            if self.username is None:
                raise Invalid("missing 'username' (it goes with 'password')")
            if (self.password is None) == (self.password_env is None):
                raise Invalid("'username' needs exactly one of 'password' or 'password_env'")
        if self.token is not None and self.token_env is not None:
            raise Invalid("use one of 'token' or 'token_env', not both")
        if (basic or bearer) and url.scheme == "http" and not _is_loopback(url.hostname or ""):
            raise Invalid("a password or token is never sent over plain http:// except to a loopback address: "
                          "use https://")
        for key, name in (("password_env", self.password_env), ("token_env", self.token_env)):
            if name is not None and not os.environ.get(name):
                raise Invalid(f"{key!r} names the environment variable {name!r}, which is not set", literal=True)

    def authorization(self) -> str | None:
        """The ``Authorization`` header, reading secrets from the environment at the moment of sending."""
        if self.username is not None:
            password = self.password if self.password is not None else _env(self.password_env)
            pair = f"{self.username}:{password}".encode()
            return "Basic " + base64.b64encode(pair).decode("ascii")
        if self.token is not None or self.token_env is not None:
            token = self.token if self.token is not None else _env(self.token_env)
            return f"Bearer {token}"
        return None


def _env(name: str | None) -> str:
    value = os.environ.get(name or "")
    if not value:
        raise ValueError(f"environment variable {name!r} is not set")
    return value


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def sms_settings(raw: Mapping[str, Any]) -> SmsSettings:
    """Read ``[channels.sms]``; raise ValueError naming the first bad or missing key."""
    return structure(raw, SmsSettings)


# --- the message -----------------------------------------------------------------


def segments(text: str) -> int:
    """How many parts the network splits ``text`` into (GSM 7-bit: 160 alone, 153 joined; else 70 and 67)."""
    if all(c in _GSM or c in _GSM_EXTENDED for c in text):
        units = sum(2 if c in _GSM_EXTENDED else 1 for c in text)
        single, joined = 160, 153
    else:
        units = sum(2 if ord(c) > 0xFFFF else 1 for c in text)
        single, joined = 70, 67
    if units <= single:
        return 1
    return -(-units // joined)


def build_request(settings: SmsSettings, to: str, text: str, key: str) -> urllib.request.Request:
    # urllib.request (with http.client and ssl) is imported when a message goes out: every command that opens
    # the runtime loads this channel.
    import urllib.request

    body = json.dumps({"to": to, "from": settings.sender_id, "text": text, "reference": key},
                      ensure_ascii=False).encode("utf-8")
    headers = {"Content-Type": "application/json; charset=utf-8", "Accept": "application/json",
               "Idempotency-Key": key}
    auth = settings.authorization()
    if auth:
        headers["Authorization"] = auth
    return urllib.request.Request(settings.url, data=body, method="POST", headers=headers)


def retry_after(value: str | None, now: dt.datetime) -> dt.datetime | None:
    """The moment a ``Retry-After`` header (seconds or an HTTP date) names, or None."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return now + dt.timedelta(seconds=int(value))
    import email.utils

    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None or when.tzinfo is None:
        return None
    return max(when.astimezone(dt.UTC), now)


def _where(url: str) -> str:
    """The URL without credentials or query, for messages that end up in the evidence log."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))


def _excerpt(body: bytes) -> str:
    return " ".join(body.decode("utf-8", errors="replace").split())[:ERROR_BODY_CHARS]


def _no_redirect_opener() -> Any:
    import urllib.request

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        # A redirected POST may turn into a GET or carry the message somewhere the
        # configuration does not name: a 3xx is a failure, not a detour.
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    return urllib.request.build_opener(_NoRedirect)


class SmsChannel:
    """Text messages through ``[channels.sms] url``."""

    name = "sms"
    in_doubt = "resend"  # the gateway drops a second message with the same Idempotency-Key
    deduplicates_by_key = True
    medium = "text"  # text messages: the text window and caps bind it and every other texting channel
    needs: tuple[str, ...] = ("mobile",)
    templates_module = "dunning.plugins.phone"
    template_suffixes = ("sms.txt",)

    def __init__(self, opener: Callable[..., Any] | None = None) -> None:
        self._open = opener  # None: urllib's, without redirects, made on the first send

    def check_settings(self, settings: Mapping[str, Any]) -> None:
        sms_settings(settings)

    def send(self, action: Action, case: Case, ctx: DeliveryContext) -> Delivery:
        try:
            settings = sms_settings(ctx.settings)
        except ValueError as exc:
            return Delivery.failed(f"channels.sms: {exc}", retry=False)
        region = ctx.debtor.country
        to = next((n for n in (numbers.e164(c.value, region) for c in ctx.contacts_of("mobile")) if n), None)
        if to is None:
            return Delivery.failed("no mobile number that can be written in E.164 form", retry=False)
        contact_value = next(c.value for c in ctx.contacts_of("mobile") if numbers.e164(c.value, region) == to)
        text = ctx.render(action.template or "", "sms.txt", **_promise_extras(action, ctx),
                          portal_link=_portal_link(case, ctx)).strip()
        try:
            request = build_request(settings, to, text, ctx.key)
        except ValueError as exc:  # a secret named by *_env has gone from the environment
            return Delivery.failed(f"channels.sms: {exc}", retry=False)
        if self._open is None:
            self._open = _no_redirect_opener().open
        try:
            with self._open(request, timeout=settings.timeout) as response:
                status, raw = response.status, response.read(65536)
        except urllib.error.HTTPError as exc:
            return self._refused(exc, ctx)
        except (urllib.error.URLError, OSError) as exc:
            return Delivery.failed(f"cannot reach {_where(settings.url)}: {getattr(exc, 'reason', exc)}")
        if not 200 <= status < 300:
            return Delivery.failed(f"HTTP {status} from {_where(settings.url)}", status=status)
        message_id, parts = _accepted(raw)
        # A 2xx without an id still means the gateway took the message; sending
        # it again could only duplicate it, so the key stands in as reference.
        extra = {} if message_id else {"note": "the gateway's answer had no message id"}
        # `contact` is the number as stored: the core counts the attempt against it.
        return Delivery.sent(reference=message_id or ctx.key, contact=contact_value, to=to,
                             segments=parts or segments(text), status=status, **extra)

    def _refused(self, exc: urllib.error.HTTPError, ctx: DeliveryContext) -> Delivery:
        status = exc.code
        try:
            excerpt = _excerpt(exc.read(4096))
        except OSError:
            excerpt = ""
        message = f"HTTP {status} {exc.reason}" + (f": {excerpt}" if excerpt else "")
        if status in (429, 503):
            until = retry_after(exc.headers.get("Retry-After"), ctx.now)
            if until is not None:
                return Delivery.deferred(until=until, reason=f"{message}; the gateway asks to wait", status=status)
        if status == 429 or status >= 500:
            return Delivery.failed(message, status=status)
        return Delivery.failed(message, retry=False, status=status)


def _portal_link(case: Case, ctx: DeliveryContext) -> str | None:
    """The link to the debtor's page when ``[portal] base_url`` is set; never in a text to anyone else."""
    if ctx.audience != "debtor":
        return None
    from dunning.portal import links

    return links.link(ctx.config, case.id, ctx.now)


def _promise_extras(action: Action, ctx: DeliveryContext) -> dict[str, Any]:
    """For a reminder before a promise falls due: the promised time where the debtor lives.

    The core hands the promise's time in UTC (``options.promise_due_at``); a
    text message says it as the debtor reads a clock.
    """
    due_text = action.options.get("promise_due_at")
    if not due_text:
        return {}
    try:
        due = calendar.from_text(str(due_text))
    except ValueError:
        return {}
    local = due.astimezone(calendar.zone(ctx.debtor.timezone, ctx.config.timezone))
    return {"promise_due": f"{local:%Y-%m-%d %H:%M}", "promise_amount": action.options.get("promise_amount", "")}


def _accepted(raw: bytes) -> tuple[str | None, int | None]:
    """The gateway's message id and segment count from a 2xx body, where it gives them."""
    try:
        data = json.loads(raw or b"{}")
    except ValueError:
        return None, None
    if not isinstance(data, dict):
        return None, None
    message_id = data.get("id", data.get("message_id"))
    parts = data.get("segments")
    return (str(message_id) if message_id not in (None, "") else None,
            parts if isinstance(parts, int) and not isinstance(parts, bool) and parts > 0 else None)
