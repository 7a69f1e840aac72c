"""The email channel through real runs, against a real SMTP server on loopback.

Each test starts ``LoopbackSMTP`` (aiosmtpd on 127.0.0.1, a free port),
runs ``dunning run`` (the CLI, or ``dispatch.run`` on a runtime) with the
plugin enabled, and reads back what the server received.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import smtplib
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import dunning.plugins.email as email_plugin
from dunning import dispatch, operations
from dunning.models import ActionStatus
from dunning.plugins.email.loopback import LoopbackSMTP
from tests.conftest import ChannelsPlugin, at, row, write_csv
from tests import runtime_on_both

# Every runtime this module's tests open: on a SQLite file, then on a PostgreSQL database.
dunning_runtime = runtime_on_both.dunning_runtime

UTC = dt.UTC
DUE = dt.date(2026, 3, 1)
DAY1 = dt.datetime(2026, 3, 2, 9, tzinfo=UTC)  # trade-receivables, 1 day past due: overdue-notice by email
SENDER = "Acme Credit Control <credit@acme.example>"


@pytest.fixture(params=[False, True], ids=["one-by-one", "pipelining"])
def smtp(request) -> Iterator[LoopbackSMTP]:
    """The loopback server, once without and once with PIPELINING offered (the channel uses it when offered)."""
    with LoopbackSMTP(pipelining=request.param) as server:
        yield server


def settings_for(server: LoopbackSMTP, **extra: Any) -> dict[str, Any]:
    return {"host": server.host, "port": server.port, "security": "none", "sender": SENDER,
            "reply_to": "collections@acme.example", "bcc": "ledger@acme.example", "timeout_seconds": 5} | extra


@pytest.fixture
def email_runtime(dunning_runtime, smtp):
    """``email_runtime(**settings)``: a runtime with the email channel pointed at the loopback server."""

    def make(policy: str = "trade-receivables", plugins: tuple[object, ...] = (), enabled: tuple[str, ...] = (),
             templates_folder: Path | None = None, **settings: Any):
        return dunning_runtime(plugins=[email_plugin, *plugins], enabled=["email", *enabled], policy=policy,
                               templates=templates_folder, channel_settings={"email": settings_for(smtp, **settings)})

    return make


def parts(mail) -> tuple[str, str]:
    """The text and HTML parts as a mail program shows them (line ends as Python writes them)."""
    return tuple(mail.get_body((kind,)).get_content().replace("\r\n", "\n") for kind in ("plain", "html"))


def _action(rt, case_id: int):
    [action] = [a for a in rt.store.actions(case_id=case_id) if a.channel == "email"]
    return action


# --- the whole path, from the command line ---------------------------------------------------


def test_dunning_run_sends_the_overdue_notice_and_a_rerun_sends_nothing(project, smtp, monkeypatch):
    monkeypatch.setenv("DUNNING_LOAD_PLUGINS", "email")
    project.write_config(enabled=["email"], extra=f"""
[channels.email]
host = "{smtp.host}"
port = {smtp.port}
security = "none"
sender = "{SENDER}"
reply_to = "collections@acme.example"
bcc = "ledger@acme.example"
pay_link = "https://pay.example.com/{{case_id}}?ref={{key}}"
signature = "Jo Bloggs\\nCredit Control, Acme Supplies Ltd"
""")
    rows = [row("C001", "INV-1001", "1200.00", email="ap@trading.example"),
            row("C001", "INV-1002", "345.50", email="ap@trading.example")]
    project("import", str(write_csv(project.folder / "in.csv", rows)), now="2026-02-20T08:00:00Z")

    first = json.loads(project("run", "--json", now=at(dt.date(2026, 3, 2))).stdout)
    assert first["sent"] == 1

    [message] = smtp.messages
    assert message.mail_from == "credit@acme.example"
    assert message.rcpt_tos == ("ap@trading.example", "ledger@acme.example")  # the Bcc is in the envelope only
    mail = message.parsed()
    assert mail["From"] == SENDER
    assert mail["To"] == "Customer C001 <ap@trading.example>"
    assert mail["Reply-To"] == "collections@acme.example"
    assert mail["Bcc"] is None
    assert mail["Subject"] == "Payment overdue: EUR 1,545.50 (1 day past due)"
    assert mail["X-Dunning-Key"] == "1:overdue-notice:email:2026-03-02"
    assert mail["List-Unsubscribe"] == "<mailto:collections@acme.example?subject=unsubscribe>"
    assert mail.get_content_type() == "multipart/alternative"
    text, html = parts(mail)
    for part in (text, html):
        assert "INV-1001" in part and "INV-1002" in part
        assert "EUR 1,200.00" in part and "EUR 345.50" in part and "EUR 1,545.50" in part
        assert "https://pay.example.com/1?ref=1%3Aoverdue-notice%3Aemail%3A2026-03-02" in part
        assert "Credit Control, Acme Supplies Ltd" in part
        assert "collections@acme.example" in part and "unsubscribe" in part  # the opt-out line
    assert text.startswith("Dear Customer C001,\n")

    [sent] = json.loads(project("events", "--kind", "sent", "--json").stdout)
    assert sent["channel"] == "email"
    assert sent["data"]["message_id"] == sent["data"]["reference"] == mail["Message-ID"]
    assert sent["data"]["key"] == mail["X-Dunning-Key"]
    assert sent["data"]["to"] == "ap@trading.example"
    assert sent["data"]["bcc"] == ["ledger@acme.example"]
    assert sent["data"]["smtp_reply"].startswith("250 ")

    again = json.loads(project("run", "--json", now=at(dt.date(2026, 3, 2), 15)).stdout)
    assert (again["planned"], again["sent"]) == (0, 0)
    assert len(smtp.messages) == 1


def test_unknown_setting_stops_the_run_naming_the_key(project, smtp, monkeypatch):
    monkeypatch.setenv("DUNNING_LOAD_PLUGINS", "email")
    project.write_config(enabled=["email"], extra=f"""
