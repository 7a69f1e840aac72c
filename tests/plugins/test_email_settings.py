"""The email channel's pure parts: settings, SMTP reply classes, message building, wording."""

from __future__ import annotations

import datetime as dt
import email
import email.policy

import pytest
from hypothesis import given, settings, strategies as st

from dunning.plugins.email import wording
from dunning.plugins.email.channel import EmailChannel
from dunning.plugins.email.content import opt_out_facts, pay_link
from dunning.plugins.email.message import compose, message_id_for, one_line
from dunning.plugins.email.settings import parse_settings
from dunning.plugins.email.smtp_session import Reply
from dunning.models import Case

BASE = {"host": "smtp.example.com", "sender": "Acme Credit Control <credit@acme.example>"}


def test_minimal_settings_take_the_defaults():
    s = parse_settings(BASE)
    assert (s.host, s.port, s.security, s.timeout_seconds, s.defer_minutes, s.html) == (
        "smtp.example.com", 587, "starttls", 30.0, 10, True)
    assert (s.sender_name, s.sender_address, s.sender) == (
        "Acme Credit Control", "credit@acme.example", "Acme Credit Control <credit@acme.example>")
    assert s.unsubscribe == "mailto:credit@acme.example?subject=unsubscribe"
    assert parse_settings(BASE | {"security": "tls"}).port == 465
    assert parse_settings(BASE | {"security": "none"}).port == 25


def test_full_settings():
    s = parse_settings(BASE | {
        "port": 2525, "security": "tls", "username": "robot", "password_env": "SMTP_PASSWORD",
        "reply_to": "Collections <collections@acme.example>", "bcc": ["ledger@acme.example", "audit@acme.example"],
        "timeout_seconds": 12.5, "pay_link": "https://pay.example.com/{case_id}?ref={key}", "signature": "Jo\nAcme",
        "ca_file": "/etc/ssl/our-ca.pem", "helo_name": "dunning.acme.example", "defer_minutes": 30, "html": False,
    })
    assert s.reply_to == "collections@acme.example"
    assert s.bcc == ("ledger@acme.example", "audit@acme.example")
    assert s.unsubscribe == "mailto:collections@acme.example?subject=unsubscribe"  # reply_to wins
    assert (s.port, s.timeout_seconds, s.defer_minutes, s.html, s.signature) == (2525, 12.5, 30, False, "Jo\nAcme")


def test_the_password_never_shows_in_repr():
    assert "hunter2" not in repr(parse_settings(BASE | {"username": "u", "password": "hunter2"}))


@pytest.mark.parametrize("extra, message", [
    ({"hots": "x"}, "unknown key 'hots'"),
    ({"host": ""}, "'host' must be a non-empty string"),
    ({"host": "smtp example"}, "'host' must be a host name"),
    ({"security": "ssl"}, "'security' must be one of starttls, tls, none"),
    ({"port": 0}, "'port' must be a whole number"),
    ({"port": "25"}, "'port' must be a whole number"),
    ({"port": True}, "'port' must be a whole number"),
    ({"sender": "not an address"}, "'sender' must be an email address"),
    ({"reply_to": "a@b"}, "'reply_to' must be an email address"),
    ({"bcc": ["ok@acme.example", "nope"]}, "'bcc[1]' must be an email address"),
    ({"bcc": []}, "'bcc' must be an address or a list"),
    ({"password": "x"}, "'password' and 'password_env' need 'username'"),
    ({"username": "u"}, "'username' needs 'password' or 'password_env'"),
    ({"username": "u", "password": "x", "password_env": "X"}, "not both"),
    ({"username": "u", "password_env": "SMTP-PASS"}, "'password_env' must be the name of an environment variable"),
    ({"username": "u", "password": "x", "security": "none"}, "a password is never sent unencrypted"),
    ({"timeout_seconds": 0}, "'timeout_seconds' must be"),
    ({"timeout_seconds": "30"}, "'timeout_seconds' must be"),
    ({"defer_minutes": 0}, "'defer_minutes' must be"),
    ({"html": "yes"}, "'html' must be true or false"),
    ({"pay_link": "https://pay.example.com/{invoice}"}, "'pay_link' refers to {invoice}"),
    ({"pay_link": "https://pay.example.com/{case_id"}, "'pay_link' is not a valid format string"),
    ({"pay_link": "pay.example.com/{case_id}"}, "'pay_link' must start with https://"),
    ({"unsubscribe": "ftp://x.example"}, "'unsubscribe' must be a mailto: or an https:// URL"),
    ({"unsubscribe": "mailto:nobody"}, "'unsubscribe' is a mailto: without a valid address"),
    ({"ca_file": "/x.pem", "security": "none"}, "'ca_file' is used only with"),
    ({"signature": "  "}, "'signature' must be non-empty text"),
    ({"subject": "x"}, "unknown key 'subject'"),
])
def test_bad_settings_name_the_key(extra, message):
    with pytest.raises(ValueError) as caught:
        EmailChannel().check_settings(BASE | extra)
    assert message in str(caught.value)


