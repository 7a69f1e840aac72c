"""Tests for the webhook channel against a real HTTP server on loopback.

The first group calls the channel directly; the second drives the ``dunning``
CLI end to end, loading the plugin through its entry point (install it with
``pip install -e examples/dunning-webhook``).
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import attrs
import pytest
import structlog
from click.testing import CliRunner

import dunning
import dunning_webhook
from dunning import Action, Case, Debtor, Delivery, DeliveryContext, DeliveryStatus
from dunning_webhook import WebhookChannel, verify_signature

SECRET = "s3cret"
NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


# --- a loopback server that records what it receives ------------------------


@attrs.define
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


class Hook:
    """A running HTTP server; tell it how to answer with ``answer``."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self._answers: list[tuple[int, dict[str, str], bytes]] = []
        self._lock = threading.Lock()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                with hook._lock:
                    hook.requests.append(
                        Received(self.command, self.path, dict(self.headers.items()), body)
                    )
                    status, headers, reply = (
                        hook._answers.pop(0) if hook._answers else (200, {}, b'{"ok":true}')
                    )
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def answer(self, status: int, headers: dict[str, str] | None = None, body: bytes = b"") -> None:
        """Answer the next request with ``status`` (later ones get 200)."""
        with self._lock:
            self._answers.append((status, headers or {}, body))

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    # urllib honours *_proxy variables; loopback must never go through one.
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.setenv(name, "127.0.0.1,localhost")


@pytest.fixture
def hook() -> Iterator[Hook]:
    server = Hook()
    yield server
    server.close()


# --- calling the channel directly -------------------------------------------


def make_action(**changes: object) -> Action:
    action = Action(
        key="7:crm-sync:webhook:2026-03-02",
        case_id=7,
        kind="outreach",
        step="crm-sync",
        planned_for=dt.date(2026, 3, 2),
        not_before=NOW,
        status="sending",
        channel="webhook",
        template="overdue-notice",
        dpd=1,
        id=42,
    )
    return attrs.evolve(action, **changes)


def make_case(**changes: object) -> Case:
    return attrs.evolve(Case(id=7, debtor_id="D-1", currency="EUR", balance=123450), **changes)


def make_ctx(settings: dict | None = None, **changes: object) -> DeliveryContext:
    ctx = DeliveryContext(
        now=NOW,
        key="7:crm-sync:webhook:2026-03-02",
        debtor=Debtor(id="D-1", name="Müller GmbH", kind="company", country="DE", locale="de-DE"),
        contacts=(),
        obligations=(),
        dpd=1,
        settings=settings if settings is not None else {},
        config=None,
        db=None,
        log=structlog.get_logger(),
        template_context={},
        render=lambda *a: "",
    )
    return attrs.evolve(ctx, **changes)


def send(hook: Hook, **settings: object) -> Delivery:
    return WebhookChannel().send(
        make_action(), make_case(), make_ctx({"url": hook.url, "secret": SECRET, **settings})
    )


def test_register_channels_registers_a_channel() -> None:
    registered: list[object] = []
    dunning_webhook.register_channels(registered.append)
    [channel] = registered
    assert isinstance(channel, dunning.Channel)
    assert channel.name == "webhook"
    assert tuple(channel.needs) == ()


def test_entry_point_is_installed() -> None:
    [entry_point] = importlib.metadata.entry_points(group="dunning", name="webhook")
    assert entry_point.load() is dunning_webhook


