"""Letters write dates and amounts the way the debtor's language does (CLDR through Babel), read back from the PDF."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from pypdf import PdfReader

import dunning.plugins.letter as letter_plugin
from dunning import dispatch, money
from dunning.models import Contact, ContactKind, Debtor, DebtorKind
from dunning.runtime import Runtime
from dunning.store import ImportedObligation
from tests import runtime_on_both

# Every runtime this module's tests open: on a SQLite file, then on a PostgreSQL database.
dunning_runtime = runtime_on_both.dunning_runtime

UTC = dt.UTC
DUE = dt.date(2026, 6, 13)
RUN = dt.datetime(2026, 6, 14, 9, tzinfo=UTC)  # one day past due: the letter's date is 14 June 2026
SETTINGS = {"sender_name": "Northwind Supplies GmbH", "sender_address": ["Hafenstr. 1", "20457 Hamburg"]}
POLICY = 'name = "letters"\n[[steps]]\nname = "demand"\ndpd = 1\nchannels = ["letter"]\ntemplate = "formal-demand"\n'

# An administrator's German letter and labels, dropped into <templates>/letter/.
GERMAN_LETTER = """\
Subject: Mahnung: {{ overdue }} überfällig

Sehr geehrte Damen und Herren,

bitte zahlen Sie {{ overdue }} ({{ letter.currency_name }}) bis zum {{ letter.deadline }}.

[[obligations]]

Mit freundlichen Grüßen,

[[signature]]
"""
GERMAN_LABELS = 'date = "Datum"\ntotal = "Gesamt"\ndue = "Fällig am"\namount = "Betrag"\n'


def _runtime(dunning_runtime: Any, templates: Path) -> Runtime:
    own = templates / "letter"
    own.mkdir(parents=True)
    (own / "formal-demand.de_DE.txt").write_text(GERMAN_LETTER, encoding="utf-8")
    (own / "letter-labels.de_DE.toml").write_text(GERMAN_LABELS, encoding="utf-8")
    return dunning_runtime(plugins=[letter_plugin], policy=POLICY, enabled=["letter"],
                           channel_settings={"letter": SETTINGS}, templates=templates)


def _add(rt: Runtime, debtor_id: str, locale: str | None) -> None:
    debtor = Debtor(id=debtor_id, name=f"Kunde {debtor_id}", kind=DebtorKind.COMPANY, locale=locale)
    contacts = [Contact(debtor_id=debtor_id, kind=ContactKind.POSTAL, value="Ring 2, 10115 Berlin")]
    moment = dt.datetime(2026, 5, 1, 8, tzinfo=UTC)
    rt.store.import_obligations([ImportedObligation(
        debtor=debtor, contacts=contacts, reference=f"RE-{debtor_id}", amount=money.parse("1234.56", "EUR"),
        currency="EUR", issued_on=dt.date(2026, 5, 14), due_on=DUE)], moment, moment.date())


def _letters(rt: Runtime) -> dict[str, str]:
    """Each debtor's letter as pypdf reads it, spaces (no-break ones included) squeezed to one."""
    out = {}
    for event in rt.store.events(kind="sent"):
        text = "\n".join(page.extract_text() for page in PdfReader(event.data["path"]).pages)
        debtor = rt.store.case(event.case_id).debtor_id
        out[debtor] = " ".join(text.replace("\u00a0", " ").split())
    return out


def test_german_english_and_chinese_letters_write_dates_and_amounts_their_own_way(dunning_runtime, tmp_path):
    rt = _runtime(dunning_runtime, tmp_path / "templates")
    for debtor_id, locale in (("DE", "de_DE"), ("EN", None), ("ZH", "zh_CN")):
        _add(rt, debtor_id, locale)
    assert dispatch.run(rt, RUN).sent == 3
    letters = _letters(rt)

    german = letters["DE"]
    for expected in ("Mahnung: 1.234,56 € überfällig", "Datum 14. Juni 2026", "bitte zahlen Sie 1.234,56 € (Euro) "
                     "bis zum 28. Juni 2026", "RE-DE 13.06.2026 1.234,56 € 1.234,56 €", "Gesamt 1.234,56 € 1.234,56 €"):
        assert expected in german, expected

    english = letters["EN"]
    for expected in ("Formal demand for payment of €1,234.56 overdue", "Date 14 June 2026",
                     "RE-EN 13 Jun 2026 €1,234.56 €1,234.56", "in full by 28 June 2026"):
        assert expected in english, expected

    chinese = letters["ZH"]
    for expected in ("正式催款函", "请支付逾期款项 €1,234.56", "日期 2026年6月14日", "于 2026年6月28日 前全额支付",
                     "RE-ZH 2026年6月13日 €1,234.56 €1,234.56"):
        assert expected in chinese, expected
    for text in letters.values():
        assert "EUR 1,234.56" not in text and "2026-06-13" not in text  # no engine form left in a letter
