"""Every template the email channel ships, in English and Chinese, sent and read back.

The emails go through ``EmailChannel.send`` with the context the dispatcher
builds, to a loopback SMTP server; what arrives is parsed with the standard
library's ``email`` package.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import structlog

import dunning.plugins.email as email_plugin
from dunning import operations
from dunning.channels import DeliveryContext, RunContext
from dunning.models import Action, ActionKind, ActionStatus, Contact, ContactKind, ContactRole, Debtor
from dunning.plugins.email.channel import EmailChannel
from dunning.plugins.email.loopback import LoopbackSMTP
from dunning.policy import PRESETS, load_policy
from dunning.store import ImportedObligation
from dunning.templates import audience_context, case_context
from tests import runtime_on_both

# Every runtime this module's tests open: on a SQLite file, then on a PostgreSQL database.
dunning_runtime = runtime_on_both.dunning_runtime

UTC = dt.UTC
NOW = dt.datetime(2026, 3, 4, 9, tzinfo=UTC)
TEMPLATES = Path(email_plugin.__file__).parent / "templates"
# The presets' email steps, the consumer-loans reminders offered for email too,
# and the two the core plans itself (promise reminders, opt-out confirmations).
SHIPPED = ("courtesy-reminder", "overdue-notice", "follow-up", "gentle-reminder", "firm-reminder",
           "promise-reminder", "opt-out-confirmation")


def test_every_email_step_of_the_presets_has_its_templates_in_both_languages():
    needed = {step.template for name in PRESETS for step in load_policy(name).steps if "email" in step.channels}
    assert needed <= set(SHIPPED)
    for name in SHIPPED:
        for locale in ("", ".zh_CN"):
            for suffix in ("subject.txt", "txt", "html"):
                assert (TEMPLATES / f"{name}{locale}.{suffix}").is_file(), f"{name}{locale}.{suffix}"


@pytest.fixture(scope="module")
def server():
    with LoopbackSMTP() as running:
        yield running


def _send(rt, server: LoopbackSMTP, case, template: str, audience: str = "debtor", options: dict | None = None):
    """Deliver one action the way dispatch does, and return the message the server got."""
    channel = rt.channel("email")
    assert isinstance(channel, EmailChannel)
    debtor = rt.store.debtor(case.debtor_id)
    obligations = rt.store.obligations(case.id)
    today, dpd = rt.today(NOW), rt.dpd(case, NOW)
    key = f"{case.id}:{template}:email:{audience}"
    action = Action(key=key, case_id=case.id, kind=ActionKind.OUTREACH, step=template, planned_for=today,
                    not_before=NOW, status=ActionStatus.SENDING, channel="email", template=template, dpd=dpd,
                    options=options or {})
    context = audience_context(case_context(case, debtor, obligations, dpd, today, {"step": template, "options": {}}),
                               audience, "none")
    ctx = DeliveryContext(now=NOW, key=key, debtor=debtor, contacts=rt.store.contacts(debtor.id),
                          obligations=obligations, dpd=dpd, settings=rt.config.settings_for("email"), config=rt.config,
                          db=rt.store.db, log=_log(), template_context=context,
                          render=lambda t, suffix, ctx_: rt.render(channel, t, suffix, ctx_), audience=audience,
                          run_id="templates", store=rt.store)
    before = len(server.messages)
    try:
        delivery = channel.send(action, case, ctx)
    finally:
        channel.finish_run(RunContext(now=NOW, run_id="templates", settings=ctx.settings, config=rt.config,
                                      db=rt.store.db, log=_log()))
    assert delivery.status == "sent", delivery
    return server.messages[before].parsed()


def _log():
    return structlog.get_logger("test")


@pytest.fixture
def runtime(dunning_runtime, server):
    def make(templates: Path | None = None, **settings):
        return dunning_runtime(plugins=[email_plugin], enabled=["email"], templates=templates, channel_settings={
            "email": {"host": server.host, "port": server.port, "security": "none",
                      "sender": "Acme Credit Control <credit@acme.example>",
                      "signature": "Credit Control\nAcme Supplies Ltd", **settings}})
    return make


def _text(mail, kind: str) -> str:
    return mail.get_body((kind,)).get_content().replace("\r\n", "\n")


@pytest.mark.parametrize("template", SHIPPED)
@pytest.mark.parametrize("locale", [None, "zh_CN"])
def test_each_template_renders_in_each_language(runtime, server, case_factory, template, locale):
    rt = runtime(pay_link="https://pay.example.com/{case_id}")
    currency = "CNY" if locale else "EUR"
    case = case_factory(rt, currency=currency, locale=locale, amount="2400.00", due_on=dt.date(2026, 3, 1),
                        timezone="Asia/Shanghai" if locale else "Europe/London")
    options = {}
    if template == "promise-reminder":
        options["promise_id"] = operations.promise(rt, case.id, "400.00", NOW + dt.timedelta(hours=5), now=NOW)
    mail = _send(rt, server, case, template, options=options)
    subject = mail["Subject"]
    text, html = _text(mail, "plain"), _text(mail, "html")
    assert subject and "\n" not in subject and "None" not in subject
    for part in (text, html):
        assert "None" not in part and "{{" not in part and "{%" not in part
        assert "Credit Control" in part and "Acme Supplies Ltd" in part
    assert html.rstrip().endswith("</html>")
    total = "人民币 2,400.00 元" if locale else "EUR 2,400.00"
    if template == "opt-out-confirmation":
        assert total not in text and "pay.example.com" not in text  # it confirms and asks for nothing
    else:
        if template in ("courtesy-reminder", "overdue-notice", "follow-up", "gentle-reminder"):
            assert total in subject
        assert total in text and total in html
        assert "https://pay.example.com/1" in text and "https://pay.example.com/1" in html
        opt_out = "credit@acme.example"
        assert opt_out in text.rsplit("--", 1)[1]  # the opt-out line closes the text part
        assert opt_out in html
    if locale:
        assert "此致" in text and "Dear" not in text and "Balance" not in text
        assert 'lang="zh-CN"' in html
    else:
        assert text.startswith("Dear ") and "Kind regards" in text
    if template == "promise-reminder":
        amount = "人民币 400.00 元" if locale else "EUR 400.00"
        assert amount in subject and amount in text


def test_an_attorney_is_addressed_as_the_representative(runtime, server):
    rt = runtime()
    debtor = Debtor(id="D9", name="Acme Trading Ltd")
    item = ImportedObligation(
        debtor=debtor, reference="INV-9", amount=120000, currency="EUR", issued_on=None, due_on=dt.date(2026, 3, 1),
        contacts=[Contact(debtor_id="D9", kind=ContactKind.EMAIL, value="ap@trading.example"),
                  Contact(debtor_id="D9", kind=ContactKind.EMAIL, value="counsel@law.example",
                          role=ContactRole.ATTORNEY, name="Sam Counsel")])
    _, [case_id] = rt.store.import_obligations([item], NOW - dt.timedelta(days=30), dt.date(2026, 2, 2))
    mail = _send(rt, server, rt.store.case(case_id), "overdue-notice", audience="attorney")
    assert mail["To"] == "Sam Counsel <counsel@law.example>"
    text = _text(mail, "plain")
    assert text.startswith("Dear Sam Counsel,\n\nWe write to you as the representative of Acme Trading Ltd")
    assert "as the representative of Acme Trading Ltd." in text.rsplit("--", 1)[1]


def test_html_escapes_what_the_data_brings(runtime, server, case_factory):
    rt = runtime()
    case = case_factory(rt, name="Smith & <Sons>", reference="INV-<1>")
    html = _text(_send(rt, server, case, "overdue-notice"), "html")
    assert "Smith &amp; &lt;Sons&gt;" in html and "INV-&lt;1&gt;" in html and "<Sons>" not in html


def test_an_admin_template_wins_over_the_shipped_one(runtime, server, case_factory, tmp_path):
    folder = tmp_path / "my-templates" / "email"
    folder.mkdir(parents=True)
    (folder / "overdue-notice.subject.txt").write_text("Account {{ debtor.id }}: {{ total }} open\n")
    (folder / "overdue-notice.txt").write_text("{{ recipient_name }} owes {{ total }}. {{ opt_out.target }}\n")
    rt = runtime(templates=tmp_path / "my-templates")
    case = case_factory(rt)
    mail = _send(rt, server, case, "overdue-notice")
    assert mail["Subject"] == f"Account {case.debtor_id}: EUR 1,200.00 open"
    assert (
        _text(mail, "plain") == "Acme Trading Ltd owes EUR 1,200.00. mailto:credit@acme.example?subject=unsubscribe\n"
    )
    assert "Dear Acme Trading Ltd" in _text(mail, "html")  # no HTML of its own: the shipped one
