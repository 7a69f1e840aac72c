"""The ``dunning`` command line: one click group, subgroups, and plugin commands."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import attrs
import click
import structlog

from dunning import (
    calendar,
    checkpoints,
    cli_payments,
    cli_ledger,
    creditor_reference,
    dispatch,
    evidence,
    log,
    money,
    notices_cli,
    operations,
    privacy,
    priority_hook,
)
from dunning import scaffold
from dunning.approvals import approval_json, approval_rows
from dunning.compliance.risk import risk_class
from dunning.config import DEFAULT_EVIDENCE_KEY, Config, ConfigError, load_config, resolve_config_path
from dunning.evidence import verify_chain
from dunning.importer import ImportError_, import_file
from dunning.lifecycle import RESOLUTIONS
from dunning.output import print_json as _print_json
from dunning.output import print_table as _table
from dunning.owed import Owed, owed_on
from dunning.models import SIGNAL_KINDS, Action, ActionStatus, Case, Event, HoldReason, Stage, Status
from dunning.plugin_manager import LOAD_ENV, load_plugins, plugin_commands
from dunning.policy import PRESETS, PolicyError, check_channels, load_policy_text, preset_text, read_policy_file
from dunning.plugin_context import PluginContext
from dunning.runtime import Runtime, missing_templates
from dunning.store import NotFound, Store, StoreError, missing_database

F = TypeVar("F", bound=Callable[..., Any])
EXIT_DELIVERY_FAILED = 3


class DunningError(click.ClickException):
    exit_code = 1


NO_CONFIG = "no dunning.toml here (pass --config or set DUNNING_CONFIG; `dunning init` writes one)"


class State:
    """What the global options say; opens the runtime on first use."""

    def __init__(self, config_path: str | None, db: str | None, now: str | None):
        self.config_path = resolve_config_path(config_path)
        # A file named on purpose (--config or $DUNNING_CONFIG) must exist:
        # a typo must not quietly run against an empty database.
        self.config_required = config_path is not None or bool(os.environ.get("DUNNING_CONFIG"))
        self.db = Path(db) if db else None
        self._now_text = now
        self._config: Config | None = None
        self._runtime: Runtime | None = None
        self.log_format: str | None = None
        # Commands that work on the defaults when there is no dunning.toml (policy show|check, plugins).
        self.defaults_will_do = False

    @property
    def config(self) -> Config:
        if self._config is None:
            if not self.config_required and not self.config_path.exists() and not self.defaults_will_do:
                # cron started from $HOME: refuse rather than run against a new, empty database.
                raise DunningError(NO_CONFIG)
            self._config = load_config(self.config_path, required=self.config_required)
            if self._config.holds_secret and self._config.path and privacy.readable_by_others(self._config.path):
                structlog.get_logger("dunning").warning(
                    "the config holds a password or token and others can read it: chmod 600 it, or move the "
                    "secret to an environment variable (password_env, token_env)", config=str(self._config.path))
        return self._config

    def now(self, override: str | None = None) -> dt.datetime:
        text = override or self._now_text
        if not text:
            return calendar.utc_now()
        try:
            return calendar.parse_moment(text, self.config.zone)
        except ValueError as exc:
            raise DunningError(f"--now: {exc}") from None

    def db_path(self) -> Path:
        """The database to use, which must exist."""
        path = self.db or self.config.db
        if not path.exists():
            raise StoreError(missing_database(path))
        return path

    def runtime(self, *, create: bool = False) -> Runtime:
        if self._runtime is None:
            # The config and the plugins' settings are checked first: their errors say more than a missing file.
            self._runtime = Runtime(self.config, db_path=self.db, create_db=create)
            ctx = click.get_current_context()
            ctx.call_on_close(self._runtime.close)
            plugin = ctx.find_root().meta.get("dunning.command_plugin")
            if plugin in self._runtime.plugins.broken:
                # Its tables may be missing (a migration failed): its commands wait for the fix.
                raise DunningError(f"plugin {plugin} is left out ({self._runtime.plugins.broken[plugin]}); "
                                   "its commands work again once it is fixed")
        return self._runtime

    def plugin_context(self, now: dt.datetime | None = None) -> PluginContext:
        """The runtime as a plugin's command may use it (``dunning.PluginContext``)."""
        return PluginContext(self.runtime(), now)


class DunningGroup(click.Group):
    """Turns the engine's own errors into a clear message and exit code 1, and offers plugins' commands.

    Plugin commands (``register_commands``) are loaded the first time a
    command name is looked up or listed, with the plugins the config and
    ``DUNNING_LOAD_PLUGINS`` allow; importing ``dunning.cli`` loads none.
    """

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        built_in = super().get_command(ctx, cmd_name)
        if built_in is not None:
            return built_in
        found = self._plugin_commands(ctx).get(cmd_name)
        if found is None:
            return None
        # Which plugin the command line runs, so that State can refuse it if that plugin is left out.
        ctx.find_root().meta["dunning.command_plugin"] = found[0]
        return found[1]

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._plugin_commands(ctx)})

    def _plugin_commands(self, ctx: click.Context) -> dict[str, tuple[str, click.Command]]:
        root = ctx.find_root()
        found = root.meta.get("dunning.plugin_commands")
        if found is None:
            # Warnings about plugins go where every other log line goes (stderr), never into --json output.
            log.configure(root.params.get("log_format"))
            found = root.meta["dunning.plugin_commands"] = plugin_commands(_config_for_commands(root), self.commands)
        return found

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (ConfigError, PolicyError, NotFound, operations.OperationError, ImportError_, money.MoneyError,
                checkpoints.CheckpointError, StoreError) as exc:
            raise DunningError(str(exc)) from None


def _config_for_commands(root: click.Context) -> Config:
    """The config as far as choosing plugins goes; a broken or missing one is the command's to report."""
    path = resolve_config_path(root.params.get("config_path"))
    try:
        return load_config(path, required=False) if path.exists() else Config(path=None)
    except (ConfigError, OSError):
        return Config(path=None)