[channels.email]
host = "{smtp.host}"
sender = "{SENDER}"
tls = true
""")
    project("import", str(write_csv(project.folder / "in.csv", [row()])), expect=1)
    result = project("run", now=at(dt.date(2026, 3, 2)), expect=1)
    assert "channels.email: unknown key 'tls'" in result.output
    assert smtp.messages == [] and smtp.connections == 0


# --- language, promise, one connection ---------------------------------------------------------


def test_a_zh_cn_debtor_gets_the_chinese_email(email_runtime, case_factory, smtp):
    rt = email_runtime(pay_link="https://pay.example.com/{case_id}")
    case_factory(rt, amount="12345.60", currency="CNY", locale="zh_CN", name="上海星辰贸易有限公司",
                 email="cw@xingchen.example", reference="FP-2026-0301")
    assert dispatch.run(rt, DAY1).sent == 1
    mail = smtp.messages[0].parsed()
    assert mail["Subject"] == "逾期付款通知：人民币 12,345.60 元（已逾期 1 天）"
    assert mail["To"].addresses[0].display_name == "上海星辰贸易有限公司"
    text, html = parts(mail)
    assert text.startswith("上海星辰贸易有限公司：\n\n您好！")
    for part in (text, html):
        assert "FP-2026-0301" in part and "2026年3月1日" in part and "人民币 12,345.60 元" in part
        assert "在线付款" in part and "https://pay.example.com/1" in part
        assert "退订" in part or "不希望再通过电子邮件" in part
    assert 'lang="zh-CN"' in html


def test_a_pending_promise_is_stated_in_a_required_email(email_runtime, case_factory, smtp):
    policy = """
