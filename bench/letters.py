"""Letters per second through the letter channel, beside bare reportlab drawing the same page.

    .venv/bin/python bench/letters.py --letters 500 [--template formal-demand] [--json] [--keep DIR]

In one run:

1. set-up (not timed): a temporary folder with a SQLite store, the letter
   channel enabled, N debtors with three open invoices and a postal address
   each, and one ``formal-demand`` letter planned per case; the contexts the
   core would hand to ``send`` are built for every action;
2. **plugin**: ``LetterChannel.send`` for every action, one after another in
   this process (in five rounds, taking turns with the yardstick over the
   same fifth of the letters, so a change in the machine's load weighs on
   both alike): rendering the Jinja template and the labels, composing the
   letter, laying it out with platypus, writing the PDF file, hashing it and
   queueing it in the plugin's table;
3. **yardstick**: the same page content (the strings the plugin composed,
   taken before timing) drawn by a short hand-written platypus program, the
   least any program must do for this page: a ``BaseDocTemplate`` with a
   first-page callback for the letterhead, the window address and the
   reference block, then the subject, the paragraphs, the invoice table and
   the signature, written to a file;
4. **plugin, 2 processes**: two worker processes (``ProcessPoolExecutor``,
   spawned), each with its own store connection and contexts built before
   the clock starts, sending the same N letters through the plugin.

The target is plugin >= 0.7 x yardstick. Figures vary from machine to
machine and run to run; nothing asserts on them (see bench/README.md).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

# Only the letter plugin takes part, whatever else is installed.
os.environ["DUNNING_LOAD_PLUGINS"] = ""
import structlog

import dunning.plugins.letter as letter_plugin
from dunning import DeliveryContext, dispatch, money
from dunning.config import Config
from dunning.models import Contact, ContactKind, Debtor, DebtorKind
from dunning.plugins.letter.channel import LetterChannel, make_letter
from dunning.plugins.letter.settings import LetterSettings
from dunning.runtime import Runtime
from dunning.store import ImportedObligation
from dunning.templates import audience_context, case_context

UTC = dt.UTC
DUE_ON = dt.date(2026, 3, 1)
SEND_AT = dt.datetime(2026, 3, 2, 9, tzinfo=UTC)
ROUNDS = 5
SETTINGS = {
    "sender_name": "Northwind Supplies Ltd",
    "sender_address": ["1 Quay Street", "Bristol BS1 4DJ", "United Kingdom"],
    "sender_phone": "+44 117 496 0000",
    "sender_email": "accounts@northwind.example",
    "signatory_name": "Dana Whitfield",
    "signatory_title": "Credit Controller",
}
STREETS = ("Harbour Road", "Mill Lane", "Station Street", "Castle Row", "Market Place")
TOWNS = ("Leeds LS1 4AB", "York YO1 7HH", "Hull HU1 2AA", "Bath BA1 1LT", "Derby DE1 2BH")


def config_for(folder: Path, template: str, letters_folder: str = "letters") -> Config:
    (folder / "policy.toml").write_text(
        f'name = "bench"\n[[steps]]\nname = "demand"\ndpd = 1\nchannels = ["letter"]\ntemplate = "{template}"\n',
        encoding="utf-8")
    return Config(path=folder / "dunning.toml", policy=str(folder / "policy.toml"), db=folder / "dunning.db",
                  enabled_channels=("letter",), channel_settings={"letter": {**SETTINGS, "folder": letters_folder}})


def populate(rt: Runtime, count: int) -> None:
    items = []
    for n in range(1, count + 1):
        debtor_id = f"C{n:06d}"
        debtor = Debtor(id=debtor_id, name=f"Customer {n} Trading Ltd", kind=DebtorKind.COMPANY)
        address = f"Accounts Payable\n{n % 90 + 1} {STREETS[n % 5]}, {TOWNS[n % 5]}, United Kingdom"
        contacts = [Contact(debtor_id=debtor_id, kind=ContactKind.POSTAL, value=address)]
        for i, amount in enumerate(("1200.00", "350.50", "89.99")):
            items.append(ImportedObligation(debtor=debtor, contacts=contacts, reference=f"INV-{n:06d}-{i + 1}",
                                            amount=money.parse(amount, "EUR"), currency="EUR",
                                            issued_on=dt.date(2026, 1, 30), due_on=DUE_ON))
    moment = dt.datetime(2026, 2, 1, 8, tzinfo=UTC)
    rt.store.import_obligations(items, moment, moment.date())
    dispatch.plan(rt, SEND_AT, dispatch.RunSummary())


def contexts(rt: Runtime, run_id: str) -> list[tuple[Any, Any, DeliveryContext]]:
    """(action, case, context) for every planned letter, built as the core's delivery builds them."""
    channel = rt.channel("letter")
    out = []
    for action in rt.store.actions(statuses=["pending"]):
        case = rt.store.case(action.case_id)
        debtor = rt.store.debtor(case.debtor_id)
        obligations = rt.store.obligations(case.id)
        dpd = rt.dpd(case, SEND_AT)
        context = audience_context(case_context(case, debtor, obligations, dpd, rt.today(SEND_AT),
                                                {"step": action.step, "options": action.options, "sender": {}}),
                                   "debtor", "none")
        ctx = DeliveryContext(
            now=SEND_AT, key=action.key, debtor=debtor, contacts=rt.store.contacts(debtor.id), obligations=obligations,
            dpd=dpd, settings=rt.config.settings_for("letter"), config=rt.config, db=rt.store.db,
            log=structlog.get_logger(), template_context=context,
            render=lambda template, suffix, ctx_, _c=channel: rt.render(_c, template, suffix, ctx_),
            run_id=run_id, store=rt.store,
        )
        out.append((action, case, ctx))
    return out