def _fail(message: str) -> NoReturn:
    raise DunningError(message)


def json_option(fn: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(fn)


@click.group(cls=DunningGroup)
@click.version_option(package_name="dunning")
# Eager, so that `dunning --config PATH --help` lists the commands of the plugins that config allows.
@click.option(
    "--config",
    "config_path",
    metavar="PATH",
    is_eager=True,
    help="Config file (default: ./dunning.toml or $DUNNING_CONFIG).",
)
@click.option("--db", metavar="PATH", help="SQLite database to use instead of the one in the config.")
@click.option(
    "--log-format",
    type=click.Choice(["console", "json"]),
    help="Log format (default: console on a terminal, else JSON).",
)
@click.option("--now", "now_text", metavar="ISO-8601", hidden=False,
              help="Act as if it were this moment (default: the clock). For backdating and rehearsals.")
@click.pass_context
def cli(
    ctx: click.Context, config_path: str | None, db: str | None, log_format: str | None, now_text: str | None
) -> None:
    """Collect overdue debts: cases move through internal, on-site, agency and
    litigation stages as the collection policy says.

    Start with `dunning init`, then `dunning import FILE` and `dunning run`
    (from cron). `dunning demo` shows the whole thing on sample data.
    """
    log.configure(log_format)
    privacy.owner_only()
    ctx.obj = State(config_path, db, now_text)
    ctx.obj.log_format = log_format


pass_state = click.pass_obj


# --- set-up ------------------------------------------------------------------------


@cli.command()
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.option("--policy", "policy_name", default="trade-receivables", show_default=True,
              help="Preset name or policy file to select.")
@pass_state
def init(state: State, force: bool, policy_name: str) -> None:
    """Write a commented dunning.toml to start from."""
    target = state.config_path
    if target.exists() and not force:
        _fail(f"{target} already exists; use --force to overwrite it")
    text = resources.files("dunning").joinpath("init/dunning.toml").read_text(encoding="utf-8")
    text = text.replace('policy = "trade-receivables"', f"policy = {json.dumps(policy_name)}")
    target.write_text(text, encoding="utf-8")
    target.chmod(0o600)  # it will hold passwords and tokens: an overwritten file keeps its old mode otherwise
    click.echo(f"wrote {target}; edit it, then `dunning import FILE` and `dunning run`")
    database = target.parent / "dunning.db"
    if not database.exists():
        Store(database).close()  # the database the config names, with its tables
        click.echo(f"created {database}")
    key = target.parent / DEFAULT_EVIDENCE_KEY
    if not key.exists():
        public = checkpoints.generate_key(key)
        click.echo(f"wrote {key} (owner-only): it signs the evidence log; keep it away from the database's users. "
                   f"Public key: {public}")


@cli.command(name="import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Validate and count, write nothing.")
@click.option("--encoding", default="utf-8", show_default=True,
              help="The file's text encoding; cp1252 for many spreadsheet exports.")
@click.option("--create", is_flag=True, help="Create the database if it does not exist yet.")
@click.option("--sync", "sync", is_flag=True,
              help="The file is the books' complete list of open items for the debtors it names: add, adjust and "
                   "close items, update debtors and contacts, each change with its event.")
@click.option("--full", is_flag=True, help="With --sync: the file covers the whole portfolio; debtors it does not "
                                           "name have nothing open any more.")
@json_option
@pass_state
def import_(state: State, file: Path, dry_run: bool, encoding: str, create: bool, sync: bool, full: bool,
            as_json: bool) -> None:
    """Import debtors and obligations from a CSV or JSON file.

    One row per obligation, columns: debtor_id, name, kind, email, mobile,
    work_phone, home_phone, address, country, timezone, reference, amount,
    currency, issued_on, due_on (extra columns such as locale are allowed).
    The whole file is checked first; if any row is bad, every problem is
    listed with its line and field and nothing is written. A plain import
    adds invoices only: a debtor already known with other details is
    refused (use --sync). With --sync, optional columns open_amount and
    status (open, paid, credited) say what the books hold.
    """
    if dry_run and create:
        _fail("--dry-run writes nothing, so it creates no database either; leave out --create")
    if full and not sync:
        _fail("--full goes with --sync: a plain import never closes anything")
    if sync:
        from dunning.cli_sync import sync_import

        sync_import(state, file, dry_run=dry_run, encoding=encoding, create=create, full=full, as_json=as_json)
        return
    rt = state.runtime(create=create)
    now = state.now()
    warnings: list[str] = []
    result, _ = import_file(rt.store, file, now=now, today=rt.today(now), dry_run=dry_run, warnings=warnings,
                            encoding=encoding)
    data = attrs.asdict(result) | {"dry_run": dry_run, "warnings": warnings}
    for warning in warnings:
        # stderr ends up in cron mail and log files: the line and field say where, the number is masked.
        click.echo(f"warning: {log.mask(warning)}", err=True)
    if as_json:
        _print_json(data)
        return
    verb = "would import" if dry_run else "imported"
    click.echo(f"{verb} {result.obligations_added} obligations for {result.debtors} debtors "
               f"({result.cases_opened} new cases, {result.obligations_unchanged} already present)")


# --- the run -----------------------------------------------------------------------


@cli.command()
@click.option("--now", "now_text", metavar="ISO-8601", help="The moment to run for (default: the clock).")
@click.option("--dry-run", is_flag=True, help="Show what would be planned; write and send nothing.")
@json_option
@pass_state
def run(state: State, now_text: str | None, dry_run: bool, as_json: bool) -> None:
    """Plan what is due and deliver what is ready. Meant for cron.

    Running twice for the same moment plans and sends nothing new. The
    summary adds "missed" (steps dropped because no run happened on their
    day) and "superseded" (held-back occurrences a newer one replaced) when
    there are any. Exit code 0 when nothing failed, 3 when some deliveries
    failed (they are retried on later runs).
    """
    rt = state.runtime()
    now = state.now(now_text)
    if rt.config.evidence_key_named and not dry_run:
        checkpoints.load_key(rt.config.evidence_key)  # a key the config names must be there before anything is sent
    missing = missing_templates(rt.policy, rt.plugins, rt.config)
    if missing:
        # Every such action would fail at delivery, day after day: say so before anything is planned.
        _fail(f"{rt.policy.source}: " + f"\n{rt.policy.source}: ".join(missing))
    disabled = sorted(rt.policy.channels() - set(rt.plugins.enabled))
    if disabled:
        # One line per run, not one per step: cron logs stay readable.
        structlog.get_logger("dunning").warning(
            "policy names channels that are not enabled; their steps are skipped with an event",
            channels=", ".join(disabled))
    show_bar = sys.stderr.isatty() and not as_json and not dry_run
    if show_bar:
        total = rt.store.count_due(rt.today(now)) + rt.store.count_ready(now)
        with click.progressbar(length=max(total, 1), label="dunning run", file=sys.stderr) as bar:
            summary = dispatch.run(rt, now, progress=lambda _phase, n: bar.update(n))
    else:
        summary = dispatch.run(rt, now, dry_run=dry_run)
    signed = None if dry_run else rt.checkpoint(now)
    if not dry_run and signed is None and not rt.config.evidence_key.exists():
        structlog.get_logger("dunning").warning(
            "evidence is not signed: no evidence key (make one with `dunning evidence keygen`)",
            key_file=str(rt.config.evidence_key))
    data = summary.as_dict() | {"now": calendar.to_text(now), "dry_run": dry_run,
                                "checkpoint": signed.as_dict() if signed else None}
    if as_json:
        _print_json(data)
    else:
        head = "would plan" if dry_run else "planned"
        click.echo(
            f"{head} {summary.planned}, sent {summary.sent}, deferred {summary.deferred}, blocked {summary.blocked}, "
            f"failed {summary.failed}, escalated {summary.escalated}, awaiting approval {summary.awaiting_approval}, "
            f"skipped {summary.skipped}"
            # Shown only when there are some: most runs drop and replace nothing.
            + (f", missed {summary.missed}" if summary.missed else "")
            + (f", superseded {summary.superseded}" if summary.superseded else "")
        )
        for label, by_rule in (("blocked", summary.blocked_by_rule), ("deferred", summary.deferred_by_rule)):
            for rule, n in sorted(by_rule.items()):
                click.echo(f"  {label} by {rule}: {n}")
    if summary.failed:
        sys.exit(EXIT_DELIVERY_FAILED)


# --- cases ---------------------------------------------------------------------------


def case_json(rt: Runtime, case: Case, now: dt.datetime, owed: Owed | None = None) -> dict[str, Any]:
    """The case as ``cases list/show --json`` print it; ``owed`` when the caller has read the obligations already."""
    debtor = rt.store.debtor(case.debtor_id)
    priority = priority_hook.case_priority(rt.plugins.calls, case,
                                           rt.store.priority_facts(case, rt.today(now), rt.config.zone))
    if owed is None:
        owed = owed_on(rt.store.obligations(case.id), rt.today(now), case.currency)
    return {
        "id": case.id,
        "debtor_id": case.debtor_id,
        "debtor_name": debtor.name if debtor else None,
        "stage": case.stage.value,
        "status": case.status.value,
        "balance": money.format_minor(case.balance, case.currency),
        "balance_minor": case.balance,
        # Past their due date on the business's today, and due today or later (dunning.owed).
        "overdue": money.format_minor(owed.overdue, case.currency),
        "overdue_minor": owed.overdue,
        "not_yet_due": money.format_minor(owed.not_yet_due, case.currency),
        "not_yet_due_minor": owed.not_yet_due,
        "currency": case.currency,
        "creditor_reference": case.creditor_reference,
        "dpd": rt.dpd(case, now) if case.is_open else None,
        "oldest_due_on": case.anchor_due_on,
        "next_action_on": case.next_action_on,
        "broken_promises": case.broken_promises,
        "risk": risk_class(case, rt.today(now)).value if case.is_open else None,
        "signals": list(case.signals),
        "account_locked": case.account_locked,
        "opened_on": case.opened_on,
        "resolved_on": case.resolved_on,
        "priority": priority,
    }


def action_json(action: Action) -> dict[str, Any]:
    return {
        "id": action.id,
        "key": action.key,
        "case_id": action.case_id,
        "kind": action.kind.value,
        "step": action.step,
        "channel": action.channel,
        "template": action.template,
        "target": action.target,
        "dpd": action.dpd,
        "planned_for": action.planned_for,
        "not_before": calendar.to_text(action.not_before),
        "status": action.status.value,
        "required": action.required,
        "requires_approval": action.requires_approval,
        "approved_by": action.approved_by,
        "attempts": action.attempts,
        "last_error": action.last_error,
    }


def event_json(event: Event) -> dict[str, Any]:
    return evidence.event_fields(event) | {"hash": event.hash}


@cli.group()
def cases() -> None:
    """List and inspect cases."""


@cases.command(name="list")
@click.option("--stage", type=click.Choice([s.value for s in Stage]), help="Only cases at this stage.")
@click.option("--status", type=click.Choice([s.value for s in Status]), help="Only cases with this status.")
@click.option("--limit", type=int, help="At most this many.")
@json_option
@pass_state
def cases_list(state: State, stage: str | None, status: str | None, limit: int | None, as_json: bool) -> None:
    """List cases, oldest first, each with what is overdue, what is not yet due and the balance today."""
    rt = state.runtime()
    now = state.now()
    rows = [case_json(rt, c, now) for c in rt.store.cases(stage=stage, status=status, limit=limit)]
    if as_json:
        _print_json(rows)
        return
    _table([[r["id"], r["debtor_id"], r["debtor_name"], r["stage"], r["status"],
             *(money.display(r[f"{figure}_minor"], r["currency"]) for figure in ("overdue", "not_yet_due", "balance")),
             r["dpd"], r["risk"] or ""] for r in rows],
           ["id", "debtor", "name", "stage", "status", "overdue", "not yet due", "balance", "dpd", "risk"])


def _case_id(value: str) -> int:
    if not (value.isascii() and value.isdigit()):
        _fail(f"case id must be a number, got {value!r}")
    return int(value)


@cases.command(name="show")
@click.argument("case_id")
@json_option
@pass_state
def cases_show(state: State, case_id: str, as_json: bool) -> None:
    """Show one case: what is overdue and not yet due, its payment reference, obligations, promises, holds and
    pending actions."""
    rt = state.runtime()
    now = state.now()
    case = rt.store.case(_case_id(case_id))
    obligations = rt.store.obligations(case.id)
    today = rt.today(now)
    owed = owed_on(obligations, today, case.currency)
    data = case_json(rt, case, now, owed)
    open_items = {i.reference: i for i in owed.items}  # paid obligations are neither overdue nor due later
    data["obligations"] = [
        {
            "reference": o.reference,
            "amount": money.format_minor(o.amount, o.currency),
            "paid": money.format_minor(o.paid, o.currency),
            "open": money.format_minor(o.open_amount, o.currency),
            "issued_on": o.issued_on,
            "due_on": o.due_on,
            "overdue": o.reference in open_items and open_items[o.reference].overdue,
            "days_overdue": open_items[o.reference].days_overdue if o.reference in open_items else 0,
        }
        for o in obligations
    ]
    data["payments"] = [
        {"amount": money.format_minor(p.amount, case.currency), "at": calendar.to_text(p.at), "reference": p.reference}
        for p in rt.store.payments(case.id)
    ]
    data["promises"] = [
        {
            "id": p.id,
            "amount": money.format_minor(p.amount, case.currency),
            "due_at": calendar.to_text(p.due_at),
            "status": p.status.value,
        }
        for p in rt.store.promises(case.id)
    ]
    data["holds"] = [{"id": h.id, "reason": h.reason.value, "since": calendar.to_text(h.since), "until": h.until,
                      "released_at": calendar.to_text(h.released_at) if h.released_at else None, "note": h.note}
                     for h in rt.store.holds(case.id)]
    data["pending_actions"] = [
        action_json(a) for a in rt.store.actions(case_id=case.id, statuses=["awaiting_approval", "pending", "sending"])
    ]
    data["credit_minor"] = rt.store.credit_balance(case.debtor_id, case.currency)  # the debtor's, from overpayments
    data["credit"] = money.format_minor(data["credit_minor"], case.currency)
    data |= cli_ledger.case_figures(rt, case.id)  # principal, interest, fees and total; postings; offers
    if as_json:
        _print_json(data)
        return
    debtor = rt.store.debtor(case.debtor_id)
    click.echo(f"case {case.id}  {debtor.name if debtor else case.debtor_id}  ({case.debtor_id})")
    click.echo(f"  stage {case.stage}, {case.status}, balance {money.display(case.balance, case.currency)} "
               f"(overdue {money.display(owed.overdue, case.currency)}, "
               f"not yet due {money.display(owed.not_yet_due, case.currency)}), "
               f"{data['dpd']} days past due, next look {case.next_action_on or '-'}")
    click.echo(cli_ledger.case_figures_line(data))
    if case.creditor_reference:
        click.echo(f"  payment reference {creditor_reference.printed(case.creditor_reference)}")
    if data["credit_minor"]:
        click.echo(f"  credit {money.display(data['credit_minor'], case.currency)} (paid beyond what was owed)")
    if case.is_open:
        click.echo(f"  risk {data['risk']}" + (f", signals: {', '.join(case.signals)}" if case.signals else "")
                   + (f", last conversation {case.last_contact_on}" if case.last_contact_on else ", never reached"))
    click.echo("obligations:")
    _table([[o.reference, o.due_on, money.display(o.amount, o.currency), money.display(o.paid, o.currency),
             money.display(o.open_amount, o.currency), _obligation_state({**shown, "open_minor": o.open_amount})]
            for o, shown in zip(obligations, data["obligations"], strict=False)],
           ["reference", "due", "amount", "paid", "open", "state"])
    for title, key in (("promises", "promises"), ("holds", "holds"), ("payments", "payments"),
                       ("settlement offers", "settlements")):
        if data[key]:
            click.echo(f"{title}:")
            for item in data[key]:
                click.echo("  " + ", ".join(f"{k}={v}" for k, v in item.items() if v is not None))
    click.echo("pending actions:")
    _table(
        [
            [a["id"], a["planned_for"], a["step"], a["channel"] or a["kind"], a["status"]]
            for a in data["pending_actions"]
        ],
        ["id", "for", "step", "channel", "status"],
    )


def _obligation_state(item: dict[str, Any]) -> str:
    """``overdue 12d``, ``due later`` or ``paid``, for the obligations table of ``cases show``."""
    if item["overdue"]:
        return f"overdue {item['days_overdue']}d"
    return "paid" if item["open_minor"] == 0 else "due later"


# --- evidence ------------------------------------------------------------------------


@cli.command()
@click.option("--case", "case_id", type=int, help="Only this case's events.")
@click.option("--kind", help="Only events of this kind (sent, blocked, stage_changed, payment, ...).")
@click.option("--limit", type=int, help="At most this many.")
@json_option
@pass_state
def events(state: State, case_id: int | None, kind: str | None, limit: int | None, as_json: bool) -> None:
    """Show the evidence log, oldest first."""
    rt = state.runtime()
    if case_id is not None:
        rt.store.case(case_id)
    found = rt.store.events(case_id=case_id, kind=kind, limit=limit)
    if as_json:
        _print_json([event_json(e) for e in found])
        return
    _table(
        [
            [
                e.seq,
                calendar.to_text(e.at),
                e.case_id,
                e.kind,
                e.stage,
                e.dpd,
                e.channel or "",
                e.step or "",
                _brief(e.data),
            ]
            for e in found
        ],
        ["seq", "at", "case", "kind", "stage", "dpd", "channel", "step", "detail"],
    )


def _brief(data: dict[str, Any]) -> str:
    # One line per event: line breaks inside values (addresses, notes) would break the table.
    # The rule behind a block or a deferral first, then the profile and jurisdiction it
    # came from: they must survive the cut at 80 characters.
    first = ("rule", "profile", "jurisdiction")
    ordered = sorted(data.items(), key=lambda item: first.index(item[0]) if item[0] in first else len(first))
    parts = [f"{k}={' / '.join(str(v).splitlines()) if isinstance(v, str) else v}"
             for k, v in ordered if k not in ("key",) and v not in (None, "", [], {})]
    text = ", ".join(parts)
    return text if len(text) <= 80 else text[:77] + "..."


@cli.command()
@click.option("--against", "against", type=click.Path(dir_okay=False, path_type=Path), multiple=True,
              help="A checkpoints file kept elsewhere (JSON lines); may be given more than once.")
@click.option("--public-key", "public_key", metavar="BASE64",
              help="The evidence key's public key (from `dunning evidence public-key`), when the private key is "
                   "not at hand; by default it is read from the key file.")
@pass_state
def verify(state: State, against: tuple[Path, ...], public_key: str | None) -> None:
    """Check the evidence log's hash chain and every signed checkpoint it can see.

    Checkpoints come from the database, from the file beside it
    (<db>.checkpoints) and from each --against file. A log shorter than a
    checkpoint, another hash at a checkpointed event, or a checkpoint not
    signed by the evidence key fails, naming the event.
    """
    rt = state.runtime()
    report = verify_chain(rt.store.event_rows_for_verify())
    if not report.ok:
        _fail(f"evidence chain broken at event {report.broken_at}: {report.problem} "
              f"({report.checked} events before it are intact)")
    trusted = public_key or _evidence_public_key(rt.config)
    beside = checkpoints.file_beside(rt.store.path)
    found = [("database", cp) for cp in rt.store.checkpoints()]
    for path in ([beside] if beside.exists() else []) + list(against):
        found += [(str(path), cp) for cp in checkpoints.read_file(path)]
    last_seq = rt.store.last_seq()
    problems = checkpoints.disagreements(found, last_seq, rt.store.event_hash, trusted)
    if problems:
        _fail(f"evidence does not match a signed checkpoint: {problems[0]}"
              + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""))
    if not found:
        click.echo(f"ok: {report.checked} events, chain intact; no signed checkpoint to check it against "
                   "(see `dunning evidence keygen`)")
        return
    # The same checkpoint is usually found in the database and in the file: count it once.
    distinct = {(cp.seq, cp.hash, cp.signature) for _, cp in found}
    latest = max((cp for _, cp in found), key=lambda cp: (cp.seq, cp.signed_at))
    key_note = "" if trusted else "; no evidence key at hand, so each was checked against the key it names"
    click.echo(f"ok: {report.checked} events, chain intact; {len(distinct)} signed checkpoints agree "
               f"(latest: event {latest.seq}, signed {latest.signed_at}){key_note}")