name = "promise-aware"
[[steps]]
name = "statement"
dpd = 3
channels = ["email"]
template = "firm-reminder"
required = true
"""
    rt = email_runtime(policy=policy)
    case = case_factory(rt, timezone="Europe/London")
    operations.promise(rt, case.id, "500.00", dt.datetime(2026, 3, 5, 16, tzinfo=UTC),
                       now=dt.datetime(2026, 3, 4, 8, tzinfo=UTC))
    assert dispatch.run(rt, dt.datetime(2026, 3, 4, 9, tzinfo=UTC)).sent == 1
    text, _ = parts(smtp.messages[0].parsed())
    assert "You told us you would pay EUR 500.00 by 5 March 2026, 16:00." in text
    assert "3 days in arrears" in text


def test_one_connection_serves_the_whole_run_and_is_closed_at_its_end(email_runtime, case_factory, smtp):
    rt = email_runtime()
    for i in range(3):
        case_factory(rt, email=f"ap{i}@trading.example")
    assert dispatch.run(rt, DAY1).sent == 3
    assert [m.connection for m in smtp.messages] == [1, 1, 1]
    assert smtp.connections == 1
    assert smtp.handler.quits == 1  # finish_run said QUIT


# --- what the server answers --------------------------------------------------------------------


@pytest.mark.parametrize("stage", ["RCPT", "DATA"])
def test_a_4xx_reply_defers_the_email_and_it_goes_out_later(email_runtime, case_factory, smtp, stage):
    rt = email_runtime(defer_minutes=15)
    case = case_factory(rt, email="busy@trading.example")
    replies = smtp.handler.rcpt_replies if stage == "RCPT" else smtp.handler.data_replies
    replies["busy@trading.example"] = "451 4.3.0 try later"

    summary = dispatch.run(rt, DAY1)
    assert (summary.sent, summary.deferred, summary.failed) == (0, 1, 0)
    assert summary.deferred_by_rule == {"channel:email": 1}
    action = _action(rt, case.id)
    assert action.status is ActionStatus.PENDING and action.attempts == 1  # counted towards the deferral limit
    assert action.not_before == DAY1 + dt.timedelta(minutes=15)
    [deferred] = rt.store.events(kind="deferred")
    assert deferred.data["rule"] == "channel:email"
    assert deferred.data["reason"] == f"451 4.3.0 try later (SMTP {stage})"
    assert smtp.messages == []

    assert dispatch.run(rt, DAY1 + dt.timedelta(minutes=5)).sent == 0  # not yet
    del replies["busy@trading.example"]
    assert dispatch.run(rt, DAY1 + dt.timedelta(minutes=16)).sent == 1
    assert _action(rt, case.id).status is ActionStatus.SENT
    assert smtp.messages[0].rcpt_tos[0] == "busy@trading.example"


def test_a_5xx_recipient_refusal_fails_for_good_and_the_run_goes_on(email_runtime, case_factory, smtp):
    rt = email_runtime()
    gone = case_factory(rt, email="gone@trading.example")
    fine = case_factory(rt, email="ap@trading.example")
    smtp.handler.rcpt_replies["gone@trading.example"] = "550 5.1.1 no such user"

    summary = dispatch.run(rt, DAY1)
    assert (summary.sent, summary.failed) == (1, 1)
    action = _action(rt, gone.id)
    assert action.status is ActionStatus.FAILED and action.attempts == 1  # not retried
    [failed] = rt.store.events(kind="delivery_failed")
    assert failed.data["error"] == "550 5.1.1 no such user (SMTP RCPT)"
    assert failed.data["final"] is True and failed.data["smtp_code"] == 550
    assert failed.data["to"] == "gone@trading.example"
    # The other debtor's email went out on the same connection after the refusal.
    assert [m.rcpt_tos[0] for m in smtp.messages] == ["ap@trading.example"]
    assert _action(rt, fine.id).status is ActionStatus.SENT and smtp.connections == 1


def test_a_refused_debtor_with_an_accepted_copy_sends_nothing_to_the_copy(email_runtime, case_factory, smtp):
    # Pipelined, the copy's RCPT is accepted before the channel reads the debtor's refusal;
    # the envelope must be reset, not the message delivered to the copy alone.
    rt = email_runtime()
    case_factory(rt, email="gone@trading.example")
    case_factory(rt, email="ap@trading.example")
    smtp.handler.rcpt_replies["gone@trading.example"] = "550 5.1.1 no such user"
    summary = dispatch.run(rt, DAY1)
    assert (summary.sent, summary.failed) == (1, 1)
    assert [m.rcpt_tos for m in smtp.messages] == [("ap@trading.example", "ledger@acme.example")]


def test_pipelining_sends_the_envelope_in_one_write(email_runtime, case_factory, smtp, monkeypatch):
    writes: list[str] = []
    real_send = smtplib.SMTP.send

    def recording_send(conn, s):  # the real send, watched
        writes.append(s if isinstance(s, str) else s[:40].decode("ascii", "replace"))
        return real_send(conn, s)

    monkeypatch.setattr(smtplib.SMTP, "send", recording_send)
    rt = email_runtime()
    case_factory(rt)
    assert dispatch.run(rt, DAY1).sent == 1
    batches = [w for w in writes if w.upper().startswith("MAIL FROM")]
    if smtp.handler.pipelining:
        assert batches == ["MAIL FROM:<credit@acme.example>\r\nRCPT TO:<ap@acme.example>\r\n"
                           "RCPT TO:<ledger@acme.example>\r\n"]
    else:  # smtplib's own commands, one per write
        assert [b.upper() for b in batches] == ["MAIL FROM:<CREDIT@ACME.EXAMPLE>\r\n"]


def test_a_template_error_fails_that_email_and_the_connection_serves_the_next(email_runtime, case_factory, smtp,
                                                                            tmp_path):
    policy = """
