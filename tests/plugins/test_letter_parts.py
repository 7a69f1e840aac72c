"""The letter plugin's pure parts: addresses, template text, settings, labels, what a letter says."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from dunning.models import Debtor, Obligation, Payment
from dunning.plugins.letter import compose, content, fonts, formats, labels
from dunning.plugins.letter.address import split_lines, window_lines
from dunning.plugins.letter.batch import batch_id, safe_name
from dunning.plugins.letter.settings import LetterSettings, check_settings

SETTINGS = {"sender_name": "Northwind Supplies Ltd", "sender_address": "1 Quay Street, Bristol BS1 4DJ"}
ENGLISH = labels.parse("")
BRITISH = formats.for_locale(None)


# --- addresses -------------------------------------------------------------------------------------


def test_address_lines_are_split_on_newlines_and_on_comma_space():
    assert split_lines("12 Harbour Road\nLeeds LS1 4AB\n\nUnited Kingdom") == (
        "12 Harbour Road", "Leeds LS1 4AB", "United Kingdom")
    assert split_lines("Flat 3,4 Mill Lane, Leeds LS2 7EA") == ("Flat 3,4 Mill Lane", "Leeds LS2 7EA")
    assert split_lines("  ,  \n ") == ()


def test_the_window_starts_with_the_recipient_once_and_holds_six_lines():
    assert window_lines("Acme Ltd", "12 Harbour Road, Leeds") == ("Acme Ltd", "12 Harbour Road", "Leeds")
    assert window_lines("Acme Ltd", "ACME LTD, 12 Harbour Road") == ("ACME LTD", "12 Harbour Road")
    many = window_lines("A", "1, 2, 3, 4, 5, 6, 7")
    assert len(many) == 6 and many[-1] == "5, 6, 7"


# --- template text ---------------------------------------------------------------------------------


def test_a_template_has_a_subject_paragraphs_bold_and_blocks():
    text = content.parse(
        "Subject: Pay <now> & soon\nLetterhead: firm\n\nDear A & B,\nline two\n\nPay **EUR 5**.\n\n"
        "[[obligations]]\n\nYours,\n", "demo")
    assert text.subject == "Pay <now> & soon" and text.letterhead == "firm"
    paragraphs = [p.markup for p in text.parts if isinstance(p, content.Paragraph)]
    assert paragraphs == ["Dear A &amp; B,<br/>line two", "Pay <b>EUR 5</b>.", "Yours,"]
    # The signature follows the last paragraph when the template does not place it.
    assert text.blocks == ("obligations", "signature")


@pytest.mark.parametrize("text, problem", [
    ("Dear A,\n\nPay.", "the first line must be 'Subject: ...'"),
    ("Subject: x\n\n[[table]]", "unknown block [[table]]"),
    ("Subject: x\n\n[[statement]]\n\n[[statement]]", "block [[statement]] appears twice"),
    ("Subject: x\nLetterhead: bank\n\nHi", "'Letterhead:' must be one of sender, firm"),
])
def test_a_template_that_cannot_make_a_letter_is_named_in_the_error(text, problem):
    with pytest.raises(content.ContentError) as caught:
        content.parse(text, "my-letter")
    assert "template 'my-letter'" in str(caught.value) and problem in str(caught.value)


# --- settings --------------------------------------------------------------------------------------


@pytest.mark.parametrize("change, key", [
    ({"colour": "blue"}, "unknown key 'colour'"),
    ({"sender_name": None}, "missing 'sender_name'"),
    ({"sender_address": []}, "'sender_address' must be"),
    ({"page_size": "A5"}, "'page_size' must be one of 'A4', 'letter'"),
    ({"pay_within_days": True}, "'pay_within_days' must be a whole number"),
    ({"pay_within_days": 0}, "'pay_within_days' must be a whole number"),
    ({"folder": ""}, "'folder' must be a non-empty string"),
    ({"cjk_font": "/nowhere/font.ttf"}, "'cjk_font' names a file that does not exist: '/nowhere/font.ttf'"),
    ({"cjk_font": "NotoSansCJK.otf"}, "'cjk_font' must be a TrueType font"),
])
def test_bad_settings_are_rejected_naming_the_key(change, key):
    settings = {**SETTINGS, **change}
    settings = {k: v for k, v in settings.items() if v is not None}
    with pytest.raises(ValueError) as caught:
        check_settings(settings)
    assert key in str(caught.value)


def test_settings_resolve_paths_against_the_config_folder_and_take_the_firm_from_legal(tmp_path: Path):
    font = tmp_path / "fonts" / "my.ttf"
    font.parent.mkdir()
    font.write_bytes(b"")
    check_settings({**SETTINGS, "cjk_font": "fonts/my.ttf"}, tmp_path)
    parsed = LetterSettings.parse(
        {**SETTINGS, "folder": "out", "page_size": "LETTER", "cjk_font": "fonts/my.ttf", "firm_name": "Own Firm"},
        tmp_path,
        {"firm_name": "Harbour & Lane LLP", "firm_address": ["9 Castle Street", "Bristol"], "lawyer": "P. Raman"},
    )
    assert parsed.folder == tmp_path / "out" and parsed.cjk_font == font and parsed.page_size == "letter"
    assert parsed.sender_address == ("1 Quay Street", "Bristol BS1 4DJ")
    assert parsed.signatory_name == "Northwind Supplies Ltd"  # no signatory: the sender signs
    assert parsed.firm is not None and parsed.firm.name == "Harbour & Lane LLP" and parsed.firm.lawyer == "P. Raman"
    assert LetterSettings.parse({**SETTINGS, "firm_name": "Own Firm"}, tmp_path).firm.name == "Own Firm"


# --- labels and fonts ------------------------------------------------------------------------------


def test_labels_fall_back_to_english_and_hold_only_wording():
    chinese = labels.parse('total = "合计"')
    assert chinese["total"] == "合计" and chinese["reference"] == "Reference"
    with pytest.raises(labels.LabelsError, match="unknown key 'totl'"):
        labels.parse('totl = "x"')
    # A labels file of an earlier release that spells out month names is told why they are not read.
    with pytest.raises(labels.LabelsError, match="'months' is no longer read: dates are written as the debtor's"):
        labels.parse('months = ["Jan"]')


@pytest.mark.parametrize(("locale", "long", "table", "amount"), [
    (None, "14 June 2026", "14 Jun 2026", "€1,234.56"),
    ("en", "14 June 2026", "14 Jun 2026", "€1,234.56"),
    ("en_US", "June 14, 2026", "Jun 14, 2026", "€1,234.56"),
    ("de_DE", "14. Juni 2026", "14.06.2026", "1.234,56\u00a0€"),
    ("de", "14. Juni 2026", "14.06.2026", "1.234,56\u00a0€"),
    ("zh_CN", "2026年6月14日", "2026年6月14日", "€1,234.56"),
    ("zh-CN", "2026年6月14日", "2026年6月14日", "€1,234.56"),
    ("xx_NOWHERE", "14 June 2026", "14 Jun 2026", "€1,234.56"),  # unknown to CLDR: British English
])
def test_dates_and_amounts_are_written_the_way_the_debtors_locale_writes_them(locale, long, table, amount):
    written = formats.for_locale(locale)
    assert written.date(dt.date(2026, 6, 14)) == long and written.table_date(dt.date(2026, 6, 14)) == table
    assert written.amount(123456, "EUR") == amount


def test_the_decimals_come_from_the_iso_table_and_names_from_cldr():
    german = formats.for_locale("de_DE")
    assert german.amount(123456, "JPY") == "123.456\u00a0¥"  # no minor unit: no decimals
    assert german.amount(-1234567, "KWD") == "-1.234,567\u00a0KWD"  # three decimals
    assert formats.for_locale("fr_FR").amount(123456, "EUR") == "1\u00a0234,56\u00a0€"  # in the Latin font
    assert formats.for_locale("zh_CN").currency_name("EUR") == "欧元" and german.currency_name("USD") == "US-Dollar"


def test_only_letters_outside_latin_1_need_an_embedded_font():
    assert not fonts.needs_unicode_font(["Müller & Søn, Straße 5, café"], "de_DE")
    assert fonts.needs_unicode_font(["Dear customer"], "zh_CN")
    assert fonts.needs_unicode_font(["Łódź"], None)


def test_a_letter_needing_cjk_glyphs_without_a_font_fails_naming_the_setting(monkeypatch):
    monkeypatch.setattr(fonts, "PACKAGED_FONT", ("no_such_font_package", "x.ttc"))
    monkeypatch.setattr(fonts, "SYSTEM_FONTS", ())
    with pytest.raises(fonts.FontError) as caught:
        fonts.choose(["尊敬的客户"], "zh_CN", None)
    assert "set 'cjk_font' in [channels.letter]" in str(caught.value) and "pip install" in str(caught.value)
    assert fonts.choose(["Dear customer"], "en", None) is fonts.STANDARD


# --- what a letter says ----------------------------------------------------------------------------


def _obligation(ref: str, amount: int, paid: int = 0, due: dt.date = dt.date(2026, 2, 1)) -> Obligation:
    return Obligation(case_id=1, reference=ref, amount=amount, currency="EUR", issued_on=dt.date(2026, 1, 2),
                      due_on=due, paid=paid)


def test_the_obligations_table_lists_open_items_oldest_first_with_the_total():
    table = compose.obligations_table(
        [_obligation("INV-2", 35050, due=dt.date(2026, 2, 15)), _obligation("INV-1", 120000),
         _obligation("INV-0", 5000, paid=5000)], ENGLISH, BRITISH, "EUR", dt.date(2026, 2, 10))
    assert [row[0] for row in table.rows] == ["INV-1", "INV-2"]
    # Each row says whether it is overdue on the letter's date; one due later is never called overdue.
    assert table.rows[0] == ("INV-1", "1 Feb 2026", "€1,200.00", "€1,200.00", "overdue 9 days")
    assert table.rows[1] == ("INV-2", "15 Feb 2026", "€350.50", "€350.50", "not yet due")
    assert table.total == ("Total", "", "€1,550.50", "€1,550.50", "")


def test_the_statement_shows_paid_items_payments_and_the_balance():
    payment = Payment(case_id=1, amount=125000, at=dt.datetime(2026, 2, 20, 9, tzinfo=dt.UTC),
                      reference="BANK-778")
    st = compose.statement([_obligation("INV-1", 120000, paid=120000), _obligation("INV-2", 35050, paid=5000)],
                           [payment], ENGLISH, BRITISH, "EUR", dt.date(2026, 3, 2))
    assert [r[0] for r in st.invoices.rows] == ["INV-1", "INV-2"]
    assert st.invoices.total[-3:] == ("€1,550.50", "€1,250.00", "€300.50")
    assert st.payments is not None and st.payments.rows == (("20 Feb 2026", "BANK-778", "€1,250.00"),)
    assert st.balance == "Balance on 2 March 2026: €300.50"
    # A balance partly not yet due says so.
    later = compose.statement([_obligation("INV-1", 40000), _obligation("INV-3", 35000, due=dt.date(2026, 4, 15))],
                              [], ENGLISH, BRITISH, "EUR", dt.date(2026, 3, 2))
    assert later.balance == "Balance on 2 March 2026: €750.00, of which €400.00 overdue and €350.00 not yet due"


def test_the_reference_block_lists_invoices_only_when_the_debt_may_be_shown():
    debtor = Debtor(id="D7", name="Acme")
    items = [_obligation(f"INV-{i}", 1000, due=dt.date(2026, 1, i)) for i in range(1, 7)]
    shown = dict(compose.info_block(ENGLISH, BRITISH, dt.date(2026, 3, 2), "7:demand:letter:2026-03-02", debtor, items,
                                    True))
    assert shown == {"Date": "2 March 2026", "Our reference": "7:demand:letter:2026-03-02", "Customer no.": "D7",
                     "Invoices": "INV-1, INV-2, INV-3, INV-4 (+2)"}
    hidden = dict(compose.info_block(ENGLISH, BRITISH, dt.date(2026, 3, 2), "k", debtor, items, False))
    assert "Invoices" not in hidden
    # A long key goes on two lines, broken before its date, never inside it.
    long_key = "12:reconciliation-statement:letter:2026-03-02"
    wrapped = dict(compose.info_block(ENGLISH, BRITISH, dt.date(2026, 3, 2), long_key, debtor, items, False))
    assert wrapped["Our reference"] == "12:reconciliation-statement:letter:\n2026-03-02"
    # A timed occurrence too: broken before its date, not inside its time (it used to read "...T09:\n30").
    timed = dict(compose.info_block(ENGLISH, BRITISH, dt.date(2026, 3, 2), long_key + "T09:30", debtor, items, False))
    assert timed["Our reference"] == "12:reconciliation-statement:letter:\n2026-03-02T09:30"


def test_batch_names_are_safe_file_names():
    assert safe_name("7:demand:letter:2026-01-05T09:00") == "7_demand_letter_2026-01-05T09_00"
    assert batch_id(dt.date(2026, 3, 2), "host.example:4242:ab12cd34") == "2026-03-02-host.example_4242_ab12cd34"


def test_the_engines_figures_are_rewritten_for_the_letter_and_never_added_for_a_third_party():
    from dunning.plugins.letter.template_values import written_out
    from dunning.templates import audience_context, case_context
    from dunning.models import Case

    case = Case(id=1, debtor_id="D7", currency="EUR")
    items = [_obligation("INV-1", 40000), _obligation("INV-3", 35000, due=dt.date(2026, 4, 15))]
    context = case_context(case, Debtor(id="D7", name="Acme", locale="de_DE"), items, 29, dt.date(2026, 3, 2))
    german = written_out(context, items, formats.for_locale("de_DE"), dt.date(2026, 3, 2))
    assert (german["overdue"], german["not_yet_due"], german["balance"]) == ("400,00\u00a0€", "350,00\u00a0€",
                                                                              "750,00\u00a0€")
    assert german["next_due_on"] == "15. April 2026"
    assert [(i["reference"], i["open"], i["due"]) for i in german["later_obligations"]] == [
        ("INV-3", "350,00\u00a0€", "15. April 2026")]
    hidden = audience_context(context, "contacts", "none")
    assert written_out(hidden, items, formats.for_locale("de_DE"), dt.date(2026, 3, 2)) == {}
