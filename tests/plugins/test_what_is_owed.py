"""Every shipped template of every channel, in English and Chinese, says what is overdue and what falls due later.

One debtor owes two instalments: EUR 400.00 that fell due on 1 March and
EUR 350.00 that falls due on 15 April. On 1 April (31 days past due) the
overdue amount is EUR 400.00, EUR 350.00 is not yet due, and the balance is
EUR 750.00. Each message is read back from the real channel: the email
from the loopback SMTP server, the letter's PDF with pypdf, the text from
the loopback SMS gateway's requests, the call script from ``dunning calls
script`` and the visit script from ``dunning visits sheet``.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from collections.abc import Sequence
from pathlib import Path

import pytest
from pypdf import PdfReader

import dunning.plugins.email as email_plugin
import dunning.plugins.letter as letter_plugin
import dunning.plugins.phone as phone_plugin
from dunning import dispatch, money
from dunning.creditor_reference import printed
from dunning.models import Case, Contact, ContactKind, Debtor, DebtorKind
from dunning.owed import owed_on
from dunning.plugins.agency.placement import FILE_FIELDS, file_row
from dunning.plugins.legal import statement
from dunning.runtime import Runtime
from dunning.store import ImportedObligation
from tests.conftest import Project
from tests.plugins.test_email_delivery import parts, settings_for, smtp  # noqa: F401 (smtp is a fixture)
from tests.plugins.test_letter import LEGAL, SETTINGS, text_of
from tests.plugins.test_phone_cli import calls_project  # noqa: F401 (a fixture)
from tests.plugins.test_sms import gateway, settings as sms_settings  # noqa: F401 (gateway is a fixture)
from tests.plugins.test_visit import visits_cli  # noqa: F401 (a fixture)
from tests import runtime_on_both

# Every runtime this module's tests open: on a SQLite file, then on a PostgreSQL database.
dunning_runtime = runtime_on_both.dunning_runtime


UTC = dt.UTC
OVERDUE_DUE = dt.date(2026, 3, 1)
LATER_DUE = dt.date(2026, 4, 15)
NOW = dt.datetime(2026, 4, 1, 9, tzinfo=UTC)  # a Wednesday, 31 days past the first due date
NOW_TEXT = NOW.isoformat()
ITEMS = (("P-1", "400.00", OVERDUE_DUE), ("P-2", "350.00", LATER_DUE))
ADDRESS = "12 Harbour Road\nLeeds LS1 4AB\nUnited Kingdom"

EMAIL_TEMPLATES = ("courtesy-reminder", "gentle-reminder", "overdue-notice", "follow-up", "firm-reminder")
SMS_TEMPLATES = ("gentle-reminder", "firm-reminder")
LETTER_TEMPLATES = ("advance-notice", "warning", "formal-demand", "reconciliation-statement", "lawyers-letter")
CALL_TEMPLATES = ("overdue-notice", "follow-up", "phone-follow-up", "gentle-reminder", "reminder-call",
                  "firm-reminder")
VISIT_TEMPLATES = ("first-visit", "second-visit", "home-visit")
LOCALES = (None, "zh_CN")

# Ways the old texts called the whole balance (or the part not yet due) overdue.
WRONG = ("EUR 750.00 is", "EUR 750.00 overdue", "EUR 750.00 was due", "EUR 750.00 has been overdue",
         "payment of EUR 750.00", "EUR 350.00 is now", "EUR 350.00 overdue", "EUR 350.00 was due",
         "past their due date", "逾期金额 EUR 750.00", "EUR 750.00 已经逾期", "EUR 750.00 的还款",
         "750.00 欧元已逾期", "逾期 EUR 750.00", "逾期款项 EUR 750.00",
         # Letters write amounts the debtor's language's way (€750.00).
         "€750.00 is", "€750.00 overdue", "€750.00 was due", "payment of €750.00", "€350.00 is now",
         "€350.00 overdue", "€350.00 was due", "逾期 €750.00", "逾期款项 €750.00", "€750.00 已经逾期")


def squeezed(text: str) -> str:
    """The text without any white space, so a line break inside a phrase (a PDF's, a script's) does not hide it."""
    return re.sub(r"\s+", "", text)


def assert_states_what_is_owed(text: str, where: str) -> None:
    """The overdue amount is stated, the later item is listed as not yet due with its due date, and nothing else is
    called overdue."""
    flat, tight = " ".join(text.split()), squeezed(text)
    assert "EUR400.00" in tight or "400.00欧元" in tight or "€400.00" in tight, f"{where}: no overdue amount\n{text}"
    assert any(squeezed(d) in tight for d in ("2026-04-15", "15 April 2026", "2026年4月15日")), \
        f"{where}: the later item's due date is missing\n{text}"
    assert "notyetdue" in tight.lower() or "尚未到期" in tight, f"{where}: nothing said to be not yet due\n{text}"
    for wrong in WRONG:
        assert wrong not in flat and squeezed(wrong) not in tight, f"{where}: says {wrong!r}\n{text}"


def assert_register(text: str, kind: DebtorKind, debt_kind: str, where: str, *, written: bool = True) -> None:
    """A Chinese text addresses a person as 您 and a company as 贵方, and words a loan as a loan.

    In a call or visit script the collector still says 您 to the person they speak to at a company; a written
    message to a company says 贵方 throughout (您好 is a greeting).
    """
    if kind is DebtorKind.PERSON:
        for company_word in ("贵方", "贵公司", "贵司"):
            assert company_word not in text, f"{where}: a person addressed as {company_word}\n{text}"
    elif written:
        assert "您" not in text.replace("您好", ""), f"{where}: a company addressed as 您\n{text}"
    if debt_kind == "loan":
        assert "发票" not in text, f"{where}: a loan called an invoice\n{text}"


def add_debtor(rt: Runtime, *, locale: str | None, kind: DebtorKind, debtor_id: str = "D1",
               name: str = "Lee Chan") -> Case:
    """The debtor with one overdue and one not-yet-due instalment, an email address, a mobile and a postal address."""
    contacts = [Contact(debtor_id=debtor_id, kind=ContactKind.EMAIL, value=f"{debtor_id.lower()}@example.com"),
                Contact(debtor_id=debtor_id, kind=ContactKind.MOBILE, value="+447700900123"),
                Contact(debtor_id=debtor_id, kind=ContactKind.POSTAL, value=ADDRESS)]
    debtor = Debtor(id=debtor_id, name=name, kind=kind, locale=locale, country="GB")
    imported = [ImportedObligation(debtor=debtor, contacts=contacts, reference=f"{debtor_id}-{ref}",
                                   amount=money.parse(amount, "EUR"), currency="EUR", issued_on=dt.date(2026, 2, 1),
                                   due_on=due)
                for ref, amount, due in ITEMS]
    moment = dt.datetime(2026, 2, 1, 8, tzinfo=UTC)  # several runtimes of one test share the store: one debtor each
    _, touched = rt.store.import_obligations(imported, moment, moment.date())
    return rt.store.case(touched[0])


def one_step(channel: str, template: str, debt_kind: str) -> str:
    return (f'name = "what-is-owed"\ndebt_kind = "{debt_kind}"\n[[steps]]\nname = "step"\ndpd = 31\n'
            f'channels = ["{channel}"]\ntemplate = "{template}"\n')


def debtor_kinds(locale: str | None) -> tuple[tuple[DebtorKind, str], ...]:
    """English for a company's invoices; Chinese both for a person's loan and a company's invoices."""
    if locale is None:
        return ((DebtorKind.COMPANY, "invoice"),)
    return ((DebtorKind.PERSON, "loan"), (DebtorKind.COMPANY, "invoice"))