def test_posts_signed_json(hook: Hook) -> None:
    delivery = send(hook)

    assert delivery.status is DeliveryStatus.SENT
    assert delivery.reference == "7:crm-sync:webhook:2026-03-02"
    assert delivery.data == {"status": 200}

    [request] = hook.requests
    assert request.method == "POST"
    assert request.path == "/hook"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Idempotency-Key"] == "7:crm-sync:webhook:2026-03-02"
    assert request.headers["X-Dunning-Timestamp"] == str(int(NOW.timestamp()))
    assert request.json() == {
        "key": "7:crm-sync:webhook:2026-03-02",
        "action": {
            "id": 42,
            "kind": "outreach",
            "step": "crm-sync",
            "channel": "webhook",
            "template": "overdue-notice",
            "dpd": 1,
            "planned_for": "2026-03-02",
        },
        "case": {
            "id": 7,
            "debtor_id": "D-1",
            "stage": "internal",
            "status": "open",
            "balance": "1234.50",
            "balance_minor": 123450,
            "currency": "EUR",
            "dpd": 1,
        },
        "debtor": {"id": "D-1", "name": "Müller GmbH", "country": "DE", "locale": "de-DE"},
        "sent_at": "2026-03-02T09:00:00+00:00",
    }
    # Serialised once, sorted and compact: the receiver can re-derive it.
    canonical = json.dumps(request.json(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert request.body == canonical.encode("utf-8")


def test_signature_verifies_and_tampering_is_caught(hook: Hook) -> None:
    send(hook)
    [request] = hook.requests
    signature = request.headers["X-Dunning-Signature"]

    assert signature.startswith("sha256=")
    assert verify_signature(SECRET, request.body, signature)
    assert verify_signature(SECRET.encode(), request.body, signature)

    tampered = request.body.replace(b'"1234.50"', b'"1.00"')
    assert tampered != request.body
    assert not verify_signature(SECRET, tampered, signature)
    assert not verify_signature("other secret", request.body, signature)


@pytest.mark.parametrize("header", [None, "", "sha256=", "md5=abc", "sha256=zz", "sha256=é"])
def test_verify_signature_rejects_malformed_headers(header: str | None) -> None:
    assert not verify_signature(SECRET, b"{}", header)


def test_reference_is_the_receivers_request_id(hook: Hook) -> None:
    hook.answer(202, {"X-Request-Id": "crm-981"})
    delivery = send(hook)
    assert delivery.status is DeliveryStatus.SENT
    assert delivery.reference == "crm-981"
    assert delivery.data == {"status": 202}


def test_429_defers_until_retry_after(hook: Hook) -> None:
    hook.answer(429, {"Retry-After": "120"})
    delivery = send(hook)
    assert delivery.status is DeliveryStatus.DEFERRED
    assert delivery.until == NOW + dt.timedelta(seconds=120)
    assert "429" in delivery.error


def test_429_without_retry_after_defers_15_minutes(hook: Hook) -> None:
    hook.answer(429)
    delivery = send(hook)
    assert delivery.status is DeliveryStatus.DEFERRED
    assert delivery.until == NOW + dt.timedelta(minutes=15)


def test_500_fails_so_the_core_retries(hook: Hook) -> None:
    hook.answer(500, body=b"database is down")
    delivery = send(hook)
    assert delivery.status is DeliveryStatus.FAILED
    assert "500" in delivery.error
    assert "database is down" in delivery.error
    assert delivery.data == {"status": 500}


def test_4xx_fails_with_the_start_of_the_body(hook: Hook) -> None:
    hook.answer(422, body=b"x" * 1000)
    delivery = send(hook)
    assert delivery.status is DeliveryStatus.FAILED
    assert delivery.error.startswith("HTTP 422")
    assert "x" * 200 in delivery.error
    assert "x" * 201 not in delivery.error


def test_redirect_is_not_followed(hook: Hook) -> None:
    hook.answer(307, {"Location": "http://127.0.0.1:1/elsewhere"})
    delivery = send(hook)
    assert delivery.status is DeliveryStatus.FAILED
    assert "307" in delivery.error
    assert len(hook.requests) == 1


def test_connection_refused_fails() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = {"url": f"http://user:pw@127.0.0.1:{port}/hook?token=t", "secret": SECRET}
    delivery = WebhookChannel().send(make_action(), make_case(), make_ctx(settings))
    assert delivery.status is DeliveryStatus.FAILED
    assert f"cannot reach http://127.0.0.1:{port}/hook" in delivery.error
    # Credentials in the URL never reach the error (and so the evidence log).
    assert "pw" not in delivery.error and "token" not in delivery.error


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"secret": SECRET}, "channels.webhook: missing 'url'"),
        ({"url": "http://127.0.0.1/"}, "channels.webhook: missing 'secret'"),
        ({"url": "http://127.0.0.1/", "secret": ""}, "'secret' must be a non-empty string"),
        ({"url": "ftp://example.com/", "secret": SECRET}, "'url' must start with http"),
        ({"url": "http://127.0.0.1/", "secret": SECRET, "timeout_seconds": 0}, "'timeout_seconds'"),
        ({"url": "http://127.0.0.1/", "secret": SECRET, "timeout": 5}, "unknown key 'timeout'"),
    ],
)
def test_bad_settings_fail_naming_the_key(settings: dict, message: str) -> None:
    channel = WebhookChannel()
    delivery = channel.send(make_action(), make_case(), make_ctx(settings))
    assert delivery.status is DeliveryStatus.FAILED
    assert message in delivery.error
    with pytest.raises(ValueError, match=message.replace("channels.webhook: ", "")):
        channel.check_settings(settings)