def test_missing_required_keys_are_named():
    with pytest.raises(ValueError, match="missing 'host'"):
        parse_settings({"sender": "a@acme.example"})
    with pytest.raises(ValueError, match="missing 'sender'"):
        parse_settings({"host": "smtp.example.com"})


def test_password_env_is_read_when_sending_and_names_the_variable(monkeypatch):
    s = parse_settings(BASE | {"username": "robot", "password_env": "DUNNING_TEST_SMTP_PASSWORD"})
    monkeypatch.delenv("DUNNING_TEST_SMTP_PASSWORD", raising=False)
    with pytest.raises(ValueError, match="DUNNING_TEST_SMTP_PASSWORD"):
        s.login_password()
    monkeypatch.setenv("DUNNING_TEST_SMTP_PASSWORD", "from-env")
    assert s.login_password() == "from-env"


@pytest.mark.parametrize("stage, code, text, outcome, permanent", [
    ("DATA", 250, "2.0.0 queued", "sent", False),
    ("RCPT", 451, "4.3.0 try later", "deferred", False),
    ("DATA", 421, "4.7.0 closing", "deferred", False),
    ("RCPT", 550, "5.1.1 no such user", "failed", True),
    ("RCPT", 552, "5.2.2 mailbox full", "failed", True),
    ("DATA", 554, "5.7.1 rejected as spam", "failed", False),
    ("MAIL", 553, "5.1.8 bad sender domain", "failed", True),
])
def test_replies_are_classified_by_code_and_stage(stage, code, text, outcome, permanent):
    reply = Reply.from_code(stage, code, text.encode())
    assert (reply.outcome, reply.permanent, reply.text) == (outcome, permanent, f"{code} {text}")


NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def _compose(**over):
    args = dict(sender_name="Acme Credit Control", sender_address="credit@acme.example", reply_to=None,
                to_name="Acme Trading Ltd", to_address="ap@trading.example", subject="Overdue: EUR 1,200.00",
                text="Hello\n", html="<p>Hello</p>", key="7:overdue-notice:email:2026-03-02",
                unsubscribe="mailto:credit@acme.example?subject=unsubscribe", now=NOW)
    return compose(**(args | over))


def test_message_id_comes_from_the_key_so_a_resend_is_recognisable():
    first, again = _compose(), _compose()
    assert first.message_id == again.message_id == message_id_for("7:overdue-notice:email:2026-03-02", "acme.example")
    assert first.message_id != _compose(key="7:overdue-notice:email:2026-03-04").message_id
    headers = [email.message_from_bytes(c.data, policy=email.policy.default) for c in (first, again)]
    assert [h["Message-ID"] for h in headers] == [first.message_id] * 2
    assert [h["X-Dunning-Key"] for h in headers] == ["7:overdue-notice:email:2026-03-02"] * 2


def test_a_template_cannot_inject_headers_through_the_subject():
    composed = _compose(subject="Overdue\r\nBcc: everyone@example.com\n")
    parsed = email.message_from_bytes(composed.data, policy=email.policy.default)
    assert parsed["Subject"] == "Overdue Bcc: everyone@example.com"
    assert parsed["Bcc"] is None


def test_chinese_names_and_subject_are_encoded_and_read_back():
    composed = _compose(to_name="上海星辰贸易有限公司", subject="逾期付款通知：人民币 1,200.00 元")
    assert composed.data.isascii() and not composed.smtputf8
    parsed = email.message_from_bytes(composed.data, policy=email.policy.default)
    assert parsed["Subject"] == "逾期付款通知：人民币 1,200.00 元"
    assert parsed["To"].addresses[0].display_name == "上海星辰贸易有限公司"