# --- email ------------------------------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("template", EMAIL_TEMPLATES)
def test_every_email_states_the_overdue_amount_and_what_falls_due_later(dunning_runtime, smtp, template, locale):
    for n, (kind, debt_kind) in enumerate(debtor_kinds(locale)):
        rt = dunning_runtime(plugins=[email_plugin], enabled=["email"], policy=one_step("email", template, debt_kind),
                             channel_settings={"email": settings_for(smtp)})
        case = add_debtor(rt, locale=locale, kind=kind, debtor_id=f"D{n}")
        assert dispatch.run(rt, NOW).sent == 1
        mail = smtp.messages[n].parsed()
        text, html = parts(mail)
        where = f"email {template} {locale} {kind.value}"
        for part in (text, re.sub(r"<[^>]+>", " ", html)):
            assert_states_what_is_owed(part, where)
            assert printed(case.creditor_reference) in part, where
            if locale:
                assert_register(part, kind, debt_kind, where)
        assert "750.00" not in mail["Subject"] or "overdue" not in mail["Subject"].lower(), mail["Subject"]


def test_the_english_overdue_notice_reads_as_it_should(dunning_runtime, smtp):
    rt = dunning_runtime(plugins=[email_plugin], enabled=["email"],
                         policy=one_step("email", "overdue-notice", "invoice"),
                         channel_settings={"email": settings_for(smtp)})
    case = add_debtor(rt, locale=None, kind=DebtorKind.COMPANY)
    dispatch.run(rt, NOW)
    mail = smtp.messages[0].parsed()
    assert mail["Subject"] == "Payment overdue: EUR 400.00 (31 days past due)"
    text = " ".join(parts(mail)[0].split())
    assert "payment of EUR 400.00 is past its due date" in text
    assert "Overdue now: D1-P-1 due 1 March 2026 EUR 400.00, 31 days overdue Total overdue: EUR 400.00" in text
    assert ("Not yet due (falls due later): D1-P-2 due on 15 April 2026 EUR 350.00 Total due later: EUR 350.00 "
            "Balance: EUR 750.00") in text
    assert f"Payment reference: {printed(case.creditor_reference)}" in text
    assert "Please arrange payment of the overdue amount, EUR 400.00" in text