name = "two-templates"
[[steps]]
name = "broken"
dpd = 1
channels = ["email"]
template = "broken-notice"
[[steps]]
name = "fine"
dpd = 1
channels = ["email"]
template = "overdue-notice"
"""
    folder = tmp_path / "own" / "email"
    folder.mkdir(parents=True)
    (folder / "broken-notice.subject.txt").write_text("About {{ no_such_variable }}\n")
    rt = email_runtime(policy=policy, templates_folder=tmp_path / "own")
    case = case_factory(rt)
    summary = dispatch.run(rt, DAY1)
    assert (summary.sent, summary.failed) == (1, 1)
    [failed] = rt.store.events(kind="delivery_failed")
    assert failed.step == "broken" and "no_such_variable" in failed.data["error"]
    [message] = smtp.messages
    assert message.parsed()["X-Dunning-Key"] == f"{case.id}:fine:email:2026-03-02"
    assert failed.seq < rt.store.events(kind="sent")[0].seq  # the broken one came first
    # The envelope opened before rendering was reset, and the same connection carried the next email.
    assert message.connection == 1 and smtp.connections == 1


def test_a_stored_address_cannot_add_smtp_commands(email_runtime, case_factory, smtp):
    rt = email_runtime()
    case = case_factory(rt, email="ap@trading.example>\r\nRCPT TO:<thief@evil.example")
    assert dispatch.run(rt, DAY1).failed == 1
    assert _action(rt, case.id).status is ActionStatus.FAILED
    assert smtp.messages == [] and smtp.connections == 0


def test_a_refused_bcc_copy_does_not_stop_the_email(email_runtime, case_factory, smtp):
    rt = email_runtime()
    case_factory(rt)
    smtp.handler.rcpt_replies["ledger@acme.example"] = "550 5.1.1 mailbox unknown"
    assert dispatch.run(rt, DAY1).sent == 1
    assert smtp.messages[0].rcpt_tos == ("ap@acme.example",)
    [sent] = rt.store.events(kind="sent")
    assert sent.data["bcc_refused"] == ["ledger@acme.example: 550 5.1.1 mailbox unknown"]


def test_a_dropped_connection_is_reopened_once_and_the_email_sent_again(email_runtime, case_factory, smtp):
    rt = email_runtime()
    smtp.handler.drop_after = 1  # the server hangs up after each message
    cases = [case_factory(rt, email=f"ap{i}@trading.example") for i in range(2)]
    summary = dispatch.run(rt, DAY1)
    assert (summary.sent, summary.failed) == (2, 0)
    assert [m.rcpt_tos[0] for m in smtp.messages] == ["ap0@trading.example", "ap1@trading.example"]
    assert [m.connection for m in smtp.messages] == [1, 2]
    assert smtp.connections == 2
    sent = {e.case_id: e.data for e in rt.store.events(kind="sent")}
    assert "reconnected" not in sent[cases[0].id] and sent[cases[1].id]["reconnected"] is True


def test_an_unreachable_server_fails_each_email_after_one_try_per_run(email_runtime, case_factory, smtp):
    rt = email_runtime()
    port = smtp.port
    smtp.stop()  # nothing listens on the port any more
    for i in range(2):
        case_factory(rt, email=f"ap{i}@trading.example")
    summary = dispatch.run(rt, DAY1)
    assert (summary.sent, summary.failed) == (0, 2)
    errors = [e.data["error"] for e in rt.store.events(kind="delivery_failed")]
    assert all(err.startswith(f"cannot reach 127.0.0.1:{port} (connect): ConnectionRefusedError") for err in errors)
    assert all(e.data["final"] is False for e in rt.store.events(kind="delivery_failed"))


# --- what the core decides before the channel is asked --------------------------------------------


def test_a_debtor_who_opted_out_of_email_gets_the_confirmation_and_nothing_more(email_runtime, case_factory, smtp):
    rt = email_runtime()
    case = case_factory(rt)
    operations.opt_out(rt, case.debtor_id, "email", now=DAY1 - dt.timedelta(days=1), note="asked by phone")
    summary = dispatch.run(rt, DAY1)
    assert summary.blocked_by_rule == {"opt_out:email": 1}
    assert {a.step: a.status for a in rt.store.actions(case_id=case.id) if a.channel == "email"} == {
        "opt-out-confirmation": ActionStatus.SENT, "overdue-notice": ActionStatus.BLOCKED}
    [message] = smtp.messages  # the one email the opt-out allows: its confirmation
    mail = message.parsed()
    assert mail["Subject"] == "We have stopped sending you emails about your account"
    text, html = parts(mail)
    assert "we will no longer write to you by email" in text and "EUR" not in text
    assert "we will no longer write to you by email" in html
    assert dispatch.run(rt, DAY1 + dt.timedelta(days=2)).sent == 0
    assert len(smtp.messages) == 1


def test_a_promise_reminder_goes_out_an_hour_before_the_promise(email_runtime, case_factory, smtp):
    rt = email_runtime()
    case = case_factory(rt, timezone="Europe/London")
    operations.promise(rt, case.id, "500.00", dt.datetime(2026, 3, 3, 16, tzinfo=UTC), now=DAY1)
    assert dispatch.run(rt, dt.datetime(2026, 3, 3, 14, 30, tzinfo=UTC)).sent == 0
    assert dispatch.run(rt, dt.datetime(2026, 3, 3, 15, 0, tzinfo=UTC)).sent == 1
    mail = smtp.messages[0].parsed()
    assert mail["Subject"] == "Reminder: your payment of EUR 500.00 is due 3 March 2026, 16:00"
    text, _html = parts(mail)
    assert "Thank you for agreeing to pay EUR 500.00 by 3 March 2026, 16:00." in text
    assert "You told us you would pay" not in text  # said once, not twice
    assert "EUR 1,200.00" in text and "INV-" in text


def test_without_an_email_address_the_step_falls_back_to_a_letter(email_runtime, case_factory, smtp):
    policy = """