def through_plugin(work: list[tuple[Any, Any, DeliveryContext]]) -> float:
    channel = LetterChannel()
    start = time.perf_counter()
    for action, case, ctx in work:
        delivery = channel.send(action, case, ctx)
        if delivery.error:
            raise SystemExit(f"letter for {ctx.key} failed: {delivery.error}")
    return time.perf_counter() - start


# --- the yardstick: the same page, drawn by a bare platypus program --------------------------------------


def page_content(work: list[tuple[Any, Any, DeliveryContext]]) -> list[dict[str, Any]]:
    """The strings each letter prints, as the plugin composed them (taken before any timing)."""
    from dunning.plugins.letter.content import Paragraph as Text

    pages = []
    for action, case, ctx in work:
        settings = LetterSettings.parse(ctx.settings, ctx.config.base_dir)
        letter = make_letter(action, case, ctx, settings, ctx.contacts_of("postal")[0])
        assert letter.obligations is not None
        pages.append({
            "name": letter.letterhead.name, "head": letter.letterhead.lines, "return": letter.letterhead.return_line,
            "recipient": letter.recipient, "info": letter.info, "subject": letter.text.subject,
            "paragraphs": [p.markup for p in letter.text.parts if isinstance(p, Text)],
            "table": [letter.obligations.header, *letter.obligations.rows, letter.obligations.total],
            "signature": letter.signature, "key": ctx.key,
        })
    return pages