# --- SMS --------------------------------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("template", SMS_TEMPLATES)
def test_every_text_message_states_the_overdue_amount_and_what_falls_due_later(dunning_runtime, gateway, template,
                                                                                locale):
    for n, (kind, debt_kind) in enumerate(debtor_kinds(locale)):
        rt = dunning_runtime(plugins=[phone_plugin], enabled=["sms"], policy=one_step("sms", template, debt_kind),
                             channel_settings={"sms": sms_settings(gateway)})
        case = add_debtor(rt, locale=locale, kind=kind, debtor_id=f"D{n}")
        assert dispatch.run(rt, NOW).sent == 1
        text = gateway.requests[n].json()["text"]
        where = f"sms {template} {locale} {kind.value}"
        assert_states_what_is_owed(text, where)
        assert printed(case.creditor_reference) in text, where
        if locale:
            assert_register(text, kind, debt_kind, where)


def test_the_sms_of_the_found_defect_names_the_overdue_instalment_not_the_balance(dunning_runtime, gateway):
    # Found as a new user: "your payment of GBP 800.00 was due 1 day ago" when 400.00 was due.
    rt = dunning_runtime(plugins=[phone_plugin], enabled=["sms"], policy=one_step("sms", "gentle-reminder", "loan"),
                         channel_settings={"sms": sms_settings(gateway)})
    case = add_debtor(rt, locale=None, kind=DebtorKind.PERSON)
    dispatch.run(rt, NOW)
    assert gateway.requests[0].json()["text"] == (
        "Lee Chan, a reminder: EUR 400.00 was due on 2026-03-01 and has not reached us; EUR 350.00 is not yet due "
        f"(next on 2026-04-15). Pay quoting {printed(case.creditor_reference)}; if you have paid, thank you. "
        "Reply STOP to opt out")


# --- letters ----------------------------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("template", LETTER_TEMPLATES)
def test_every_letter_states_the_overdue_amount_and_what_falls_due_later(dunning_runtime, template, locale):
    for n, (kind, debt_kind) in enumerate(debtor_kinds(locale)):
        rt = dunning_runtime(plugins=[letter_plugin], enabled=["letter"],
                             policy=one_step("letter", template, debt_kind),
                             channel_settings={"letter": SETTINGS, "legal": LEGAL})
        case = add_debtor(rt, locale=locale, kind=kind, debtor_id=f"D{n}")
        assert dispatch.run(rt, NOW).sent == 1
        [sent] = [e for e in rt.store.events(kind="sent") if e.channel == "letter" and e.case_id == case.id]
        text = text_of(Path(sent.data["path"]))
        where = f"letter {template} {locale} {kind.value}"
        assert_states_what_is_owed(text, where)
        assert squeezed(printed(case.creditor_reference)) in squeezed(text), where
        if locale:
            assert_register(text, kind, debt_kind, where)


