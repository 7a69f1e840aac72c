"""The sms channel against a real HTTP gateway on loopback: request, auth, answers, retries, opt-outs."""

from __future__ import annotations

import base64
import datetime as dt
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import attrs
import pytest

import dunning.plugins.phone as phone_plugin
from dunning import dispatch, hookimpl, operations
from dunning.creditor_reference import printed
from dunning.config import ConfigError
from dunning.models import ActionStatus
from dunning.plugins.phone.sms import SmsChannel, segments, sms_settings
from tests.plugins.test_phone import add_case
from tests import runtime_on_both

# Every runtime this module's tests open: on a SQLite file, then on a PostgreSQL database.
dunning_runtime = runtime_on_both.dunning_runtime

UTC = dt.UTC
LOAN_DUE = dt.date(2026, 2, 26)
DPD1 = dt.datetime(2026, 2, 27, 10, tzinfo=UTC)  # consumer-loans: gentle reminder by sms and phone


@attrs.define
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


class Gateway:
    """An SMS gateway on 127.0.0.1 that de-duplicates by Idempotency-Key, as providers do."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.answers: list[tuple[int, dict[str, str], bytes]] = []
        self.ids: dict[str, str] = {}
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                gateway.requests.append(Received(self.path, dict(self.headers.items()), body))
                if gateway.answers:
                    status, headers, reply = gateway.answers.pop(0)
                else:
                    key = self.headers.get("Idempotency-Key", "")
                    message_id = gateway.ids.setdefault(key, f"msg-{len(gateway.ids) + 1}")
                    status, headers, reply = 201, {"Content-Type": "application/json"}, json.dumps(
                        {"id": message_id, "status": "queued"}).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1/messages"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def answer(self, status: int, body: bytes = b"", **headers: str) -> None:
        self.answers.append((status, {k.replace("_", "-"): v for k, v in headers.items()}, body))

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    g = Gateway()
    yield g
    g.close()


def settings(gateway: Gateway, **extra: Any) -> dict[str, Any]:
    return {"url": gateway.url, "sender_id": "Northwind", "username": "dunning", "password": "s3cret",
            "timeout": 5} | extra


def sms_runtime(dunning_runtime: Any, gateway: Gateway, plugins: Any = (phone_plugin,),
                claim_timeout: dt.timedelta = dt.timedelta(minutes=10), **extra: Any) -> Any:
    return dunning_runtime(plugins=list(plugins), policy="consumer-loans", enabled=["sms"],
                           channel_settings={"sms": settings(gateway, **extra)}, claim_timeout=claim_timeout)


def sms_action(rt: Any, case_id: int) -> Any:
    [action] = [a for a in rt.store.actions(case_id=case_id) if a.channel == "sms"]
    return action


# --- the request ----------------------------------------------------------------------


def test_a_run_posts_the_message_to_the_gateway(dunning_runtime, gateway: Gateway):
    rt = sms_runtime(dunning_runtime, gateway)
    case = add_case(rt, "L1", due_on=LOAN_DUE, name="Lee Chan", phones=[("mobile", "07700 900123")])
    summary = dispatch.run(rt, DPD1)
    assert (summary.sent, summary.failed) == (1, 0)
    [request] = gateway.requests
    key = f"{case.id}:gentle-reminder:sms:2026-02-27"
    assert request.path == "/v1/messages"
    assert request.headers["Idempotency-Key"] == key
    assert request.headers["Content-Type"].startswith("application/json")
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(b"dunning:s3cret").decode()
    body = request.json()
    assert set(body) == {"to", "from", "text", "reference"}
    assert (body["to"], body["from"], body["reference"]) == ("+447700900123", "Northwind", key)
    assert body["text"] == ("Lee Chan, a reminder: EUR 1,200.00 was due on 2026-02-26 and has not reached us. "
                            f"Pay quoting {printed(case.creditor_reference)}; if you have paid, thank you. "
                            "Reply STOP to opt out")
    [sent] = [e for e in rt.store.events(kind="sent") if e.channel == "sms"]
    assert (sent.data["reference"], sent.data["to"], sent.data["segments"]) == ("msg-1", "+447700900123", 1)
    assert sms_action(rt, case.id).reference == "msg-1"


def test_a_bearer_token_from_the_environment(dunning_runtime, gateway: Gateway, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SMS_TOKEN", "tok-123")
    rt = dunning_runtime(plugins=[phone_plugin], policy="consumer-loans", enabled=["sms"],
                         channel_settings={"sms": {"url": gateway.url, "sender_id": "+447700900000",
                                                   "token_env": "SMS_TOKEN"}})
    add_case(rt, "L1", due_on=LOAN_DUE)
    dispatch.run(rt, DPD1)
    assert gateway.requests[0].headers["Authorization"] == "Bearer tok-123"
    assert gateway.requests[0].json()["from"] == "+447700900000"


def test_a_chinese_speaking_debtor_gets_the_chinese_text(dunning_runtime, gateway: Gateway):
    rt = sms_runtime(dunning_runtime, gateway)
    add_case(rt, "Z1", due_on=LOAN_DUE, name="王芳", locale="zh_CN", country="CN", phones=[("mobile", "138 0013 8000")])
    dispatch.run(rt, DPD1)
    body = gateway.requests[0].json()
    assert body["to"] == "+8613800138000"
    assert body["text"].startswith("王芳您好") and "EUR 1,200.00" in body["text"] and "回复STOP退订" in body["text"]
    [sent] = [e for e in rt.store.events(kind="sent") if e.channel == "sms"]
    assert sent.data["segments"] == segments(body["text"]) == 1


def test_a_rerun_sends_nothing_more(dunning_runtime, gateway: Gateway):
    rt = sms_runtime(dunning_runtime, gateway)
    add_case(rt, "L1", due_on=LOAN_DUE)
    dispatch.run(rt, DPD1)
    dispatch.run(rt, DPD1)
    dispatch.run(rt, DPD1 + dt.timedelta(hours=3))
    assert len(gateway.requests) == 1


class Crash(BaseException):
    """The process dying after the gateway took the message, before the outcome was recorded."""


class CrashingSms(SmsChannel):
    crashed = False

    def send(self, action, case, ctx):
        delivery = super().send(action, case, ctx)
        if not self.crashed:
            self.crashed = True
            raise Crash()
        return delivery


class CrashingPlugin:
    plugin_name = "phone"

    @hookimpl
    def register_channels(self, register):
        register(CrashingSms())


def test_a_crash_after_sending_resends_under_the_same_key_and_records_once(dunning_runtime, gateway: Gateway):
    rt = sms_runtime(dunning_runtime, gateway, plugins=[CrashingPlugin()], claim_timeout=dt.timedelta(0))
    case = add_case(rt, "L1", due_on=LOAN_DUE)
    with pytest.raises(Crash):
        dispatch.run(rt, DPD1)
    assert sms_action(rt, case.id).status is ActionStatus.SENDING
    rerun = dispatch.run(rt, DPD1 + dt.timedelta(minutes=5))
    assert rerun.sent == 1
    keys = [r.headers["Idempotency-Key"] for r in gateway.requests]
    assert len(keys) == 2 and len(set(keys)) == 1
    assert {r.json()["reference"] for r in gateway.requests} == set(keys)
    assert len(gateway.ids) == 1  # the gateway delivered one message
    assert [e.data["reference"] for e in rt.store.events(kind="sent") if e.channel == "sms"] == ["msg-1"]


# --- the gateway's answers ------------------------------------------------------------


def test_a_server_error_is_retried_under_the_same_key(dunning_runtime, gateway: Gateway):
    rt = sms_runtime(dunning_runtime, gateway)
    case = add_case(rt, "L1", due_on=LOAN_DUE)
    gateway.answer(503, b'{"error": "maintenance"}')
    first = dispatch.run(rt, DPD1)
    assert first.failed == 1
    [failed] = rt.store.events(kind="delivery_failed")
    assert failed.data["error"].startswith("HTTP 503") and "maintenance" in failed.data["error"]
    assert failed.data["final"] is False and failed.data["status"] == 503
    assert sms_action(rt, case.id).status is ActionStatus.PENDING
    later = dispatch.run(rt, DPD1 + dt.timedelta(hours=1))
    assert later.sent == 1
    assert [r.headers["Idempotency-Key"] for r in gateway.requests] == [sms_action(rt, case.id).key] * 2


def test_too_many_requests_waits_as_long_as_the_gateway_says(dunning_runtime, gateway: Gateway):
    rt = sms_runtime(dunning_runtime, gateway)
    case = add_case(rt, "L1", due_on=LOAN_DUE)
    gateway.answer(429, b"slow down", Retry_After="120")
    summary = dispatch.run(rt, DPD1)
    assert summary.deferred_by_rule == {"channel:sms": 1}
    action = sms_action(rt, case.id)
    assert action.status is ActionStatus.PENDING and action.attempts == 1  # counted towards the deferral limit
    assert action.not_before == DPD1 + dt.timedelta(seconds=120)
    assert dispatch.run(rt, DPD1 + dt.timedelta(seconds=60)).sent == 0
    assert dispatch.run(rt, DPD1 + dt.timedelta(seconds=121)).sent == 1


def test_too_many_requests_without_a_wait_is_a_failure_to_retry(dunning_runtime, gateway: Gateway):
    rt = sms_runtime(dunning_runtime, gateway)
    case = add_case(rt, "L1", due_on=LOAN_DUE)
    gateway.answer(429, b"")
    assert dispatch.run(rt, DPD1).failed == 1
    assert sms_action(rt, case.id).status is ActionStatus.PENDING


def test_a_rejected_message_is_not_retried(dunning_runtime, gateway: Gateway):
    rt = sms_runtime(dunning_runtime, gateway)
    case = add_case(rt, "L1", due_on=LOAN_DUE)
    gateway.answer(422, b'{"error": "number is not a mobile"}')
    assert dispatch.run(rt, DPD1).failed == 1
    action = sms_action(rt, case.id)
    assert action.status is ActionStatus.FAILED
    assert action.last_error == 'HTTP 422 Unprocessable Entity: {"error": "number is not a mobile"}'
    assert dispatch.run(rt, DPD1 + dt.timedelta(hours=5)).sent == 0
    assert len(gateway.requests) == 1


def test_a_redirect_is_not_followed(dunning_runtime, gateway: Gateway):
    rt = sms_runtime(dunning_runtime, gateway)
    case = add_case(rt, "L1", due_on=LOAN_DUE)
    gateway.answer(302, b"", Location="http://127.0.0.1:9/elsewhere")
    assert dispatch.run(rt, DPD1).failed == 1
    assert sms_action(rt, case.id).last_error.startswith("HTTP 302")
    assert len(gateway.requests) == 1


def test_an_unreachable_gateway_is_retried(dunning_runtime, gateway: Gateway):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    rt = sms_runtime(dunning_runtime, gateway, url=f"http://127.0.0.1:{port}/v1/messages?key=secret")
    case = add_case(rt, "L1", due_on=LOAN_DUE)
    assert dispatch.run(rt, DPD1).failed == 1
    action = sms_action(rt, case.id)
    assert action.status is ActionStatus.PENDING
    assert action.last_error.startswith(f"cannot reach http://127.0.0.1:{port}/v1/messages:")
    assert "secret" not in action.last_error


# --- opt-outs and contacts ---------------------------------------------------------------


def test_an_opt_out_of_sms_is_enforced_by_the_core(dunning_runtime, gateway: Gateway):
    rt = sms_runtime(dunning_runtime, gateway)
    add_case(rt, "L1", due_on=LOAN_DUE)
    operations.opt_out(rt, "L1", "sms", now=DPD1 - dt.timedelta(days=1), note="replied STOP")
    summary = dispatch.run(rt, DPD1)
    assert summary.blocked_by_rule == {"opt_out:sms": 1}
    # The one message allowed after an opt-out confirms it, and asks for nothing.
    [confirmation] = [r.json() for r in gateway.requests]
    assert confirmation["reference"].split(":")[1] == "opt-out-confirmation"
    assert "last one" in confirmation["text"] and "STOP" not in confirmation["text"]
    assert dispatch.run(rt, DPD1 + dt.timedelta(days=1)).blocked_by_rule == {"opt_out:sms": 1}
    assert len(gateway.requests) == 1


def test_an_opted_out_number_is_skipped_for_the_next_mobile(dunning_runtime, gateway: Gateway):
    rt = sms_runtime(dunning_runtime, gateway)
    add_case(rt, "L1", due_on=LOAN_DUE, phones=[("mobile", "+44 7700 900123"), ("mobile", "+44 7700 900456")])
    operations.opt_out(rt, "L1", "sms", contact="+44 7700 900123", now=DPD1 - dt.timedelta(days=1))
    dispatch.run(rt, DPD1)
    assert [r.json()["to"] for r in gateway.requests] == ["+447700900456"]


def test_a_promise_reminder_names_the_promise_in_the_debtors_time(dunning_runtime, gateway: Gateway):
    rt = sms_runtime(dunning_runtime, gateway)
    case = add_case(rt, "L1", due_on=LOAN_DUE, name="Lee Chan", timezone="Europe/Berlin")
    now = dt.datetime(2026, 3, 2, 9, tzinfo=UTC)
    operations.promise(rt, case.id, "300", dt.datetime(2026, 3, 3, 14, tzinfo=UTC), now=now)
    dispatch.run(rt, dt.datetime(2026, 3, 3, 13, 5, tzinfo=UTC))
    texts = [r.json()["text"] for r in gateway.requests if "promise-reminder" in r.json()["reference"]]
    assert texts == ["Lee Chan, a reminder of your promise to pay EUR 300.00 by 2026-03-03 15:00. "
                     "Thank you for keeping to it. Reply STOP to opt out"]


# --- settings and segments ---------------------------------------------------------------


@pytest.mark.parametrize("url", ["http://127.0.0.1:8025/v1/messages", "http://localhost/v1", "http://[::1]:80/v1"])
def test_credentials_may_go_over_plain_http_to_a_loopback_gateway_only(url: str):
    assert sms_settings({"url": url, "sender_id": "Northwind", "token": "t"}).url == url


@pytest.mark.parametrize("change, message", [
    ({"uri": "x"}, "unknown key 'uri'"),
    ({"url": None}, "missing 'url'"),
    ({"sender_id": None}, "missing 'sender_id'"),
    ({"url": "ftp://gateway"}, "'url' must start with http:// or https://"),
    ({"sender_id": "NorthwindCredit"}, "'sender_id' may have at most 11 characters"),
    ({"timeout": 0}, "'timeout' must be a positive number"),
    ({"timeout": True}, "'timeout' must be a positive number"),
    ({"username": None}, "missing 'username'"),
    ({"password": None}, "'username' needs exactly one of 'password' or 'password_env'"),
    ({"token": "t"}, "not both"),
    ({"username": None, "password": None, "token": "t", "token_env": "T"}, "one of 'token' or 'token_env'"),
    ({"username": None, "password": None, "token_env": "DUNNING_TEST_UNSET"}, "'DUNNING_TEST_UNSET', which is not set"),
    ({"password": ""}, "'password' must be a non-empty string"),
    ({"url": "https://u:p@sms.example.com/v1/messages", "username": None, "password": None},
     "'url' must not hold credentials"),
    ({"url": "https://key@sms.example.com/v1/messages"}, "'url' must not hold credentials"),
    ({"url": "http://sms.example.com/v1/messages"}, "never sent over plain http://"),
    ({"url": "http://10.0.0.5/v1/messages", "username": None, "password": None, "token": "t"},
     "never sent over plain http://"),
])
def test_bad_sms_settings_name_the_key(change: dict[str, Any], message: str):
    raw = {"url": "https://sms.example.com/v1/messages", "sender_id": "Northwind", "username": "u", "password": "p"}
    raw = {k: v for k, v in (raw | change).items() if v is not None}
    with pytest.raises(ValueError, match=message):
        sms_settings(raw)


def test_bad_settings_stop_a_command_before_anything_is_sent(dunning_config):
    from dunning.runtime import Runtime

    with pytest.raises(ConfigError, match=r"channels.sms: missing 'sender_id'"):
        Runtime(dunning_config(enabled=["sms"], channel_settings={"sms": {"url": "https://sms.example.com"}}),
                extra_plugins=[phone_plugin])


def test_segments_follow_the_two_alphabets():
    assert segments("a" * 160) == 1 and segments("a" * 161) == 2 and segments("a" * 306) == 2
    assert segments("€" * 80) == 1 and segments("€" * 81) == 2  # an escape and the character
    assert segments("还" * 70) == 1 and segments("还" * 71) == 2 and segments("还" * 135) == 3


def test_the_loopback_gateway_takes_each_key_once_and_keeps_an_outbox(dunning_runtime, tmp_path):
    from dunning.demo_services import SmsGateway

    with SmsGateway(outbox=tmp_path / "sms.jsonl") as loopback:
        rt = dunning_runtime(plugins=[phone_plugin], policy="consumer-loans", enabled=["sms"],
                             channel_settings={"sms": {"url": loopback.url, "sender_id": "Northwind"}})
        add_case(rt, "L1", due_on=LOAN_DUE, name="Lee Chan", phones=[("mobile", "07700 900123")])
        assert dispatch.run(rt, DPD1).sent == 1
        assert dispatch.run(rt, DPD1).sent == 0
    lines = [json.loads(line) for line in (tmp_path / "sms.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(m["id"], m["to"]) for m in lines] == [("sms-1", "+447700900123")]
    assert "Lee Chan" in lines[0]["text"]