def _as_written(text: str) -> str:
    """What a part holds once sent: line ends as \\n, and a final line end."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text if text.endswith("\n") else text + "\n"


def _content(parsed, kind: str) -> str:
    return parsed.get_body((kind,)).get_content().replace("\r\n", "\n")


@pytest.mark.parametrize("body", [
    "a line of exactly seventy-six characters, which quoted-printable must wrap...\n",
    "x" * 2000 + "\n",  # longer than SMTP's 998-character line limit
    "=3D is not an escape here; = neither\n",
    "trailing spaces   \ntrailing tab\t\n",
    ".\n..\n.starts with a dot\n",  # SMTP's dot-stuffing is smtplib's business, not the body's
    "From the start of a line\n",
    "--=_dunning_0123456789abcdef01234567\nnot a boundary\n",
    "Windows\r\nline ends\rold Mac\n",
    "no final line end",
    "",
    "中文，带全角标点：人民币 1,200.00 元\n",
    "emoji 💶 and accents: café, Größe, naïve\n",
])
def test_bodies_come_back_exactly_as_written(body):
    parsed = email.message_from_bytes(_compose(text=body, html=f"<p>{body}</p>").data, policy=email.policy.default)
    assert _content(parsed, "plain") == _as_written(body)
    assert _content(parsed, "html") == _as_written(f"<p>{body}</p>")
    assert all(len(line) <= 998 for line in _compose(text=body).data.split(b"\r\n"))


@settings(max_examples=60, deadline=None)
@given(text=st.text(max_size=400), subject=st.text(max_size=150),
       name=st.text(st.characters(categories=("L", "N", "Zs")), max_size=40))
def test_any_text_survives_the_trip(text, subject, name):
    composed = _compose(text=text, html=text, subject=subject, to_name=name)
    assert composed.data.isascii()
    parsed = email.message_from_bytes(composed.data, policy=email.policy.default)
    assert parsed["Subject"] == one_line(subject)
    assert parsed["To"].addresses[0].display_name == one_line(name)
    assert parsed["To"].addresses[0].addr_spec == "ap@trading.example"
    assert _content(parsed, "plain") == _as_written(text) == _content(parsed, "html")


def test_a_part_holding_the_boundary_gets_another_one():
    import hashlib

    seed = hashlib.sha256(f"7:overdue-notice:email:2026-03-02|{NOW.isoformat()}".encode()).hexdigest()
    first_choice = "=_dunning_" + seed[:24]
    text = f"--{first_choice}\nstill the text\n"
    composed = _compose(text=text)
    assert first_choice.encode() not in composed.data.split(b"\r\n\r\n", 1)[0]  # not the headers' boundary
    parsed = email.message_from_bytes(composed.data, policy=email.policy.default)
    assert _content(parsed, "plain") == text and _content(parsed, "html") == "<p>Hello</p>\n"


def test_the_same_action_gives_the_same_bytes():
    assert _compose().data == _compose().data  # so its SHA-256 in the evidence identifies the message


def test_text_only_when_html_is_off():
    parsed = email.message_from_bytes(_compose(html=None).data, policy=email.policy.default)
    assert parsed.get_content_type() == "text/plain"


def test_amounts_and_dates_for_the_reader():
    assert wording.amount(123450, "EUR", None) == "EUR 1,234.50"
    assert wording.amount(123450, "EUR", "en_GB") == "EUR 1,234.50"
    assert wording.amount(123450, "CNY", "zh_CN") == "人民币 1,234.50 元"
    assert wording.amount(123450, "USD", "zh_CN") == "1,234.50 美元"
    assert wording.amount(123450, "BRL", "zh_CN") == "1,234.50 巴西雷亚尔"  # every currency by its CLDR name
    assert wording.amount(5000, "JPY", "zh_CN") == "5,000 日元"
    assert wording.date(dt.date(2026, 3, 1), "en") == "1 March 2026"
    assert wording.date(dt.date(2026, 3, 1), "zh_CN") == "2026年3月1日"


def test_pay_link_quotes_every_value():
    case = Case(id=12, debtor_id="D 7/x", currency="EUR", balance=120000)
    link = pay_link("https://pay.example.com/{case_id}?ref={key}&d={debtor_id}&a={balance}{currency}", case,
                    "12:overdue-notice:email:2026-03-02")
    assert link == ("https://pay.example.com/12?ref=12%3Aoverdue-notice%3Aemail%3A2026-03-02"
                    "&d=D%207%2Fx&a=1200.00EUR")
    # What is overdue and the payment reference, for a pay page that offers the overdue amount.
    case = Case(id=12, debtor_id="D7", currency="EUR", balance=120000, creditor_reference="RF6800000012")
    assert pay_link("https://pay.example.com/{reference}?a={overdue}", case, "k", 40000) == (
        "https://pay.example.com/RF6800000012?a=400.00")


def test_opt_out_facts():
    assert opt_out_facts("mailto:stop@acme.example?subject=unsubscribe") == {
        "url": None, "address": "stop@acme.example", "subject": "unsubscribe",
        "target": "mailto:stop@acme.example?subject=unsubscribe"}
    assert opt_out_facts("https://acme.example/stop")["url"] == "https://acme.example/stop"