def test_the_advance_notice_no_longer_calls_invoices_due_later_past_their_due_date(dunning_runtime):
    # Found as a new user: invoices due next week were "past their due date" and the whole balance was demanded.
    rt = dunning_runtime(plugins=[letter_plugin], enabled=["letter"],
                         policy=one_step("letter", "advance-notice", "invoice"), channel_settings={"letter": SETTINGS})
    add_debtor(rt, locale=None, kind=DebtorKind.COMPANY)
    dispatch.run(rt, NOW)
    [sent] = [e for e in rt.store.events(kind="sent") if e.channel == "letter"]
    text = " ".join(text_of(Path(sent.data["path"])).split())
    assert "Subject: " not in text and "Overdue account: €400.00 past its due date" in text
    assert "Please arrange payment of €400.00 by" in text
    assert "D1-P-1 1 Mar 2026 €400.00 €400.00 overdue 31 days" in text
    assert "D1-P-2 15 Apr 2026 €350.00 €350.00 not yet due" in text


# --- call scripts -----------------------------------------------------------------------------


def _import(project: Project, *, channel: str, policy: str, locale: str | None, kind: str,
            contacts: Sequence[dict[str, str]] = (), extra: str = "") -> int:
    """Import the two instalments through ``dunning import`` with ``channel`` enabled; the case id."""
    project.write_config(policy=policy, enabled=[channel], extra=extra)
    rows = [{"debtor_id": "D1", "name": "Lee Chan", "kind": kind, "mobile": "+44 7700 900123",
             "address": "10 Downing Street\nLondon\nSW1A 2AA", "country": "GB", "timezone": "Europe/London",
             "reference": ref, "amount": amount, "currency": "EUR", "issued_on": "2026-02-01",
             "due_on": due.isoformat(), **({"locale": locale} if locale else {}),
             **({"contacts": list(contacts)} if contacts else {})}
            for ref, amount, due in ITEMS]
    path = project.folder / "debts.json"
    path.write_text(json.dumps(rows), encoding="utf-8")
    project("import", str(path), now="2026-02-01T09:00:00+00:00")
    [case] = json.loads(project("cases", "list", "--json").stdout)
    return int(case["id"])


# One project per locale and kind of debtor: each imports its own debtor (on PostgreSQL too, a fresh database).
CALL_CASES = [(locale, kind, policy) for locale in LOCALES
              for kind, policy in (("person", "consumer-loans"), ("company", "trade-receivables"))
              if not (locale is None and kind == "person")]


@pytest.mark.parametrize(("locale", "kind", "policy"), CALL_CASES)
def test_every_call_script_states_the_overdue_amount_and_what_falls_due_later(calls_project: Project, locale, kind,
                                                                              policy):
    case_id = _import(calls_project, channel="phone", policy=policy, locale=locale, kind=kind,
                      extra='\n[channels.phone]\ncompany = "Northwind Credit"\n')
    calls_project("run", now=NOW_TEXT)
    reference = json.loads(calls_project("cases", "show", str(case_id), "--json").stdout)["creditor_reference"]
    for template in CALL_TEMPLATES:
        text = calls_project("calls", "script", str(case_id), "--template", template, now=NOW_TEXT).stdout
        where = f"call {template} {locale} {kind}"
        assert_states_what_is_owed(text, where)
        assert printed(reference) in text, where
        if locale is None:  # the amounts stand apart, each on a line of its own
            assert "\n   Overdue now: EUR 400.00\n" in text, where
            assert f"Payment reference to give: {printed(reference)}\n" in text, where
        if locale:
            assert_register(text, DebtorKind(kind), "loan" if policy == "consumer-loans" else "invoice", where,
                            written=False)


def test_a_third_party_hears_no_amount_without_disclosure_and_the_overdue_one_with_it(calls_project: Project):
    # Found as a new user: a spouse was told the wrong amount (the balance, not what was overdue).
    spouse = [{"kind": "mobile", "value": "+44 7700 900999", "role": "spouse", "name": "Sam Chan"}]
    case_id = _import(calls_project, channel="phone", policy="consumer-loans", locale=None, kind="person",
                      contacts=spouse)
    calls_project("run", now=NOW_TEXT)
    for locale in ("en", "zh_CN"):
        whereabouts = calls_project("calls", "script", str(case_id), "--template", "whereabouts", "--locale", locale,
                                    now=NOW_TEXT).stdout
        assert "Lee Chan" in whereabouts
        for secret in ("400.00", "350.00", "750.00", "EUR", "RF", "overdue", "逾期金额"):
            assert secret not in whereabouts, (locale, secret)
        told = calls_project("calls", "script", str(case_id), "--template", "contact-disclosure", "--locale", locale,
                             now=NOW_TEXT).stdout
        assert "EUR 400.00" in told, locale
        assert "750.00" not in told and "350.00" not in told, locale


