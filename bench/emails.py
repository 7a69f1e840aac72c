"""Emails per second through the email channel, beside a plain smtplib loop.

    .venv/bin/python bench/emails.py --emails 2000 [--rounds 2] [--json]

Two loopback SMTP servers (aiosmtpd, ``dunning.plugins.email.loopback``)
run in processes of their own, so they do not share the interpreter lock
with the senders: one as aiosmtpd ships (no PIPELINING), one that offers
PIPELINING (RFC 2920), as most production servers do. Against each, in this
process:

1. **yardstick** – a plain ``smtplib`` loop: one connection, ``sendmail`` of
   N messages built beforehand (the same text and HTML parts, headers and
   recipients as the channel's), so the loop only sends. smtplib never
   pipelines, so it makes five round trips per message on either server;
2. **channel** – ``EmailChannel.send`` for N actions of N cases, one run,
   so one reused connection: per email it builds the template context,
   renders the subject, text and HTML templates, composes the MIME message
   and sends it; ``finish_run`` closes the connection. The delivery contexts
   are built beforehand, as the dispatcher would hand them over;
3. **dunning run** – for scale, a whole ``dispatch.run`` over N fresh cases
   on a second database (PIPELINING server): planning, compliance re-checks,
   the channel, and the outcome and its evidence event recorded per email.

Yardstick and channel run ``--rounds`` times on each server, interleaved;
the best round of each is reported with the ratio channel / yardstick. See
bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import multiprocessing
import os
import smtplib
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import structlog

# Installed plugins must not load on their own; the bench registers the email plugin itself.
os.environ["DUNNING_LOAD_PLUGINS"] = ""

import dunning.plugins.email as email_plugin
from dunning import dispatch, money
from dunning.channels import DeliveryContext, RunContext
from dunning.config import Config
from dunning.models import Action, ActionKind, ActionStatus, Contact, Debtor
from dunning.plugins.email.channel import EmailChannel
from dunning.plugins.email.content import template_extras
from dunning.plugins.email.message import compose
from dunning.plugins.email.settings import parse_settings
from dunning.runtime import Runtime
from dunning.store import ImportedObligation
from dunning.templates import audience_context, case_context

UTC = dt.UTC
DUE_ON = dt.date(2026, 3, 1)
NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # 1 day past due: trade-receivables' overdue notice
TEMPLATE = "overdue-notice"


# --- the server, in its own process --------------------------------------------------------


def _serve(ports: Any, stop: Any, counts: Any, pipelining: bool) -> None:
    from dunning.plugins.email.loopback import LoopbackSMTP

    with LoopbackSMTP(keep_data=False, pipelining=pipelining) as server:
        ports.put(server.port)
        stop.wait()
        counts.put((server.handler.received, server.handler.connections))


class ServerProcess:
    def __init__(self, *, pipelining: bool) -> None:
        context = multiprocessing.get_context("spawn")
        self._ports, self._counts, self._stop = context.Queue(), context.Queue(), context.Event()
        self._process = context.Process(target=_serve, args=(self._ports, self._stop, self._counts, pipelining),
                                        daemon=True)

    def __enter__(self) -> ServerProcess:
        self._process.start()
        self.port = self._ports.get(timeout=30)
        return self

    def stop(self) -> tuple[int, int]:
        self._stop.set()
        counts = self._counts.get(timeout=30)
        self._process.join(timeout=30)
        return counts

    def __exit__(self, *exc: object) -> None:
        if self._process.is_alive():
            self._process.terminate()


# --- data ---------------------------------------------------------------------------------------


def _settings(port: int) -> dict[str, Any]:
    return {"host": "127.0.0.1", "port": port, "security": "none",
            "sender": "Acme Credit Control <credit@acme.example>", "reply_to": "collections@acme.example",
            "bcc": "ledger@acme.example", "pay_link": "https://pay.example.com/{case_id}?ref={key}",
            "signature": "Credit Control\nAcme Supplies Ltd", "timeout_seconds": 30}


def _runtime(folder: Path, port: int, n: int, name: str) -> Runtime:
    config = Config(path=folder / f"{name}.toml", policy="trade-receivables", db=folder / f"{name}.db",
                    enabled_channels=("email",), channel_settings={"email": _settings(port)})
    rt = Runtime(config, extra_plugins=[email_plugin])
    items = []
    for i in range(n):
        debtor_id = f"D{i:06d}"
        chinese = i % 4 == 3  # a quarter of the debtors read Chinese
        currency = "CNY" if chinese else "EUR"
        debtor = Debtor(id=debtor_id, name=f"Customer {i}", locale="zh_CN" if chinese else None,
                        timezone="Asia/Shanghai" if chinese else "Europe/London")
        contacts = [Contact(debtor_id=debtor_id, kind="email", value=f"ap{i}@customer.example")]
        for j, amount in enumerate(("1200.00", "345.50")):
            items.append(ImportedObligation(debtor=debtor, contacts=contacts if j == 0 else [],
                                            reference=f"INV-{i:06d}-{j}", amount=money.parse(amount, currency),
                                            currency=currency, issued_on=None, due_on=DUE_ON))
    moment = dt.datetime(2026, 2, 1, 8, tzinfo=UTC)
    rt.store.import_obligations(items, moment, rt.today(moment))
    return rt


def _contexts(rt: Runtime, channel: EmailChannel, run_id: str) -> list[tuple[Action, Any, DeliveryContext]]:
    """What the dispatcher hands ``send`` for each case, built the way dispatch builds it."""
    today = rt.today(NOW)
    found = []
    for case in rt.store.cases():
        debtor = rt.store.debtor(case.debtor_id)
        assert debtor is not None
        obligations = rt.store.obligations(case.id)
        dpd = rt.dpd(case, NOW)
        key = f"{case.id}:overdue-notice:email:2026-03-02"
        action = Action(key=key, case_id=case.id, kind=ActionKind.OUTREACH, step="overdue-notice", planned_for=today,
                        not_before=NOW, status=ActionStatus.SENDING, channel="email", template=TEMPLATE, dpd=dpd)
        context = audience_context(case_context(case, debtor, obligations, dpd, today,
                                                {"step": action.step, "options": {}, "sender": rt.config.notify}),
                                   "debtor", "none")
        ctx = DeliveryContext(
            now=NOW, key=key, debtor=debtor, contacts=rt.store.contacts(debtor.id), obligations=obligations, dpd=dpd,
            settings=rt.config.settings_for("email"), config=rt.config, db=rt.store.db, log=_quiet_log(),
            template_context=context,
            render=lambda template, suffix, ctx_: rt.render(channel, template, suffix, ctx_),
            run_id=run_id, store=rt.store)
        found.append((action, case, ctx))
    return found


def _quiet_log() -> Any:
    return structlog.get_logger("bench").bind()


def _prebuilt(work: list[tuple[Action, Any, DeliveryContext]]) -> list[tuple[str, list[str], bytes]]:
    """The yardstick's messages: the same parts and headers the channel sends, composed before timing."""
    messages = []
    for _action, case, ctx in work:
        settings = parse_settings(ctx.settings)
        to = ctx.contacts_of("email")[0]
        extras = template_extras(case, ctx, settings, ctx.debtor.name)
        subject = ctx.render(TEMPLATE, "subject.txt", **extras)
        composed = compose(sender_name=settings.sender_name, sender_address=settings.sender_address,
                           reply_to=settings.reply_to, to_name=ctx.debtor.name, to_address=to.value, subject=subject,
                           text=ctx.render(TEMPLATE, "txt", subject=subject, **extras),
                           html=ctx.render(TEMPLATE, "html", subject=subject, **extras), key=ctx.key,
                           unsubscribe=settings.unsubscribe, now=ctx.now)
        messages.append((settings.sender_address, [to.value, *settings.bcc], composed.data))
    return messages