def test_good_settings_pass_the_check(hook: Hook) -> None:
    WebhookChannel().check_settings({"url": hook.url, "secret": SECRET, "timeout_seconds": 2.5})


# --- on the objects a run builds, with the dunning.testing fixtures ----------

POLICY = """\
name = "crm-feed"

[[steps]]
name = "crm-sync"
dpd = 1
channels = ["webhook"]
template = "overdue-notice"
"""


@pytest.fixture
def webhook_runtime(dunning_database, dunning_runtime, hook: Hook, monkeypatch: pytest.MonkeyPatch):
    # The module is handed over here; the installed entry point would register it a second time.
    monkeypatch.setenv("DUNNING_LOAD_PLUGINS", "")
    # dunning_database: each test runs on a SQLite file, then on a PostgreSQL database (skipped without a server).
    return dunning_runtime(plugins=[dunning_webhook], database=dunning_database, enabled=["webhook"], policy=POLICY,
                           channel_settings={"webhook": {"url": hook.url, "secret": SECRET}})


def test_send_on_the_context_a_run_would_build(webhook_runtime, dunning_case, dunning_contexts, hook: Hook) -> None:
    case = dunning_case(webhook_runtime, amount="1234.50", name="Müller GmbH")
    made = dunning_contexts(webhook_runtime, case, channel="webhook", step="crm-sync")

    delivery = WebhookChannel().send(made.action, made.case, made.delivery)

    assert delivery.status is DeliveryStatus.SENT
    [request] = hook.requests
    payload = request.json()
    assert payload["key"] == made.action.key == f"{case.id}:crm-sync:webhook:2026-03-02"
    assert payload["case"]["balance"] == "1234.50" and payload["case"]["dpd"] == 1
    assert payload["debtor"]["name"] == "Müller GmbH"
    assert verify_signature(SECRET, request.body, request.headers["X-Dunning-Signature"])


def test_a_run_day_by_day_posts_once(webhook_runtime, dunning_case, dunning_clock, dunning_run, hook: Hook) -> None:
    dunning_case(webhook_runtime, due_on=dt.date(2026, 3, 1))
    sent = []
    for _ in range(3):  # 2, 3 and 4 March: the step is due on the first of them only
        sent.append(dunning_run(webhook_runtime).sent)
        dunning_clock.advance(days=1)
    assert sent == [1, 0, 0]
    [request] = hook.requests
    assert request.json()["sent_at"] == "2026-03-02T09:00:00+00:00"


# --- end to end through the dunning CLI -------------------------------------