def yardstick(pages: list[dict[str, Any]], folder: Path) -> float:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate, Paragraph, Spacer, Table, TableStyle

    body = ParagraphStyle("body", fontName="Helvetica", fontSize=10, leading=14, spaceAfter=8)
    bold = ParagraphStyle("bold", parent=body, fontName="Helvetica-Bold")
    cell = ParagraphStyle("cell", parent=body, fontSize=9, leading=11, spaceAfter=0)
    small = ParagraphStyle("small", parent=body, fontSize=8.5, leading=11, spaceAfter=0)
    width, height = A4
    folder.mkdir(parents=True, exist_ok=True)

    def first_page(canvas: Any, page: dict[str, Any]) -> None:
        canvas.setFont("Helvetica-Bold", 13)
        canvas.drawRightString(width - 20 * mm, height - 15 * mm, page["name"])
        canvas.setFont("Helvetica", 8.5)
        for i, line in enumerate(page["head"]):
            canvas.drawRightString(width - 20 * mm, height - 21 * mm - i * 3.6 * mm, line)
        canvas.setFont("Helvetica", 7)
        canvas.drawString(25 * mm, height - 60 * mm, page["return"])
        canvas.setFont("Helvetica", 10)
        for i, line in enumerate(page["recipient"]):
            canvas.drawString(25 * mm, height - 66 * mm - i * 12, line)
        info = Table([[Paragraph(a, small), Paragraph(b, small)] for a, b in page["info"]],
                     colWidths=[24 * mm, 41 * mm])
        _, h = info.wrapOn(canvas, 65 * mm, 40 * mm)
        info.drawOn(canvas, 125 * mm, height - 50 * mm - h)

    start = time.perf_counter()
    for page in pages:
        doc = BaseDocTemplate(
            str(folder / f"{page['key'].replace(':', '_')}.pdf"), pagesize=A4, invariant=1, title=page["subject"]
        )
        frame = Frame(25 * mm, 22 * mm, width - 45 * mm, height - 98.5 * mm - 22 * mm, id="f")
        doc.addPageTemplates([PageTemplate(id="p", frames=[frame], onPage=lambda c, d, p=page: first_page(c, p))])
        table = Table([[Paragraph(v, cell) for v in row] for row in page["table"]],
                      colWidths=[66 * mm, 33 * mm, 33 * mm, 33 * mm])
        table.setStyle(TableStyle([("LINEBELOW", (0, 0), (-1, 0), 0.8, "black"),
                                   ("LINEABOVE", (0, -1), (-1, -1), 0.8, "black")]))
        story: list[Any] = [Paragraph(page["subject"], bold)]
        paragraphs = page["paragraphs"]
        story += [Paragraph(p, body) for p in paragraphs[:2]] + [table, Spacer(1, 10)]
        story += [Paragraph(p, body) for p in paragraphs[2:]] + [Spacer(1, 16 * mm)]
        story += [Paragraph(line, body) for line in page["signature"]]
        doc.build(story)
    return time.perf_counter() - start


# --- two processes -----------------------------------------------------------------------------------------

_worker: dict[str, Any] = {}


def _start_worker(folder: str, template: str, barrier: Any) -> None:
    rt = Runtime(config_for(Path(folder), template, letters_folder="letters-parallel"),
                 extra_plugins=[letter_plugin])
    _worker["work"] = contexts(rt, f"bench-worker-{os.getpid()}")
    _worker["rt"] = rt
    through_plugin(_worker["work"][:3])  # warm: fonts, templates, the first file
    barrier.wait()


def _send_range(start: int, stop: int) -> tuple[int, float]:
    """Send a slice; returns how many and the CPU seconds this worker spent on them."""
    cpu = time.process_time()
    through_plugin(_worker["work"][start:stop])
    return stop - start, time.process_time() - cpu