def _evidence_public_key(config: Config) -> str | None:
    if not config.evidence_key.exists():
        return None
    return checkpoints.public_key_text(checkpoints.load_key(config.evidence_key))


@cli.group(name="evidence")
def evidence_() -> None:
    """The evidence key and signed checkpoints of the evidence log.

    At the end of every run the head of the hash chain is signed with an
    Ed25519 key kept outside the database ([evidence] key_file, by default
    dunning-evidence.key beside dunning.toml) and kept in the database, in
    <db>.checkpoints and at the record_event mirrors; `dunning verify` then
    catches a log cut short or rewritten.
    """


@evidence_.command(name="keygen")
@click.option("--force", is_flag=True, help="Replace an existing key.")
@pass_state
def evidence_keygen(state: State, force: bool) -> None:
    """Make the evidence key (owner-only file) and print its public key."""
    public = checkpoints.generate_key(state.config.evidence_key, force=force)
    click.echo(f"wrote {state.config.evidence_key} (owner-only); public key: {public}")


@evidence_.command(name="checkpoint")
@pass_state
def evidence_checkpoint(state: State) -> None:
    """Sign the evidence chain's head now (runs do it at their end)."""
    rt = state.runtime()
    signed = rt.checkpoint(state.now(), always=True)
    if signed is None:
        _fail(f"{rt.config.evidence_key}: no evidence key (make one with `dunning evidence keygen`)")
    click.echo(f"signed event {signed.seq} ({signed.hash[:16]}…) at {signed.signed_at}")


