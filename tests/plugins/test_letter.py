"""The letter channel end to end: real runs, real PDFs read back with pypdf, real crashes in a child process."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
import structlog
from pypdf import PdfReader

import dunning.plugins.letter as letter_plugin
from dunning import DeliveryContext, RunContext, dispatch, money, operations
from dunning.channels import DeliveryStatus
from dunning.models import ActionStatus, Case, Contact, ContactKind, ContactRole, Debtor, DebtorKind
from dunning.plugins.letter import fonts
from dunning.plugins.letter import store as letter_store
from dunning.runtime import Runtime
from dunning.store import ImportedObligation
from tests.conftest import Project, write_csv, row
from tests import runtime_on_both

# Every runtime this module's tests open: on a SQLite file, then on a PostgreSQL database.
dunning_runtime = runtime_on_both.dunning_runtime


UTC = dt.UTC
DUE = dt.date(2026, 3, 1)
DAY1 = dt.datetime(2026, 3, 2, 9, tzinfo=UTC)
MM = 72 / 25.4

SETTINGS: dict[str, Any] = {
    "sender_name": "Northwind Supplies Ltd",
    "sender_address": ["1 Quay Street", "Bristol BS1 4DJ", "United Kingdom"],
    "sender_phone": "+44 117 496 0000",
    "sender_email": "accounts@northwind.example",
    "signatory_name": "Dana Whitfield",
    "signatory_title": "Credit Controller",
}
LEGAL = {"firm_name": "Harbour & Lane LLP", "firm_address": "9 Castle Street, Bristol BS1 3AA", "lawyer": "Priya Raman"}
ADDRESS = "Accounts Payable\n12 Harbour Road, Leeds LS1 4AB, United Kingdom"


def policy(template: str) -> str:
    return f'name = "letters"\n[[steps]]\nname = "demand"\ndpd = 1\nchannels = ["letter"]\ntemplate = "{template}"\n'


def open_runtime(dunning_runtime: Any, template: str = "formal-demand", **settings: Any) -> Runtime:
    legal = settings.pop("legal", None)
    channel_settings = {"letter": {**SETTINGS, **settings}} | ({"legal": legal} if legal else {})
    return dunning_runtime(plugins=[letter_plugin], policy=policy(template), enabled=["letter"],
                           channel_settings=channel_settings)


def add_case(rt: Runtime, debtor_id: str = "D1", name: str = "Acme Trading Ltd", address: str | None = ADDRESS,
             items: Sequence[tuple[str, str]] = (("INV-1", "1200.00"), ("INV-2", "350.50")),
             locale: str | None = None) -> Case:
    contacts = [Contact(debtor_id=debtor_id, kind=ContactKind.POSTAL, value=address)] if address else []
    contacts.append(Contact(debtor_id=debtor_id, kind=ContactKind.EMAIL, value=f"{debtor_id.lower()}@example.com"))
    debtor = Debtor(id=debtor_id, name=name, kind=DebtorKind.COMPANY, locale=locale)
    imported = [ImportedObligation(debtor=debtor, contacts=contacts, reference=ref, amount=money.parse(amount, "EUR"),
                                   currency="EUR", issued_on=dt.date(2026, 1, 30), due_on=DUE)
                for ref, amount in items]
    moment = dt.datetime(2026, 2, 1, 8, tzinfo=UTC)
    _, touched = rt.store.import_obligations(imported, moment, moment.date())
    return rt.store.case(touched[0])


def text_of(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def sent_events(rt: Runtime) -> list[Any]:
    return [e for e in rt.store.events(kind="sent") if e.channel == "letter"]


def letters_folder(rt: Runtime) -> Path:
    return rt.config.base_dir / "letters"


def batch_files(rt: Runtime, suffix: str) -> list[Path]:
    return sorted((letters_folder(rt) / "batches").glob(f"*{suffix}"))


# --- one letter ------------------------------------------------------------------------------------


def test_a_formal_demand_names_the_debtor_the_amounts_the_references_and_the_total(dunning_runtime):
    rt = open_runtime(dunning_runtime)
    case = add_case(rt)
    summary = dispatch.run(rt, DAY1)
    assert (summary.sent, summary.failed) == (1, 0)
    [event] = sent_events(rt)
    key = f"{case.id}:demand:letter:2026-03-02"
    path = letters_folder(rt) / f"{case.id}" / f"{case.id}_demand_letter_2026-03-02.pdf"
    assert event.data["reference"] == f"{case.id}/{case.id}_demand_letter_2026-03-02.pdf"
    assert event.data["path"] == str(path) and event.data["template"] == "formal-demand"
    assert event.data["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert event.data["pages"] == len(PdfReader(path).pages) == 1
    assert event.data["address"] == ["Acme Trading Ltd", "Accounts Payable", "12 Harbour Road", "Leeds LS1 4AB",
                                     "United Kingdom"]
    text = text_of(path)
    for expected in ("Northwind Supplies Ltd", "Phone: +44 117 496 0000", "Acme Trading Ltd", "12 Harbour Road",
                     "Formal demand for payment of €1,550.50", "Dear Acme Trading Ltd,", key, "2 March 2026",
                     "INV-1", "INV-2", "€1,200.00", "€350.50", "Total", "€1,550.50",
                     "16 March 2026",  # the deadline: pay_within_days (14) after the letter's date
                     "Dana Whitfield", "Credit Controller"):
        assert expected in text, expected
    # The table's total row: both the amounts and the open amounts add up.
    assert "Total €1,550.50 €1,550.50" in " ".join(text.split())


def _preset_letter_templates() -> list[str]:
    from dunning.policy import PRESETS, load_policy

    return sorted({step.template for name in PRESETS for step in load_policy(name).steps
                   if "letter" in step.channels and step.template})


def test_every_letter_the_presets_name_renders_in_english_and_chinese(dunning_runtime):
    templates = _preset_letter_templates()
    assert {"advance-notice", "warning", "formal-demand", "reconciliation-statement", "lawyers-letter"} <= set(
        templates
    )
    rt = open_runtime(dunning_runtime, legal=LEGAL)
    cases = {None: add_case(rt, debtor_id="EN"), "zh_CN": add_case(rt, debtor_id="ZH", name="宏达贸易", locale="zh_CN")}
    for n, template in enumerate(templates):
        for locale, case in cases.items():
            action = attrs.evolve(_action(case), template=template, key=f"{case.id}:{template}:letter:{n}")
            ctx = _context(rt, case, action)
            delivery = letter_plugin.LetterChannel().send(action, case, ctx)
            assert delivery.status is DeliveryStatus.SENT, (template, locale, delivery.error)
            text = text_of(Path(delivery.data["path"]))
            assert ("宏达贸易" if locale else "Acme Trading Ltd") in text and "€1,550.50" in text, (template, locale)
            if locale:  # the Chinese template, not the English one in a Chinese font
                assert "Dear" not in text and "特此" in text, template


def test_the_address_sits_in_the_envelope_window(dunning_runtime):
    rt = open_runtime(dunning_runtime)
    add_case(rt)
    dispatch.run(rt, DAY1)
    page = PdfReader(sent_events(rt)[0].data["path"]).pages[0]
    height = float(page.mediabox.height)
    where: dict[str, tuple[float, float]] = {}

    def visit(text: str, cm: Any, tm: Any, font: Any, size: Any) -> None:
        if text.strip():
            where.setdefault(text.strip(), (tm[4] / MM, (height - tm[5]) / MM))

    page.extract_text(visitor_text=visit)
    assert round(height / MM) == 297  # A4 by default
    # DIN 5008 form B window: 20-105 mm from the left, 45-90 mm from the top.
    for line in ("Acme Trading Ltd", "Accounts Payable", "12 Harbour Road", "Leeds LS1 4AB"):
        x, y = where[line]
        assert 20 <= x <= 105 and 45 <= y <= 90, (line, x, y)


def test_letter_size_paper_when_configured(dunning_runtime):
    rt = open_runtime(dunning_runtime, page_size="letter")
    add_case(rt)
    dispatch.run(rt, DAY1)
    box = PdfReader(sent_events(rt)[0].data["path"]).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (612, 792)


def test_the_same_letter_renders_to_identical_bytes(dunning_runtime, tmp_path):
    rt = open_runtime(dunning_runtime)
    add_case(rt)
    dispatch.run(rt, DAY1)
    first = Path(sent_events(rt)[0].data["path"]).read_bytes()
    # A second database, the same input: byte for byte the same file.
    config = attrs.evolve(rt.config, channel_settings={"letter": {**SETTINGS, "folder": str(tmp_path / "again")}})
    with Runtime(config, db_path=tmp_path / "again.db", extra_plugins=[letter_plugin]) as other:
        add_case(other)
        dispatch.run(other, DAY1)
        again = Path(sent_events(other)[0].data["path"])
    assert again != Path(sent_events(rt)[0].data["path"]) and again.read_bytes() == first


def test_a_chinese_letter_embeds_a_cjk_font_and_its_text_extracts(dunning_runtime):
    rt = open_runtime(dunning_runtime)
    add_case(rt, name="上海宏达贸易有限公司", address="上海市浦东新区\n世纪大道100号\n200120", locale="zh_CN")
    assert dispatch.run(rt, DAY1).sent == 1
    path = Path(sent_events(rt)[0].data["path"])
    text = text_of(path)
    for expected in ("正式催款函", "上海宏达贸易有限公司：", "世纪大道100号", "我方现正式要求贵方", "2026年3月16日",
                     "合计", "€1,550.50", "INV-2", "2026年3月1日"):
        assert expected in text, expected
    reader = PdfReader(path)
    font_files = [f["/FontDescriptor"] for f in _fonts(reader) if "/FontDescriptor" in f]
    assert any("/FontFile2" in d for d in font_files)  # an embedded TrueType font


def _fonts(reader: PdfReader) -> list[Any]:
    found = []
    for font in reader.pages[0]["/Resources"]["/Font"].values():
        font = font.get_object()
        found.append(font)
        for descendant in font.get("/DescendantFonts", []):
            found.append(descendant.get_object())
    return found


def test_a_chinese_letter_without_any_cjk_font_fails_once_naming_the_setting(dunning_runtime, monkeypatch):
    monkeypatch.setattr(fonts, "PACKAGED_FONT", ("no_such_font_package", "x.ttc"))
    monkeypatch.setattr(fonts, "SYSTEM_FONTS", ())
    rt = open_runtime(dunning_runtime)
    add_case(rt, locale="zh_CN")
    assert dispatch.run(rt, DAY1).failed == 1
    [failed] = rt.store.events(kind="delivery_failed")
    assert failed.data["final"] is True  # retrying cannot conjure a font
    assert "cjk_font" in failed.data["error"] and "fonts-wqy-microhei" in failed.data["error"]
    assert not letters_folder(rt).exists()


def test_the_reconciliation_statement_lists_paid_invoices_payments_and_a_slip_to_sign(dunning_runtime):
    rt = open_runtime(dunning_runtime, template="reconciliation-statement")
    case = add_case(rt)
    paid_at = dt.datetime(2026, 2, 20, 9, tzinfo=UTC)
    operations.pay(rt, case.id, "1200.00", at=paid_at, now=paid_at, reference="BANK-778")
    assert dispatch.run(rt, DAY1).sent == 1
    text = " ".join(text_of(Path(sent_events(rt)[0].data["path"])).split())
    for expected in ("Statement of account: please confirm the balance of €350.50",
                     "INV-1 30 Jan 2026 1 Mar 2026 €1,200.00 €1,200.00 €0.00",  # the paid invoice too
                     "Payments received", "20 Feb 2026 BANK-778 €1,200.00",
                     "Balance on 2 March 2026: €350.50",
                     "We confirm that the balance of €350.50 on 2 March 2026 shown above is correct.",
                     "We dispute this balance for the following reason:", "Signature and company stamp"):
        assert expected in text, expected


def test_the_lawyers_letter_is_written_by_the_firm_named_in_the_legal_settings(dunning_runtime):
    rt = open_runtime(dunning_runtime, template="lawyers-letter", legal=LEGAL)
    add_case(rt)
    assert dispatch.run(rt, DAY1).sent == 1
    path = Path(sent_events(rt)[0].data["path"])
    text = " ".join(text_of(path).split())
    for expected in ("Harbour & Lane LLP", "9 Castle Street", "We act for Northwind Supplies Ltd",
                     "Priya Raman", "on behalf of Northwind Supplies Ltd", "€1,550.50"):
        assert expected in text, expected
    assert "Dana Whitfield" not in text  # the lawyer signs, not the credit controller
    assert PdfReader(path).metadata.author == "Harbour & Lane LLP"


def test_a_lawyers_letter_without_a_firm_fails_naming_the_settings(dunning_runtime):
    rt = open_runtime(dunning_runtime, template="lawyers-letter")
    add_case(rt)
    assert dispatch.run(rt, DAY1).failed == 1
    [failed] = rt.store.events(kind="delivery_failed")
    assert "firm_name" in failed.data["error"] and "[channels.legal]" in failed.data["error"]
    assert failed.data["final"] is True


def test_an_administrators_letter_opts_into_blocks_and_may_override_labels(dunning_runtime, tmp_path):
    own = tmp_path / "templates" / "letter"
    own.mkdir(parents=True)
    (own / "courtesy.txt").write_text(
        "Subject: Your account with us\n\nDear {{ debtor.name }},\n\n[[statement]]\n\nKind regards,\n", encoding="utf-8"
    )
    (own / "letter-labels.toml").write_text('total = "Sum"\n', encoding="utf-8")
    rt = dunning_runtime(plugins=[letter_plugin], policy=policy("courtesy"), enabled=["letter"],
                         channel_settings={"letter": SETTINGS}, templates=tmp_path / "templates")
    add_case(rt)
    assert dispatch.run(rt, DAY1).sent == 1
    text = " ".join(text_of(Path(sent_events(rt)[0].data["path"])).split())
    assert "Your account with us" in text and "No payments have been received" in text
    assert "Sum €1,550.50" in text and "Kind regards, Dana Whitfield" in text


def test_without_a_postal_address_the_core_skips_the_letter(dunning_runtime):
    rt = open_runtime(dunning_runtime)
    add_case(rt, address=None)
    summary = dispatch.run(rt, DAY1)
    assert (summary.sent, summary.skipped) == (0, 1)
    [skipped] = rt.store.events(kind="skipped")
    assert skipped.data["reason"] == "no_contact" and "postal" in skipped.data["detail"]
    assert not letters_folder(rt).exists()


def test_a_third_party_letter_never_shows_an_undisclosed_debt(dunning_runtime, tmp_path):
    # A template that names no debt detail itself, but asks for the obligations table.
    own = tmp_path / "templates" / "letter"
    own.mkdir(parents=True)
    (own / "whereabouts.txt").write_text("Subject: Please ask {{ debtor.name }} to contact us\n\nHello,\n\n"
                                         "[[obligations]]\n", encoding="utf-8")
    rt = dunning_runtime(plugins=[letter_plugin], policy=policy("whereabouts"), enabled=["letter"],
                         channel_settings={"letter": SETTINGS}, templates=tmp_path / "templates")
    case = add_case(rt)
    contact = Contact(debtor_id="D1", kind=ContactKind.POSTAL, value="3 Elm Row, Leeds", role=ContactRole.SPOUSE,
                      name="Sam Doe")
    action = attrs.evolve(_action(case, audience="contacts"), template="whereabouts")
    ctx = _context(rt, case, action, contacts=[contact], audience="contacts")
    delivery = letter_plugin.LetterChannel().send(action, case, ctx)
    assert delivery.status is DeliveryStatus.FAILED and delivery.retry is False
    assert "third party" in delivery.error and "[[obligations]]" in delivery.error
    assert not letters_folder(rt).exists()


# --- the print batch -------------------------------------------------------------------------------


def test_a_run_writes_one_batch_with_every_letter_and_a_manifest(dunning_runtime):
    rt = open_runtime(dunning_runtime)
    cases = [add_case(rt, debtor_id=f"D{i}", name=f"Customer {i} Ltd") for i in range(1, 4)]
    assert dispatch.run(rt, DAY1).sent == 3
    [pdf], [manifest], [sums] = batch_files(rt, ".pdf"), batch_files(rt, ".csv"), batch_files(rt, ".sha256")
    assert pdf.name.startswith("2026-03-02-")
    letters = {e.data["reference"]: e for e in sent_events(rt)}
    with manifest.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["sequence"]) for r in rows] == [1, 2, 3]
    assert {r["case_id"] for r in rows} == {str(c.id) for c in cases}
    assert {r["debtor_name"] for r in rows} == {"Customer 1 Ltd", "Customer 2 Ltd", "Customer 3 Ltd"}
    for r in rows:
        event = letters[r["file"]]
        assert r["key"] == event.data["key"] and r["sha256"] == event.data["sha256"]
        assert r["batch_id"] == pdf.stem and int(r["pages"]) == event.data["pages"]
        assert [r[f"address_{i}"] for i in range(1, 6)] == event.data["address"]
    assert [int(r["first_page"]) for r in rows] == [1, 2, 3]
    batch = PdfReader(pdf)
    assert len(batch.pages) == sum(e.data["pages"] for e in letters.values()) == 3
    for r in rows:  # each letter's page is in the batch where the manifest says
        assert r["debtor_name"] in batch.pages[int(r["first_page"]) - 1].extract_text()
    assert sums.read_text().splitlines() == [
        f"{hashlib.sha256(pdf.read_bytes()).hexdigest()}  {pdf.name}",
        f"{hashlib.sha256(manifest.read_bytes()).hexdigest()}  {manifest.name}",
    ]
    [recorded] = letter_store.batches(rt.store.db)
    assert (recorded.status, recorded.letters, recorded.pages) == ("written", 3, 3)


def test_a_rerun_writes_no_second_copy_and_no_empty_batch(dunning_runtime):
    rt = open_runtime(dunning_runtime)
    add_case(rt)
    dispatch.run(rt, DAY1)
    files = sorted(p for p in letters_folder(rt).rglob("*") if p.is_file())
    stamps = [p.stat().st_mtime_ns for p in files]
    again = dispatch.run(rt, DAY1)
    later = dispatch.run(rt, DAY1 + dt.timedelta(days=1))
    assert (again.sent, later.sent) == (0, 0)
    assert sorted(p for p in letters_folder(rt).rglob("*") if p.is_file()) == files
    assert [p.stat().st_mtime_ns for p in files] == stamps
    assert len(letter_store.batches(rt.store.db)) == 1


def test_a_letter_already_in_a_batch_is_not_printed_again_when_resent(dunning_runtime):
    rt = open_runtime(dunning_runtime)
    case = add_case(rt)
    dispatch.run(rt, DAY1)
    [event] = sent_events(rt)
    action = rt.store.actions(case_id=case.id)[0]
    # The same key sent again (a provider-side retry): the file is left alone and nothing is queued.
    delivery = letter_plugin.LetterChannel().send(action, case, _context(rt, case, action))
    assert delivery.status is DeliveryStatus.SENT and delivery.data["sha256"] == event.data["sha256"]
    assert delivery.data["batch"] == letter_store.batches(rt.store.db)[0].id
    assert letter_store.waiting(rt.store.db) == []


CHILD_RUN = """
import datetime as dt, json, os, sys
from pathlib import Path
from dunning import dispatch
from dunning.config import Config
from dunning.runtime import Runtime
import dunning.plugins.letter as plugin
from dunning.plugins.letter.channel import LetterChannel