name = "email-or-letter"
[[steps]]
name = "overdue-notice"
dpd = 1
channels = ["email"]
fallback = "letter"
template = "overdue-notice"
"""
    letters = ChannelsPlugin("letter")
    rt = email_runtime(policy=policy, plugins=(letters,), enabled=("letter",))
    with_email = case_factory(rt, email="ap@trading.example")
    without = case_factory(rt, email=None)
    summary = dispatch.run(rt, DAY1)
    assert summary.sent == 2
    assert [m.rcpt_tos[0] for m in smtp.messages] == ["ap@trading.example"]
    assert letters.channels["letter"].sent == [
        (f"{without.id}:overdue-notice:letter:2026-03-02", without.id, "overdue-notice")]
    skipped = rt.store.events(kind="skipped")
    assert [(e.case_id, e.data["reason"], e.data["fallback"]) for e in skipped] == [
        (without.id, "no_contact", "letter")
    ]
    assert _action(rt, with_email.id).status is ActionStatus.SENT


# --- TLS and login -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made with the openssl command for this test run."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


def _server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*map(str, certificate))
    return context


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_tls_with_login_from_an_environment_variable(dunning_runtime, case_factory, certificate, monkeypatch, security):
    context = _server_context(certificate)
    tls = {"starttls": context} if security == "starttls" else {"implicit_tls": context}
    monkeypatch.setenv("DUNNING_TEST_SMTP_PASSWORD", "s3cret")
    with LoopbackSMTP(login=("dunning", "s3cret"), **tls) as server:
        settings = settings_for(
            server,
            security=security,
            username="dunning",
            password_env="DUNNING_TEST_SMTP_PASSWORD",
            ca_file=str(certificate[0]),
        )
        rt = dunning_runtime(plugins=[email_plugin], enabled=["email"], channel_settings={"email": settings})
        case_factory(rt)
        assert dispatch.run(rt, DAY1).sent == 1
        [message] = server.messages
        assert message.tls and message.login == "dunning"


def test_a_certificate_the_client_does_not_trust_fails_the_email(dunning_runtime, case_factory, certificate):
    with LoopbackSMTP(starttls=_server_context(certificate)) as server:
        rt = dunning_runtime(plugins=[email_plugin], enabled=["email"],
                             channel_settings={"email": settings_for(server, security="starttls")})
        case_factory(rt)
        assert dispatch.run(rt, DAY1).failed == 1
        [failed] = rt.store.events(kind="delivery_failed")
        assert "TLS with 127.0.0.1" in failed.data["error"] and "CERTIFICATE_VERIFY_FAILED" in failed.data["error"]
        assert server.messages == []


def test_a_wrong_password_fails_with_the_servers_words(dunning_runtime, case_factory, certificate):
    with LoopbackSMTP(starttls=_server_context(certificate), login=("dunning", "s3cret")) as server:
        settings = settings_for(server, security="starttls", username="dunning", password="wrong",
                                ca_file=str(certificate[0]))
        rt = dunning_runtime(plugins=[email_plugin], enabled=["email"], channel_settings={"email": settings})
        case_factory(rt)
        assert dispatch.run(rt, DAY1).failed == 1
        [failed] = rt.store.events(kind="delivery_failed")
        assert failed.data["error"].startswith("login as 'dunning' refused: 535")
        assert failed.data["final"] is False and "wrong" not in json.dumps(failed.data)