@evidence_.command(name="public-key")
@pass_state
def evidence_public_key(state: State) -> None:
    """Print the evidence key's public key, for auditors: `dunning verify --public-key KEY`."""
    public = _evidence_public_key(state.config)
    if public is None:
        _fail(f"{state.config.evidence_key}: no evidence key (make one with `dunning evidence keygen`)")
    click.echo(public)


# --- operator actions ---------------------------------------------------------------


@cli.command()
@click.argument("case_id")
@click.argument("amount")
@click.option("--at", "at_text", metavar="ISO-8601", help="When it was paid (default: now).")
@click.option("--reference", help="The payment's reference (bank transaction id); a duplicate is refused.")
@pass_state
def pay(state: State, case_id: str, amount: str, at_text: str | None, reference: str | None) -> None:
    """Record a payment; a zero balance resolves the case as paid."""
    rt = state.runtime()
    now = state.now()
    at = state.now(at_text) if at_text else now
    outcome = operations.pay(rt, _case_id(case_id), amount, at=at, now=now, reference=reference, surplus_to_credit=True)
    case = outcome.case
    click.echo(
        f"case {case.id}: paid {money.display(outcome.amount, case.currency)}; "
        f"balance {money.display(case.balance, case.currency)}"
        + (f"; resolved as paid, {outcome.cancelled} planned actions cancelled" if case.status is Status.PAID else "")
        + (f"; {money.display(outcome.credit, case.currency)} beyond the balance is a credit" if outcome.credit else "")
    )


