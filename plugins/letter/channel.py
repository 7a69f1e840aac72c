"""The ``letter`` channel: one PDF per action, and one print batch per run.

``send`` renders the action's template, lays the letter out for a window
envelope, writes ``<folder>/<case id>/<key>.pdf`` and queues it for
printing. ``finish_run`` joins every queued letter into the run's batch.
The file name comes from the action's idempotency key and the PDF is
deterministic, so a re-send after a crash rewrites the same file and the
queue keeps one row for it; a letter already handed over in a batch is
never queued again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from dunning import Delivery, DeliveryContext
from dunning.channels import RunContext
from dunning.models import Action, ActionStatus, Case, Contact, ContactRole
from dunning.plugins.letter import batch, compose, content, fonts, formats, labels, store, template_values
from dunning.plugins.letter.address import window_lines
from dunning.plugins.letter.settings import LetterSettings, check_settings

# Action states that mean the letter may still be recorded as sent (by a re-send after a crash).
_STILL_OPEN = {ActionStatus.PENDING, ActionStatus.SENDING, ActionStatus.AWAITING_APPROVAL}


class LetterFailure(Exception):
    """A letter that cannot be made; ``retry`` says whether trying again later can help."""

    def __init__(self, message: str, *, retry: bool):
        super().__init__(message)
        self.retry = retry


class LetterChannel:
    name = "letter"
    medium = "letter"
    in_doubt = "resend"  # a re-send finds the letter already written for its key and queues nothing twice
    deduplicates_by_key = True  # the same file and queue row for the same key: outcomes recorded per round
    needs: tuple[str, ...] = ("postal",)
    # Templates are found in this package's templates/ (after the administrator's folder).
    templates_module = "dunning.plugins.letter"
    template_suffixes = ("txt",)

    def check_settings(self, settings: Mapping[str, Any], config: Any = None) -> None:
        check_settings(settings, config.base_dir if config is not None else None)

    # --- one letter ------------------------------------------------------------------------------------

    def send(self, action: Action, case: Case, ctx: DeliveryContext) -> Delivery:
        try:
            settings = LetterSettings.parse(ctx.settings, ctx.config.base_dir, ctx.config.settings_for("legal"))
        except ValueError as exc:
            return Delivery.failed(f"channels.letter: {exc}", retry=False)
        postal = ctx.contacts_of("postal")
        if not postal:  # the core skips such actions before send; a direct caller gets a clear answer
            return Delivery.failed("no usable postal address for this letter", retry=False)
        relative = f"{case.id}/{batch.safe_name(ctx.key)}.pdf"
        path = settings.folder / relative
        earlier = store.queued(ctx.db, ctx.key)
        if earlier is not None and earlier.status == store.BATCHED:
            # Already handed to the printer in a batch: the same key is never printed twice.
            return Delivery.sent(reference=earlier.path, path=str(settings.folder / earlier.path),
                                 sha256=earlier.sha256, pages=earlier.pages, batch=earlier.batch)
        try:
            letter = make_letter(action, case, ctx, settings, postal[0])
            choice = fonts.choose(letter.texts(), letter.locale, settings.cjk_font, settings.cjk_font_index)
        except LetterFailure as exc:
            return Delivery.failed(str(exc), retry=exc.retry)
        except fonts.FontError as exc:
            return Delivery.failed(f"channels.letter: {exc}", retry=False)
        except (content.ContentError, labels.LabelsError) as exc:
            return Delivery.failed(f"template: {exc}")
        from dunning.plugins.letter import layout  # reportlab, imported where a letter is drawn

        pdf, pages = layout.render(letter, choice)
        batch.write_atomically(path, pdf)
        sha256 = hashlib.sha256(pdf).hexdigest()
        with ctx.transaction():
            store.put(ctx.db, store.QueuedLetter(key=ctx.key, case_id=case.id, path=relative, sha256=sha256,
                                                 pages=pages, debtor_name=ctx.debtor.name, address=letter.recipient),
                      ctx.run_id, ctx.now)
        # A deadline the letter states is one the engine keeps: it holds the stage change until after it.
        stated = {"deadline": letter.deadline[0].isoformat(), "deadline_stage": letter.deadline[1]} \
            if letter.deadline else {}
        return Delivery.sent(reference=relative, path=str(path), sha256=sha256, pages=pages,
                             address=list(letter.recipient), page_size=letter.page_size,
                             font=choice.path.name if choice.path else choice.regular, **stated)

    # --- the run's batch -------------------------------------------------------------------------------

    def finish_run(self, ctx: RunContext) -> None:
        """Write the run's print batch: every queued letter whose action was recorded as sent."""
        try:
            settings = LetterSettings.parse(ctx.settings, ctx.config.base_dir, ctx.config.settings_for("legal"))
        except ValueError as exc:
            ctx.log.warning("no print batch: bad settings", error=f"channels.letter: {exc}")
            return
        db = ctx.db
        for unfinished in store.batches(db, status=store.ASSEMBLING):  # a run died while writing its batch
            try:
                self._write(ctx, settings.folder, unfinished.id, store.in_batch(db, unfinished.id))
            except Exception as exc:  # stays assembling, tried again next run; today's batch still goes out
                ctx.log.error("cannot finish an earlier print batch", batch=unfinished.id, error=repr(exc))
        letters = self._recorded(ctx, store.waiting(db))
        letters, broken = batch.unchanged(settings.folder, letters)
        for letter, problem in broken:
            ctx.log.error("letter left out of the print batch", key=letter.key, case_id=letter.case_id, problem=problem)
        if not letters:
            return
        today = ctx.now.astimezone(ctx.config.zone).date()
        batch_id = _free_id(db, batch.batch_id(today, ctx.run_id))
        with ctx.transaction():
            store.open_batch(db, batch_id, ctx.run_id, [letter.key for letter in letters], ctx.now)
        # Read back what the batch holds: a run finishing at the same moment may have claimed some first.
        claimed = store.in_batch(db, batch_id)
        if claimed:
            self._write(ctx, settings.folder, batch_id, claimed)
        else:
            with ctx.transaction():
                store.drop_batch(db, batch_id)

    def _write(self, ctx: RunContext, folder: Path, batch_id: str, letters: Sequence[store.QueuedLetter]) -> None:
        written = batch.write(folder, batch_id, letters)
        with ctx.transaction():
            store.close_batch(ctx.db, store.Batch(
                id=batch_id, run_id=ctx.run_id, created_at=ctx.now.isoformat(), status=store.WRITTEN,
                letters=written.letters, pages=written.pages, pdf=str(written.pdf.relative_to(folder)),
                csv=str(written.csv.relative_to(folder)), pdf_sha256=written.pdf_sha256, csv_sha256=written.csv_sha256,
            ))
        ctx.log.info("print batch written", batch=batch_id, letters=written.letters, pages=written.pages,
                     pdf=str(written.pdf), csv=str(written.csv), pdf_sha256=written.pdf_sha256,
                     csv_sha256=written.csv_sha256)

    def _recorded(self, ctx: RunContext, letters: list[store.QueuedLetter]) -> list[store.QueuedLetter]:
        """The letters whose action dunning recorded as sent; withdraws those it never will.

        A letter is queued when its file is written, just before dunning
        records the outcome. If the process died in between, the action is
        sent again by a later run (which rewrites the same file) or, if the
        case was paid or put on hold meanwhile, never: such a letter must not
        be printed. Without the store (an older core) every queued letter is
        taken.
        """
        reader = getattr(ctx, "store", None)
        if reader is None or not letters:
            return letters
        status: dict[str, ActionStatus] = {}
        for case_id in sorted({letter.case_id for letter in letters}):
            status.update({a.key: a.status for a in reader.actions(case_id=case_id)})
        ready, withdrawn = [], []
        for letter in letters:
            state = status.get(letter.key)
            if state is None or state is ActionStatus.SENT:
                ready.append(letter)  # a key dunning does not know was written by a direct caller: print it
            elif state not in _STILL_OPEN:
                withdrawn.append(letter.key)
        if withdrawn:
            with ctx.transaction():
                store.withdraw(ctx.db, withdrawn)
            ctx.log.warning("letters withdrawn from printing: their action ended without being sent",
                            keys=withdrawn)
        return ready