CSV_HEADER = (
    "debtor_id,name,kind,email,mobile,work_phone,home_phone,address,"
    "country,timezone,reference,amount,currency,issued_on,due_on"
)
CSV_ROW = (
    "D-1,Acme Trading Ltd,company,ap@acme.example,,,,1 Harbour Road,"
    "DE,Europe/Berlin,INV-1001,1200.00,EUR,2026-02-01,2026-03-01"
)


@pytest.fixture
def workdir(tmp_path: Path, hook: Hook) -> Path:
    (tmp_path / "dunning.toml").write_text(
        f"""\
policy = "policy.toml"
timezone = "UTC"

[channels]
enabled = ["webhook"]

[channels.webhook]
url = "{hook.url}"
secret = "{SECRET}"
""",
        encoding="utf-8",
    )
    (tmp_path / "policy.toml").write_text(POLICY, encoding="utf-8")
    (tmp_path / "debts.csv").write_text(f"{CSV_HEADER}\n{CSV_ROW}\n", encoding="utf-8")
    return tmp_path


def dunning_cli(workdir: Path, *args: str) -> str:
    """Run ``dunning --config <workdir>/dunning.toml ARGS``; return its stdout."""
    from dunning.cli import cli

    try:
        runner = CliRunner(mix_stderr=False)  # click < 8.2
    except TypeError:
        runner = CliRunner()
    result = runner.invoke(
        cli,
        ["--config", str(workdir / "dunning.toml"), *args],
        env={"DUNNING_LOAD_PLUGINS": "webhook", "DUNNING_CONFIG": None},
        catch_exceptions=False,
    )
    assert result.exit_code == 0, (args, result.output)
    return result.stdout


def test_end_to_end_through_the_cli(workdir: Path, hook: Hook) -> None:
    dunning_cli(workdir, "import", "--create", str(workdir / "debts.csv"))  # a config written by hand: no database yet

    run = ["run", "--now", "2026-03-02T09:00:00+00:00", "--json"]
    summary = json.loads(dunning_cli(workdir, *run))
    assert summary["sent"] == 1
    assert summary["failed"] == 0

    [request] = hook.requests
    assert verify_signature(SECRET, request.body, request.headers["X-Dunning-Signature"])
    payload = request.json()
    assert request.headers["Idempotency-Key"] == payload["key"]
    assert payload["case"]["balance"] == "1200.00"
    assert payload["case"]["currency"] == "EUR"
    assert payload["debtor"]["id"] == "D-1"
    assert payload["action"]["step"] == "crm-sync"
    assert payload["action"]["channel"] == "webhook"
    assert payload["sent_at"] == "2026-03-02T09:00:00+00:00"

    # The same run again sends nothing: the action is already in the outbox.
    summary = json.loads(dunning_cli(workdir, *run))
    assert summary["sent"] == 0
    assert len(hook.requests) == 1

    [event] = json.loads(dunning_cli(workdir, "events", "--kind", "sent", "--json"))
    assert event["kind"] == "sent"
    assert event["channel"] == "webhook"
    assert event["step"] == "crm-sync"


def test_missing_setting_is_reported_at_start_up(workdir: Path, hook: Hook) -> None:
    config = workdir / "dunning.toml"
    config.write_text(config.read_text(encoding="utf-8").replace("url = ", "# url = "), encoding="utf-8")
    from dunning.cli import cli

    result = CliRunner().invoke(
        cli,
        ["--config", str(config), "run", "--now", "2026-03-02T09:00:00+00:00", "--json"],
        env={"DUNNING_LOAD_PLUGINS": "webhook", "DUNNING_CONFIG": None},
    )
    assert result.exit_code != 0
    assert "channels.webhook: missing 'url'" in result.output
    assert hook.requests == []


def test_dunning_plugins_lists_the_webhook(workdir: Path) -> None:
    out = dunning_cli(workdir, "plugins", "--json")
    assert "webhook" in out
    assert "register_channels" in out