@cli.command()
@click.argument("case_id")
@click.argument("amount")
@click.option("--due", "due_text", required=True, metavar="DATETIME", help="When the debtor promised to pay.")
@click.option("--then", "then", multiple=True, metavar="AMOUNT@DATETIME",
              help="A later instalment of a plan (repeat for each).")
@click.option("--approved-by", help="The supervisor who allows a date beyond the limit (2 days by default) or a plan.")
@pass_state
def promise(
    state: State, case_id: str, amount: str, due_text: str, then: tuple[str, ...], approved_by: str | None
) -> None:
    """Record a promise to pay (reminders pause until it falls due), or a plan of instalments."""
    rt = state.runtime()
    later: list[tuple[str, dt.datetime]] = []
    for item in then:
        text, sep, when = item.partition("@")
        if not sep or not text or not when:
            _fail(f"--then {item!r}: expected AMOUNT@DATETIME, e.g. 250.00@2026-03-20T15:00")
        later.append((text, state.now(when)))
    promise_id = operations.promise(rt, _case_id(case_id), amount, state.now(due_text), now=state.now(),
                                    approved_by=approved_by, then=later)
    plan = f" (plan of {len(later) + 1} instalments)" if later else ""
    click.echo(f"promise {promise_id} recorded on case {case_id}{plan}")