# --- visit sheets -----------------------------------------------------------------------------


VISIT_CASES = [(locale, kind, debt_kind) for locale in LOCALES for kind, debt_kind in debtor_kinds(locale)]


@pytest.mark.parametrize(("locale", "kind", "debt_kind"), VISIT_CASES)
@pytest.mark.parametrize("template", VISIT_TEMPLATES)
def test_every_visit_script_states_the_overdue_amount_and_what_falls_due_later(tmp_path, dunning_database, visits_cli,
                                                                               template, locale, kind, debt_kind):
    project = Project(tmp_path / f"{kind.value}", dunning_database if isinstance(dunning_database, str) else None)
    project.folder.mkdir()
    policy = project.folder / "policy.toml"
    policy.write_text(one_step("visit", template, debt_kind), encoding="utf-8")
    case_id = _import(project, channel="visit", policy=str(policy), locale=locale, kind=kind.value,
                      extra='\n[channels.visit]\ncompany = "Acme Supplies"\n')
    project("run", now=NOW_TEXT)
    sheet = project("visits", "sheet", now=NOW_TEXT).stdout
    where = f"visit {template} {locale} {kind.value}"
    assert f"case {case_id}" in sheet, where
    script = sheet[sheet.index("Script"):]
    assert_states_what_is_owed(script, where)
    assert "Overdue:   EUR 400.00, 31 days past due" in sheet, where
    assert "Due later: EUR 350.00, not yet due" in sheet, where
    if locale:
        assert_register(script, kind, debt_kind, where, written=False)


# --- before the due date ----------------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
def test_a_reminder_before_the_due_date_says_due_on_and_never_overdue(dunning_runtime, smtp, gateway, locale):
    policy = ('name = "early"\n[[steps]]\nname = "courtesy"\ndpd = -7\nchannels = ["email"]\n'
              'template = "courtesy-reminder"\n[[steps]]\nname = "text"\ndpd = -7\nchannels = ["sms"]\n'
              'template = "gentle-reminder"\n')
    rt = dunning_runtime(plugins=[email_plugin, phone_plugin], enabled=["email", "sms"], policy=policy,
                         channel_settings={"email": settings_for(smtp), "sms": sms_settings(gateway)})
    add_debtor(rt, locale=locale, kind=DebtorKind.COMPANY)
    early = dt.datetime(2026, 2, 22, 9, tzinfo=UTC)  # a week before the first due date
    assert dispatch.run(rt, early).sent == 2
    mail = smtp.messages[0].parsed()
    texts = [mail["Subject"], *parts(mail), gateway.requests[0].json()["text"]]
    for text in texts:
        assert "overdue" not in text.lower() and "逾期" not in text, text
    assert "due on 1 March 2026" in mail["Subject"] or "将于2026年3月1日到期" in mail["Subject"], mail["Subject"]
    sms = gateway.requests[0].json()["text"]
    assert "EUR 750.00 is due on 2026-03-01" in sms or "EUR 750.00将于2026-03-01到期" in sms, sms


# --- agency and legal files -------------------------------------------------------------------


def test_the_agency_file_and_the_statement_of_account_state_the_overdue_amount(dunning_runtime):
    rt = dunning_runtime()
    case = add_debtor(rt, locale=None, kind=DebtorKind.COMPANY)
    debtor, obligations = rt.store.debtor(case.debtor_id), rt.store.obligations(case.id)
    placed = file_row(case, debtor, obligations, rt.store.contacts(case.debtor_id), NOW.date(), None, 31)
    assert {"overdue", "not_yet_due", "creditor_reference"} <= set(FILE_FIELDS)
    assert (placed["balance"], placed["overdue"], placed["not_yet_due"]) == ("750.00", "400.00", "350.00")
    assert placed["creditor_reference"] == case.creditor_reference
    lines = statement.statement_lines(obligations, [], rt.config.zone)
    pdf = statement.to_pdf(lines, case, debtor, NOW.date(), owed_on(obligations, NOW.date(), "EUR"))
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    text = " ".join(text.split())
    assert "Balance due: EUR 750.00" in text and "Overdue on 2026-04-01: EUR 400.00" in text
    assert "Not yet due: EUR 350.00 (D1-P-2 due on 2026-04-15: EUR 350.00)" in text
    assert f"Payment reference: {printed(case.creditor_reference)}" in text