# --- the measurements -------------------------------------------------------------------------------


def yardstick(port: int, messages: list[tuple[str, list[str], bytes]]) -> float:
    start = time.perf_counter()
    conn = smtplib.SMTP("127.0.0.1", port, local_hostname="bench.local", timeout=30)
    for sender, recipients, data in messages:
        conn.sendmail(sender, recipients, data)
    conn.quit()
    return time.perf_counter() - start


def through_channel(rt: Runtime, channel: EmailChannel, work: list[tuple[Action, Any, DeliveryContext]],
                    run_id: str) -> float:
    start = time.perf_counter()
    for action, case, ctx in work:
        delivery = channel.send(action, case, ctx)
        if delivery.status != "sent":
            raise SystemExit(f"the channel did not send: {delivery}")
    channel.finish_run(RunContext(now=NOW, run_id=run_id, settings=ctx.settings, config=rt.config, db=rt.store.db,
                                  log=_quiet_log()))
    return time.perf_counter() - start


def whole_run(folder: Path, port: int, n: int) -> tuple[float, int]:
    rt = _runtime(folder, port, n, "run")
    try:
        start = time.perf_counter()
        summary = dispatch.run(rt, NOW)
        return time.perf_counter() - start, summary.sent
    finally:
        rt.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--emails", type=int, default=2000, help="emails per measurement (default 2000)")
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds of yardstick and channel, interleaved (default 3)"
    )
    parser.add_argument("--no-run", action="store_true", help="skip the whole-run figure")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    if not 1 <= args.emails <= 100_000 or not 1 <= args.rounds <= 10:
        parser.error("--emails must be 1 to 100,000 and --rounds 1 to 10")
    n = args.emails
    # Warnings only, on stderr: stdout carries the figures (and only JSON with --json).
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
                        logger_factory=structlog.PrintLoggerFactory(sys.stderr))
    servers = {"plain": ServerProcess(pipelining=False), "pipelining": ServerProcess(pipelining=True)}

    with tempfile.TemporaryDirectory(prefix="dunning-bench-email-") as tmp, servers["plain"], servers["pipelining"]:
        folder = Path(tmp)
        print(f"servers on 127.0.0.1:{servers['plain'].port} (plain) and :{servers['pipelining'].port} (PIPELINING); "
              f"preparing {n:,} cases ...", file=sys.stderr)
        runtimes = {name: _runtime(folder, server.port, n, name) for name, server in servers.items()}
        channels = {name: rt.channel("email") for name, rt in runtimes.items()}
        assert all(isinstance(c, EmailChannel) for c in channels.values())
        messages = _prebuilt(_contexts(runtimes["plain"], channels["plain"], "prebuild"))
        for name, server in servers.items():  # warm both paths: imports, template compilation
            yardstick(server.port, messages[:20])
            through_channel(
                runtimes[name], channels[name], _contexts(runtimes[name], channels[name], "warm")[:20], "warm"
            )

        best = {(kind, name): float("inf") for kind in ("yardstick", "channel") for name in servers}
        for round_no in range(1, args.rounds + 1):
            for name, server in servers.items():
                t_yard = yardstick(server.port, messages)
                run_id = f"round-{round_no}"
                work = _contexts(runtimes[name], channels[name], run_id)
                t_channel = through_channel(runtimes[name], channels[name], work, run_id)
                print(f"round {round_no}, {name} server: yardstick {n / t_yard:,.0f}/s, channel {n / t_channel:,.0f}/s",
                      file=sys.stderr)
                best["yardstick", name] = min(best["yardstick", name], t_yard)
                best["channel", name] = min(best["channel", name], t_channel)
        for rt in runtimes.values():
            rt.close()
        run_seconds, run_sent = (None, 0) if args.no_run else whole_run(folder, servers["pipelining"].port, n)
        received = {name: server.stop() for name, server in servers.items()}

    sizes = [len(m[2]) for m in messages]
    figures: dict[str, Any] = {"emails": n, "rounds": args.rounds, "message_bytes_avg": round(sum(sizes) / len(sizes))}
    for name in servers:
        figures[name] = {
            "yardstick_per_second": round(n / best["yardstick", name], 1),
            "channel_per_second": round(n / best["channel", name], 1),
            "ratio": round(best["yardstick", name] / best["channel", name], 3),
            "server_received": received[name][0],
            "server_connections": received[name][1],
        }
    figures["whole_run_per_second"] = round(run_sent / run_seconds, 1) if run_seconds else None
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    print(f"{n:,} emails per measurement, avg message {figures['message_bytes_avg']:,} bytes, 2 recipients; "
          f"best of {args.rounds} rounds")
    print(f"{'server':<34}{'yardstick/s':>12}{'channel/s':>12}{'ratio':>8}")
    for name, label in (("plain", "aiosmtpd as shipped (no PIPELINING)"), ("pipelining", "offering PIPELINING")):
        f = figures[name]
        print(f"{label:<34}{f['yardstick_per_second']:>12,.1f}{f['channel_per_second']:>12,.1f}{f['ratio']:>8.3f}")
    if run_seconds:
        print(f"whole dunning run (PIPELINING server): {figures['whole_run_per_second']:,.1f} emails/s "
              "(plan, re-check, send, record evidence)")
    for name in servers:
        print(f"{name} server received {received[name][0]:,} messages over {received[name][1]} connections")
    return 0


if __name__ == "__main__":
    sys.exit(main())