def two_processes(folder: Path, template: str, count: int) -> tuple[float, float]:
    """Wall-clock seconds for all letters, and the CPU seconds the workers spent (their ratio: cores used)."""
    spawn = multiprocessing.get_context("spawn")
    barrier = spawn.Barrier(3)  # both workers and this process
    with ProcessPoolExecutor(max_workers=2, mp_context=spawn, initializer=_start_worker,
                             initargs=(str(folder), template, barrier)) as pool:
        # Each submit to a pool with no idle worker starts one: two submits, two workers,
        # each waiting at the barrier once its store is open and its contexts are built.
        pool.submit(int, 0)
        pool.submit(int, 0)
        barrier.wait(timeout=600)
        start = time.perf_counter()
        step = max(1, count // 40)
        results = [f.result() for f in [pool.submit(_send_range, i, min(i + step, count))
                                        for i in range(0, count, step)]]
        elapsed = time.perf_counter() - start
    assert sum(n for n, _ in results) == count
    return elapsed, sum(cpu for _, cpu in results)


# --- main --------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--letters", type=int, default=500, help="letters to render in each phase (default 500)")
    # The yardstick draws the obligations table: the letter types built around it.
    parser.add_argument("--template", default="formal-demand", choices=["formal-demand", "warning", "advance-notice"],
                        help="the letter type (default formal-demand)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--keep", metavar="DIR", help="work in DIR (must not exist) and keep the files")
    args = parser.parse_args(argv)
    if args.letters < 1:
        parser.error("--letters must be at least 1")
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="dunning-letters-"))
    if args.keep:
        folder.mkdir(parents=True)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))  # quiet: warnings and up
    try:
        figures = run(folder, args.letters, args.template)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(f"letters: {figures['letters']} ({figures['template']}, {figures['pages_per_letter']} page each, "
              f"{figures['kib_per_letter']} KiB)")
        print(f"{'plugin (send: template, layout, file, queue)':48} {figures['plugin_per_second']:8.1f} letters/s")
        print(f"{'yardstick (bare platypus, same page, to file)':48} {figures['yardstick_per_second']:8.1f} letters/s")
        print(f"{'plugin / yardstick':48} {figures['ratio']:8.2f}   (target >= 0.70)")
        print(f"{'plugin, 2 processes':48} {figures['two_processes_per_second']:8.1f} letters/s "
              f"({figures['two_process_speedup']:.2f}x one process; the workers used "
              f"{figures['two_processes_cores_used']:.2f} of {figures['cpus']} cores)")
        print(f"{'load average (1 min) at the end':48} {figures['load_average_1min']:8.2f}")
    return 0


def run(folder: Path, count: int, template: str) -> dict[str, Any]:
    log = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731
    log(f"set-up: {count} cases in {folder}")
    rt = Runtime(config_for(folder, template), extra_plugins=[letter_plugin])
    populate(rt, count)
    work = contexts(rt, "bench-run")
    pages = page_content(work)
    through_plugin(work[:3])  # warm-up: font metrics, Jinja's compiled templates, the folders
    yardstick([pages[0]] * 3, folder / "yardstick-warm")
    # Plugin and yardstick take turns over the same slices, so that a change in
    # the machine's load during the run weighs on both alike.
    log(f"plugin and yardstick, {ROUNDS} rounds in turn ...")
    plugin_seconds = yard_seconds = 0.0
    for r in range(ROUNDS):
        part = slice(r * count // ROUNDS, (r + 1) * count // ROUNDS)
        plugin_seconds += through_plugin(work[part])
        yard_seconds += yardstick(pages[part], folder / "yardstick")
    sample = next((folder / "letters").rglob("*.pdf"))
    from pypdf import PdfReader

    pages_per_letter = len(PdfReader(io.BytesIO(sample.read_bytes())).pages)
    rt.close()
    log("plugin, 2 processes ...")
    parallel_seconds, parallel_cpu = two_processes(folder, template, count)
    plugin_rate, yard_rate, parallel_rate = count / plugin_seconds, count / yard_seconds, count / parallel_seconds
    return {
        "letters": count, "template": template, "pages_per_letter": pages_per_letter,
        "kib_per_letter": round(sample.stat().st_size / 1024, 1),
        "plugin_seconds": round(plugin_seconds, 3), "plugin_per_second": round(plugin_rate, 1),
        "yardstick_seconds": round(yard_seconds, 3), "yardstick_per_second": round(yard_rate, 1),
        "ratio": round(plugin_rate / yard_rate, 3),
        "two_processes_seconds": round(parallel_seconds, 3), "two_processes_per_second": round(parallel_rate, 1),
        "two_process_speedup": round(parallel_rate / plugin_rate, 2),
        # Below 2 when something else runs on the machine: the workers got that many cores.
        "two_processes_cores_used": round(parallel_cpu / parallel_seconds, 2),
        "cpus": os.cpu_count(), "load_average_1min": round(os.getloadavg()[0], 2),
    }


if __name__ == "__main__":
    sys.exit(main())