folder, mode, settings = Path(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3])
# The test's database: its SQLite file, or a postgresql:// URL (which Runtime opens as text).
database = sys.argv[4] if sys.argv[4].startswith("postgresql://") else Path(sys.argv[4])

if mode == "die-before-batch":
    LetterChannel.finish_run = lambda self, ctx: os._exit(9)
if mode == "die-after-send":
    send = LetterChannel.send
    def send_then_die(self, action, case, ctx):
        send(self, action, case, ctx)
        os._exit(9)
    LetterChannel.send = send_then_die

config = Config(path=folder / "dunning.toml", policy=str(folder / "policy.toml"), db=folder / "dunning.db",
                enabled_channels=("letter",), channel_settings={"letter": settings})
with Runtime(config, db_path=database, extra_plugins=[plugin]) as rt:
    dispatch.run(rt, dt.datetime(2026, 3, 2, 9, tzinfo=dt.timezone.utc))
"""


def _child(tmp_path: Path, mode: str, database: str | Path) -> subprocess.CompletedProcess[str]:
    (tmp_path / "policy.toml").write_text(policy("formal-demand"), encoding="utf-8")
    return subprocess.run([sys.executable, "-c", CHILD_RUN, str(tmp_path), mode, json.dumps(SETTINGS), str(database)],
                          capture_output=True, text=True, env={"DUNNING_LOAD_PLUGINS": "", "PATH": ""},
                          cwd=Path(__file__).parents[2])


def test_letters_of_a_run_that_died_before_its_batch_go_into_the_next_runs_batch(dunning_runtime, dunning_database,
                                                                                tmp_path):
    rt = open_runtime(dunning_runtime)
    first = add_case(rt, debtor_id="D1")
    rt.close()
    died = _child(tmp_path, "die-before-batch", dunning_database)
    assert died.returncode == 9, died.stderr
    rt = open_runtime(dunning_runtime)
    assert len(sent_events(rt)) == 1 and batch_files(rt, ".pdf") == []
    second = add_case(rt, debtor_id="D2", name="Beta Components GmbH")
    assert dispatch.run(rt, DAY1 + dt.timedelta(hours=1)).sent == 1
    [pdf], [manifest] = batch_files(rt, ".pdf"), batch_files(rt, ".csv")
    with manifest.open(encoding="utf-8-sig", newline="") as f:
        assert [int(r["case_id"]) for r in csv.DictReader(f)] == [first.id, second.id]
    assert len(PdfReader(pdf).pages) == 2


def test_a_resend_after_a_crash_rewrites_the_identical_file_and_prints_it_once(dunning_runtime, dunning_database,
                                                                              tmp_path):
    rt = open_runtime(dunning_runtime)
    case = add_case(rt)
    rt.close()
    died = _child(tmp_path, "die-after-send", dunning_database)
    assert died.returncode == 9, died.stderr
    written = next((tmp_path / "letters" / str(case.id)).glob("*.pdf"))
    before = hashlib.sha256(written.read_bytes()).hexdigest()
    rerun = _child(tmp_path, "ok", dunning_database)
    assert rerun.returncode == 0, rerun.stderr
    rt = open_runtime(dunning_runtime)
    [event] = sent_events(rt)  # recorded once
    assert event.data["sha256"] == before == hashlib.sha256(written.read_bytes()).hexdigest()
    assert [q.key for q in letter_store.letters(rt.store.db, every_state=True)] == [event.data["key"]]
    [pdf] = batch_files(rt, ".pdf")
    assert len(PdfReader(pdf).pages) == 1


def test_a_letter_whose_action_ended_unsent_is_withdrawn_not_printed(dunning_runtime):
    rt = open_runtime(dunning_runtime)
    case = add_case(rt)
    dispatch.plan(rt, DAY1, dispatch.RunSummary())
    [action] = rt.store.actions(case_id=case.id)
    # Written and queued, then the process died before recording it; meanwhile the case was paid.
    letter_plugin.LetterChannel().send(action, case, _context(rt, case, action))
    operations.pay(rt, case.id, "1550.50", at=DAY1, now=DAY1)
    assert rt.store.action(action.id).status is ActionStatus.CANCELLED
    # The end of the next run, with the store to read the actions' outcomes from.
    run = RunContext(now=DAY1, run_id="next-run", settings=rt.config.settings_for("letter"),
                     config=rt.config, db=rt.store.db, log=structlog.get_logger(), store=rt.store)
    letter_plugin.LetterChannel().finish_run(run)
    assert batch_files(rt, ".pdf") == []
    [queued] = letter_store.letters(rt.store.db, every_state=True)
    assert queued.status == letter_store.WITHDRAWN


def test_a_letter_still_waiting_to_be_recorded_is_held_back_from_the_batch(dunning_runtime):
    rt = open_runtime(dunning_runtime)
    case = add_case(rt)
    dispatch.plan(rt, DAY1, dispatch.RunSummary())
    [action] = rt.store.actions(case_id=case.id)
    letter_plugin.LetterChannel().send(action, case, _context(rt, case, action))  # written; not yet recorded
    run = RunContext(now=DAY1, run_id="other-run", settings=rt.config.settings_for("letter"),
                     config=rt.config, db=rt.store.db, log=structlog.get_logger(), store=rt.store)
    letter_plugin.LetterChannel().finish_run(run)
    assert batch_files(rt, ".pdf") == []
    assert [q.status for q in letter_store.letters(rt.store.db, every_state=True)] == [letter_store.QUEUED]
    # Its own run records it and batches it.
    assert dispatch.run(rt, DAY1).sent == 1
    assert len(batch_files(rt, ".pdf")) == 1


def test_a_batch_left_half_written_by_a_dead_run_is_finished_by_the_next(dunning_runtime):
    rt = open_runtime(dunning_runtime)
    case = add_case(rt)
    dispatch.plan(rt, DAY1, dispatch.RunSummary())
    [action] = rt.store.actions(case_id=case.id)
    letter_plugin.LetterChannel().send(action, case, _context(rt, case, action))
    # A run claimed the letter for its batch, then died before writing the batch's files.
    letter_store.open_batch(rt.store.db, "2026-03-02-dead-run", "dead-run", [action.key], DAY1)
    assert dispatch.run(rt, DAY1).sent == 1  # the re-send finds the letter already in a batch
    assert [p.name for p in batch_files(rt, ".pdf")] == ["2026-03-02-dead-run.pdf"]
    assert [(b.id, b.status, b.letters) for b in letter_store.batches(rt.store.db)] == [
        ("2026-03-02-dead-run", "written", 1)]


# --- the command line ------------------------------------------------------------------------------


def _letter_config(extra: str = "") -> str:
    return ('\n[channels.letter]\nsender_name = "Northwind Supplies Ltd"\n'
            'sender_address = "1 Quay Street, Bristol BS1 4DJ"\n' + extra)


def test_a_bad_setting_stops_the_command_naming_the_key(project: Project, monkeypatch):
    monkeypatch.setenv("DUNNING_LOAD_PLUGINS", "letter")
    project.write_config(enabled=["letter"], extra=_letter_config('page_size = "A5"\n'))
    result = project("run", expect=1)
    assert "channels.letter: 'page_size' must be one of 'A4', 'letter'" in result.output
    assert "letter_print_queue" not in result.output


def test_import_run_and_list_the_batch_from_the_command_line(project: Project, monkeypatch):
    monkeypatch.setenv("DUNNING_LOAD_PLUGINS", "letter")
    from dunning.cli import cli
    from dunning.plugins.letter.commands import add_commands

    if "letters" not in cli.commands:  # the CLI was imported while no installed plugin could add commands
        monkeypatch.setattr(cli, "commands", dict(cli.commands))
        add_commands(cli)
    project.folder.joinpath("policy.toml").write_text(policy("formal-demand"), encoding="utf-8")
    project.write_config(policy="policy.toml", enabled=["letter"], extra=_letter_config())
    write_csv(project.folder / "debts.csv", [row("C001", address="Acme Ltd, 12 Harbour Road, Leeds LS1 4AB",
                                                 due_on="2026-03-01")])
    project("import", str(project.folder / "debts.csv"))
    out = json.loads(project("run", "--json", now="2026-03-02T09:00:00+00:00").stdout)
    assert out["sent"] == 1
    [batch] = json.loads(project("letters", "batches", "--json").stdout)
    assert batch["status"] == "written" and batch["letters"] == 1 and batch["pdf"].endswith(".pdf")
    assert "Acme Ltd" in PdfReader(project.folder / "letters" / batch["pdf"]).pages[0].extract_text()
    assert json.loads(project("letters", "queue", "--json").stdout) == []
    [queued] = json.loads(project("letters", "queue", "--all", "--json").stdout)
    assert queued["status"] == "batched" and queued["batch"] == batch["id"]
    assert "Usage" in project("letters", "--help").output


# --- helpers for calling send directly -------------------------------------------------------------


def _action(case: Case, audience: str = "debtor") -> Any:
    from dunning.models import Action, ActionKind

    return Action(key=f"{case.id}:demand:letter:2026-03-02", case_id=case.id, kind=ActionKind.OUTREACH, step="demand",
                  planned_for=DAY1.date(), not_before=DAY1, status=ActionStatus.SENDING, channel="letter",
                  template="formal-demand", options={"audience": audience}, id=1)


def _context(rt: Runtime, case: Case, action: Any, contacts: Sequence[Contact] | None = None,
             audience: str = "debtor") -> DeliveryContext:
    from dunning.templates import audience_context, case_context

    debtor = rt.store.debtor(case.debtor_id)
    obligations = rt.store.obligations(case.id)
    context = audience_context(case_context(case, debtor, obligations, 1, DAY1.date(), {"step": action.step}),
                               audience, "none")
    channel = rt.channel("letter")
    return DeliveryContext(
        now=DAY1, key=action.key, debtor=debtor, contacts=list(contacts or rt.store.contacts(debtor.id)),
        obligations=obligations, dpd=1, settings=rt.config.settings_for("letter"), config=rt.config,
        db=rt.store.db, log=structlog.get_logger(), template_context=context,
        render=lambda template, suffix, ctx_: rt.render(channel, template, suffix, ctx_),
        audience=audience, run_id="test-run", store=rt.store,
    )