def _free_id(db: Any, wanted: str) -> str:
    taken = {b.id for b in store.batches(db)}
    candidate, n = wanted, 1
    while candidate in taken:
        n += 1
        candidate = f"{wanted}-{n}"
    return candidate


# --- composing one letter ------------------------------------------------------------------------------


def make_letter(action: Action, case: Case, ctx: DeliveryContext, settings: LetterSettings,
                contact: Contact) -> compose.Letter:
    """Everything the letter says, from the rendered template and the case."""
    if not action.template:
        raise LetterFailure(f"step {action.step!r} names no template for the letter", retry=False)
    context = ctx.template_context
    today: dt.date = context.get("today") or ctx.now.date()
    locale = ctx.debtor.locale
    words = labels.parse(ctx.render(labels.LABELS_TEMPLATE, "toml"))
    written = formats.for_locale(locale)
    disclose = ctx.audience == "debtor" or context.get("disclosure") == "debt"
    firm = settings.firm
    deadline, leads_to = _deadline(context, today, settings.pay_within_days)
    extra: dict[str, Any] = {
        "letter": {
            "date": written.date(today),
            "sender_name": settings.sender_name,
            "signatory_name": settings.signatory_name,
            "signatory_title": settings.signatory_title or "",
            "pay_within_days": settings.pay_within_days,
            "deadline": written.date(deadline),
            "reference": ctx.key,
        },
        "firm": {"name": firm.name if firm else "", "address": list(firm.address) if firm else [],
                 "lawyer": (firm.lawyer or "") if firm else ""},
        "client": settings.sender_name,
        # The debtor's own page when [portal] base_url is set; never in a letter to anyone else.
        "portal_link": _portal_link(case.id, ctx) if ctx.audience == "debtor" else None,
        **template_values.written_out(context, ctx.obligations, written, today),
    }
    if "currency" in context:
        extra["letter"]["currency_name"] = written.currency_name(case.currency)
    payments = ctx.store.payments(case.id) if disclose and ctx.store is not None else []
    if disclose:
        extra["payments"] = [{"at": written.date(p.at.date()), "reference": p.reference or "",
                              "amount": written.amount(p.amount, case.currency)} for p in payments]
    text = content.parse(ctx.render(action.template, "txt", **extra), action.template)
    hidden = sorted(set(text.blocks) & content.DEBT_BLOCKS) if not disclose else []
    if hidden:
        raise LetterFailure(
            f"template {action.template!r} shows the debt ([[{']], [['.join(hidden)}]]) but the step writes to "
            f"a third party without disclosing it (disclosure = {context.get('disclosure', 'none')!r})", retry=False)
    if text.letterhead == "firm" and firm is None:
        raise LetterFailure(
            f"template {action.template!r} is written on a law firm's letterhead but no firm is configured: "
            "set firm_name, firm_address and lawyer in [channels.legal] (or in [channels.letter])", retry=False)
    head = compose.firm_letterhead(firm) if text.letterhead == "firm" and firm else \
        compose.sender_letterhead(settings, words)
    recipient_name = ctx.debtor.name if contact.role is ContactRole.DEBTOR else (contact.name or "")
    balance = written.amount(sum(o.open_amount for o in ctx.obligations if o.collectable), case.currency)
    blocks = set(text.blocks)
    return compose.Letter(
        page_size=settings.page_size,
        locale=locale,
        letterhead=head,
        recipient=window_lines(recipient_name, contact.value),
        info=compose.info_block(words, written, today, ctx.key, ctx.debtor, ctx.obligations, disclose,
                                payment_reference=str(context.get("creditor_reference", "")),
                                debt_kind=str(context.get("debt_kind", "invoice"))),
        text=text,
        signature=compose.signature_lines(text, settings, words),
        obligations=(compose.obligations_table(ctx.obligations, words, written, case.currency, today,
                                               (context.get("interest_minor", 0), context.get("fees_minor", 0)))
                     if "obligations" in blocks else None),
        statement=(compose.statement(ctx.obligations, payments, words, written, case.currency, today)
                   if "statement" in blocks else None),
        sign_slip=compose.sign_slip(words, written, balance, today, ctx.key) if "sign-and-return" in blocks else None,
        page_label=words["page"],
        running_head=f"{head.name} · {words['our_reference']}: {ctx.key}",
        author=head.name,
        key=ctx.key,
        # Only the engine's deadline binds it (a letter to a third party gets none).
        deadline=(deadline, leads_to) if "deadline" in context and _states(text, written.date(deadline)) else None,
    )


def _deadline(context: Mapping[str, Any], today: dt.date, pay_within_days: int) -> tuple[dt.date, str | None]:
    """The core's deadline for the case (``deadline`` in the context) and the stage it leads to.

    ``pay_within_days`` after the letter's date when the context has none
    (a caller other than the engine).
    """
    given = context.get("deadline")
    if isinstance(given, Mapping) and isinstance(given.get("on"), dt.date):
        return given["on"], given.get("stage")
    return today + dt.timedelta(days=pay_within_days), None


def _states(text: content.LetterText, date_text: str) -> bool:
    """Whether the letter's own words give the deadline (templates that set none, set none)."""
    return any(date_text in part.markup for part in text.parts if isinstance(part, content.Paragraph)) \
        or date_text in text.subject


def _portal_link(case_id: int, ctx: DeliveryContext) -> str | None:
    from dunning.portal import links

    return links.link(ctx.config, case_id, ctx.now)