@cli.command()
@click.argument("case_id")
@click.option("--reason", required=True, type=click.Choice([r.value for r in HoldReason]), help="Why the case is held.")
@click.option("--until", "until", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Lift the hold by itself on this date (not a dispute: that needs `release --verification-sent`).")
@click.option("--note", help="Free text kept with the hold.")
@pass_state
def hold(state: State, case_id: str, reason: str, until: dt.datetime | None, note: str | None) -> None:
    """Stop all outreach to a case (its evidence is kept)."""
    rt = state.runtime()
    hold_id = operations.hold(
        rt, _case_id(case_id), reason, now=state.now(), until=until.date() if until else None, note=note
    )
    click.echo(f"hold {hold_id} on case {case_id} ({reason}{', until ' + until.date().isoformat() if until else ''})")


@cli.command()
@click.argument("case_id")
@click.option("--by", default="operator", show_default=True, help="Who releases it.")
@click.option("--note", help="Why.")
@click.option("--verification-sent", is_flag=True, help="Verification of the debt was sent (needed to lift a dispute).")
@pass_state
def release(state: State, case_id: str, by: str, note: str | None, verification_sent: bool) -> None:
    """Lift a case's holds."""
    rt = state.runtime()
    released = operations.release(rt, _case_id(case_id), now=state.now(), by=by, note=note,
                                  verification_sent=verification_sent)
    click.echo(f"released {len(released)} hold(s) on case {case_id}")


@cli.command()
@click.argument("case_id")
@click.option(
    "--to", "to_stage", required=True, type=click.Choice([s.value for s in Stage]), help="The stage to move to."
)
@click.option("--reason", required=True, help="Why (kept as evidence).")
@click.option("--by", default="operator", show_default=True, help="Who decided.")
@pass_state
def escalate(state: State, case_id: str, to_stage: str, reason: str, by: str) -> None:
    """Move a case to a later stage by hand (or back from the agency)."""
    rt = state.runtime()
    case = operations.escalate(rt, _case_id(case_id), to_stage, now=state.now(), reason=reason, by=by)
    click.echo(f"case {case.id} is now at {case.stage}")


@cli.command()
@click.argument("case_id")
@click.option(
    "--as", "resolution", required=True, type=click.Choice([s.value for s in RESOLUTIONS]), help="How the case ended."
)
@click.option("--reason", default="", help="Why (kept as evidence).")
@pass_state
def resolve(state: State, case_id: str, resolution: str, reason: str) -> None:
    """Close a case as paid, settled or written off; cancels what was planned."""
    rt = state.runtime()
    cancelled = operations.resolve(rt, _case_id(case_id), resolution, now=state.now(), reason=reason)
    click.echo(f"case {case_id} resolved as {resolution}; {cancelled} planned actions cancelled")


@cli.command(name="opt-out")
@click.argument("debtor_id")
@click.option("--channel", required=True,
              help="The enabled channel (email, sms, phone, ...) or the medium (call, text, email, letter, visit, "
                   "other) the debtor asked to stop.")
@click.option("--contact", help="Only this address or number (default: the whole channel).")
@click.option("--note", help="How the request came in (kept as evidence).")
@click.option("--withdraw", is_flag=True, help="The debtor takes the request back.")
@pass_state
def opt_out(state: State, debtor_id: str, channel: str, contact: str | None, note: str | None, withdraw: bool) -> None:
    """Record that a debtor asked not to be contacted through a channel (or one address on it)."""
    rt = state.runtime()
    result = operations.opt_out(rt, debtor_id, channel, now=state.now(), contact=contact, note=note, withdraw=withdraw)
    what = f"{channel}" + (f" at {contact}" if contact else "")
    if withdraw:
        click.echo(f"debtor {debtor_id}: opt-out of {what} withdrawn")
    else:
        click.echo(f"debtor {debtor_id}: opted out of {what} (opt-out {result})")


@cli.command()
@click.argument("case_id")
@click.option("--kind", required=True, type=click.Choice(SIGNAL_KINDS), help="What was noticed.")
@click.option("--note", help="What was seen or heard (kept as evidence).")
@click.option("--source", default="operator", show_default=True, help="Who reports it.")
@pass_state
def signal(state: State, case_id: str, kind: str, note: str | None, source: str) -> None:
    """Record an abnormal signal about a case (moved, business closed, bankruptcy, ...)."""
    rt = state.runtime()
    signal_id = operations.signal(rt, _case_id(case_id), kind, now=state.now(), source=source, note=note)
    click.echo(f"signal {signal_id} ({kind}) recorded on case {case_id}"
               + ("; bankruptcy hold placed" if kind == "bankruptcy" else ""))


@cli.command()
@json_option
@pass_state
def approvals(state: State, as_json: bool) -> None:
    """List actions waiting for a person's approval.

    Each line shows the action and its case: the debtor, the balance and
    the overdue amount as they stand today, and why approval is asked (the
    policy step's or the rule's reason). `dunning approve ID --by NAME` or
    `dunning reject ID --by NAME` decides.
    """
    rt = state.runtime()
    rows = approval_rows(rt, rt.today(state.now()))
    if as_json:
        _print_json([action_json(r.action) | approval_json(r) for r in rows])
        return
    _table([[r.action.id, r.action.case_id, r.debtor_name, money.display(r.balance, r.currency),
             money.display(r.overdue, r.currency), r.action.planned_for, r.action.step,
             r.action.channel or r.action.kind.value, r.action.target or "", r.why] for r in rows],
           ["id", "case", "debtor", "balance", "overdue", "for", "step", "channel", "target", "why"])


cli.add_command(notices_cli.notices)


@cli.group(name="in-doubt", invoke_without_command=True)
@json_option
@click.pass_context
def in_doubt(ctx: click.Context, as_json: bool) -> None:
    """Actions a crash left in flight on a channel that holds them (in_doubt = "hold").

    Each may or may not have reached the debtor. Check (the mail server's
    log, for email), then `in-doubt release ID --by NAME` to send it again,
    or `in-doubt cancel ID --by NAME --reason TEXT` to end it unsent.
    """
    if ctx.invoked_subcommand is not None:
        return
    rt = ctx.obj.runtime()
    held = rt.store.actions(statuses=[ActionStatus.IN_DOUBT.value])
    if as_json:
        _print_json([action_json(a) for a in held])
        return
    _table([[a.id, a.case_id, a.step, a.channel or a.kind.value, a.key] for a in held],
           ["id", "case", "step", "channel", "key"])


@in_doubt.command(name="release")
@click.argument("action_id", type=int)
@click.option("--by", required=True, help="Who decided.")
@click.option("--reason", help="Why (kept with the evidence).")
@pass_state
def in_doubt_release(state: State, action_id: int, by: str, reason: str | None) -> None:
    """Send an action in doubt again, under the same key, on the next run."""
    action = operations.settle_in_doubt(state.runtime(), action_id, resend=True, by=by, now=state.now(),
                                        reason=reason)
    click.echo(f"action {action.id} ({action.step}) released; it goes out on the next run")


@in_doubt.command(name="cancel")
@click.argument("action_id", type=int)
@click.option("--by", required=True, help="Who decided.")
@click.option("--reason", required=True, help="Why it is not sent again (delivered after all, ...).")
@pass_state
def in_doubt_cancel(state: State, action_id: int, by: str, reason: str) -> None:
    """End an action in doubt without sending it."""
    action = operations.settle_in_doubt(state.runtime(), action_id, resend=False, by=by, now=state.now(),
                                        reason=reason)
    click.echo(f"action {action.id} ({action.step}) cancelled; it will not be sent")


def _decide(state: State, action_id: int, by: str, note: str | None, approve: bool) -> None:
    rt = state.runtime()
    action = operations.decide(rt, action_id, approve=approve, by=by, now=state.now(), note=note)
    click.echo(
        f"action {action.id} ({action.step}) {'approved; it goes out on the next run' if approve else 'rejected'}"
    )


@cli.command()
@click.argument("action_id", type=int)
@click.option("--by", required=True, help="Who approves.")
@click.option("--note", help="Kept with the approval.")
@pass_state
def approve(state: State, action_id: int, by: str, note: str | None) -> None:
    """Approve an action (it goes out on the next run)."""
    _decide(state, action_id, by, note, approve=True)


@cli.command()
@click.argument("action_id", type=int)
@click.option("--by", required=True, help="Who rejects.")
@click.option("--note", help="Kept with the rejection.")
@pass_state
def reject(state: State, action_id: int, by: str, note: str | None) -> None:
    """Reject an action; it will not go out."""
    _decide(state, action_id, by, note, approve=False)


# --- policy ----------------------------------------------------------------------------


@cli.group()
def policy() -> None:
    """Show and check collection policies."""


@policy.command(name="show")
@click.argument("name", required=False)
@click.option("--timeline", is_flag=True, help="Print the policy as a day-by-day table instead of its TOML.")
@pass_state
def policy_show(state: State, name: str | None, timeline: bool) -> None:
    """Print a preset or the configured policy (its TOML, or --timeline)."""
    state.defaults_will_do = True
    target = name or state.config.policy
    if target in PRESETS:
        text = preset_text(target)
        pol = load_policy_text(text, f"preset {target}")
    else:
        path = Path(target)
        if not path.is_absolute() and name is None:
            path = state.config.base_dir / path
        if not path.exists():
            _fail(f"{target}: neither a preset ({', '.join(PRESETS)}) nor an existing policy file")
        text = read_policy_file(path)
        pol = load_policy_text(text, str(path))
    if not timeline:
        click.echo(text, nl=False)
        return
    rows: list[list[Any]] = []
    for point in pol.points:
        for rule in pol.stages.values():
            if rule.recall_dpd == point:
                rows.append([point, "recall", f"back from {rule.stage}", ""])
        for step in pol.steps_at.get(point, ()):
            what = ", ".join(step.channels) or (f"notify {step.notify}" if step.notify else step.action)
            flags = " ".join(f for f, on in (
                ("required", step.required), ("approval", step.requires_approval),
                (f"at {'/'.join(t.strftime('%H:%M') for t in step.at)}", bool(step.at)),
                (f"to {step.audience}", step.audience != "debtor"),
                (f"disclose {step.disclosure}", step.disclosure != "none")) if on)
            rows.append([point, step.name, what, flags])
        for rule in pol.stages.values():
            if rule.entry_dpd == point:
                cond = f"balance >= {rule.when.min_balance}" if rule.when.min_balance else ""
                rows.append([point, f"stage -> {rule.stage}", cond, "approval" if rule.requires_approval else ""])
    _table(rows, ["dpd", "step", "what", "flags"])


@policy.command(name="check")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_state
def policy_check(state: State, file: Path) -> None:
    """Validate a policy file against the installed and enabled channels."""
    state.defaults_will_do = True
    pol = load_policy_text(read_policy_file(file), str(file))
    plugins = load_plugins(state.config)
    warnings = check_channels(pol, plugins.known_channels(), plugins.enabled)
    missing = missing_templates(pol, plugins, state.config)
    if missing:
        _fail(f"{file}: " + f"\n{file}: ".join(missing))
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(f"ok: {file} defines {len(pol.steps)} steps and {len(pol.stages)} stage rules")


# --- plugins -----------------------------------------------------------------------------


@cli.group(invoke_without_command=True)
@json_option
@click.pass_context
def plugins(ctx: click.Context, as_json: bool) -> None:
    """List plugins with their version, channels (and each channel's medium) and the hooks they implement.

    `dunning plugins new NAME` writes a new plugin package to start from.
    """
    if ctx.invoked_subcommand is not None:
        return
    state: State = ctx.obj
    state.defaults_will_do = True
    loaded = load_plugins(state.config)
    info = loaded.info
    lag = _mirror_lag(state, loaded.calls.implementers("record_event"))
    media = loaded.media  # each channel's medium, which the contact rules bind by (None: declares none)
    if as_json:
        # ``problem`` only for a plugin left out, ``mirror_lag`` only for a mirror.
        _print_json([attrs.asdict(i, filter=lambda field, value: field.name != "problem" or value is not None)
                     | {"media": {c: media.get(c) for c in i.channels}}
                     | ({"mirror_lag": lag[i.name]} if i.name in lag else {}) for i in info])
        return
    _table([[i.name, i.version or "", i.source, "yes" if i.enabled else "no", ", ".join(i.channels),
             ", ".join(media.get(c) or "none" for c in i.channels), ", ".join(i.hooks)]
            for i in info], ["name", "version", "source", "active", "channels", "media", "hooks"])
    for name, behind in lag.items():
        click.echo(f"mirror {name}: {behind} event{'s' if behind != 1 else ''} behind")


def _mirror_lag(state: State, mirrors: Sequence[str]) -> dict[str, int]:
    """How many events each ``record_event`` mirror has yet to take (none without a database)."""
    path = state.db or state.config.db
    if not mirrors or not path.exists():
        return {}
    store = Store(path)
    try:
        head, cursors = store.last_seq(), store.mirror_cursors()
    finally:
        store.close()
    return {name: head - cursors.get(name, 0) for name in mirrors}


plugins.add_command(scaffold.new)


# --- rehearsal --------------------------------------------------------------------------


@cli.command()
@click.option("--days", type=click.IntRange(1, 3650), required=True, help="How many days to replay.")
@click.option("--from", "start", type=click.DateTime(formats=["%Y-%m-%d"]), help="First day (default: today).")
@click.option("--case", "case_ids", type=int, multiple=True, help="Only print these cases' timelines.")
@json_option
@pass_state
def simulate(state: State, days: int, start: dt.datetime | None, case_ids: Sequence[int], as_json: bool) -> None:
    """Replay the policy day by day on a copy of the database and print the timeline.

    Nothing is sent and the real database is not touched: channels are
    replaced by recorders, and plugins' record_event and stage_entered hooks
    do not run.
    """
    from dunning.simulation import simulate_copy

    first_day = start.date() if start else state.now().astimezone(state.config.zone).date()
    timeline = simulate_copy(state.config, state.db_path(), first_day, days, case_ids=case_ids)
    if as_json:
        _print_json([event_json(e) for e in timeline.events])
        return
    for line in timeline.lines():
        click.echo(line)
    click.echo("")
    click.echo("stages at the end: " + ", ".join(f"{k} {v}" for k, v in sorted(timeline.stage_counts.items())))


@cli.command()
@click.option("--dir", "folder", type=click.Path(file_okay=False, path_type=Path),
              help="Where to create the demo database (default: a new temporary folder).")
@click.option("--days", type=click.IntRange(1, 720), default=200, show_default=True, help="Days to run.")
@click.option("--debtors", type=click.IntRange(2, 500), default=24, show_default=True, help="Debtors per portfolio.")
@click.option("--seed", type=int, default=7, show_default=True, help="Seed for the sample data.")
@pass_state
def demo(state: State, folder: Path | None, days: int, debtors: int, seed: int) -> None:
    """Create sample portfolios for both presets in a fresh database and run them day by day."""
    from dunning.demo import run_demo

    # The demo tells its own story; the channels' routine log lines would drown it.
    log.configure(state.log_format, level=logging.WARNING)
    run_demo(folder, days=days, debtors=debtors, seed=seed, echo=click.echo)


def load_plugin_commands(group: click.Group = cli, extra: Iterable[object] = ()) -> None:
    """Add the plugins' commands to ``group`` at once (for embedding; ``dunning`` itself loads them lazily)."""
    for name, (_plugin, command) in plugin_commands(Config(path=None), group.commands, list(extra)).items():
        group.add_command(command, name)


# Corrections (dunning.cli_corrections); its `escalate`, which meets the policy's checks, replaces the one above.
from dunning import cli_corrections  # noqa: E402

cli.add_command(cli_corrections.debtors)
cli.add_command(cli_corrections.contacts)
cli.add_command(cli_corrections.adjust)
cli.add_command(cli_corrections.dispute)
cli.add_command(cli_corrections.escalate)
cli.add_command(cli_corrections.de_escalate)
cli.add_command(cli_payments.payments)
cli.add_command(cli_payments.refund)
cli.add_command(cli_ledger.rates)
cli.add_command(cli_ledger.waive)
cli.add_command(cli_ledger.offer)


__all__ = ["LOAD_ENV", "cli"]
cli.add_command(__import__("dunning.cli_report", fromlist=["report"]).report)  # dunning report: core/cli_report.py
