"""The ``dunning`` command line: the root group, its built-in commands (each module loaded when used) and the
plugins' commands.

Every command imports only what it uses: the root group knows its built-in commands from ``BUILT_IN`` (name ->
where the command lives, and its one-line help for ``dunning --help``) and imports a command's module when that
command runs or its own ``--help`` is asked. ``dunning --help`` and ``dunning cases list`` thus never load the
code of ``dunning run`` or the libraries behind it.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterable
from typing import Any

import click

from dunning import log, privacy
# What command modules share, still importable from here as before the commands moved to modules of their own.
from dunning.cli_support import EXIT_DELIVERY_FAILED, NO_CONFIG, DunningError, State, fail, json_option, pass_state
from dunning.plugin_manager import LOAD_ENV

# The built-in commands: name -> ("module:attribute", the first paragraph of the command's docstring, which
# `dunning --help` shows without importing the module; a test checks that it matches). Adding a command is one
# line here, its module defining a plain `@click.command()` or `@click.group()`; keep it sorted by topic.
# (`cli.add_command(command)` still works, for a command whose module is cheap to import.)
BUILT_IN: dict[str, tuple[str, str]] = {
    "init": ("dunning.cli_setup:init", "Write a commented dunning.toml to start from."),
    "import": ("dunning.cli_setup:import_", "Import debtors and obligations from a CSV or JSON file."),
    "run": ("dunning.cli_run:run", "Plan what is due and deliver what is ready. Meant for cron."),
    "worker": ("dunning.cli_worker:worker",
               "Plan and deliver as one of several workers sharing a PostgreSQL database."),
    "cases": ("dunning.cli_cases:cases", "List and inspect cases."),
    "events": ("dunning.cli_evidence:events", "Show the evidence log, oldest first."),
    "verify": ("dunning.cli_evidence:verify",
               "Check the evidence log's hash chain and every signed checkpoint it can see."),
    "archive": ("dunning.cli_archive:archive",
                "Move cases resolved before a date, and their evidence, to an archive file."),
    "db": ("dunning.cli_db:db", "Move the database from SQLite to PostgreSQL."),
    "evidence": ("dunning.cli_evidence:evidence_",
                 "The evidence key and signed checkpoints of the evidence log."),
    "pay": ("dunning.cli_case_actions:pay", "Record a payment; a zero balance resolves the case as paid."),
    "promise": ("dunning.cli_case_actions:promise",
                "Record a promise to pay (reminders pause until it falls due), or a plan of instalments."),
    "hold": ("dunning.cli_case_actions:hold", "Stop all outreach to a case (its evidence is kept)."),
    "release": ("dunning.cli_case_actions:release", "Lift a case's holds."),
    "resolve": ("dunning.cli_case_actions:resolve",
                "Close a case as paid, settled or written off; cancels what was planned."),
    "opt-out": ("dunning.cli_case_actions:opt_out",
                "Record that a debtor asked not to be contacted through a channel (or one address on it)."),
    "signal": ("dunning.cli_case_actions:signal",
               "Record an abnormal signal about a case (moved, business closed, bankruptcy, ...)."),
    "escalate": ("dunning.cli_corrections:escalate",
                 "Move a case to a later stage by hand (or back from the agency)."),
    "de-escalate": ("dunning.cli_corrections:de_escalate",
                    "Move a case back to an earlier stage; the cadence of that stage resumes."),
    "debtors": ("dunning.cli_corrections:debtors",
                "Show a debtor, or correct its details (each change an event with who and why)."),
    "contacts": ("dunning.cli_corrections:contacts",
                 "Add, remove (make inactive) or mark bad a debtor's contacts; each change an event with who and "
                 "why."),
    "adjust": ("dunning.cli_corrections:adjust",
               "Change an obligation's amount: a credit note, a price dispute settled."),
    "dispute": ("dunning.cli_corrections:dispute",
                "Hold one disputed invoice out of demands while the rest is still collected."),
    "payments": ("dunning.cli_payments:payments",
                 "Payments from the bank: import a statement, work the suspense list, reverse a payment."),
    "refund": ("dunning.cli_payments:refund", "Pay back (part of) a debtor's credit, the surplus of an overpayment."),
    "rates": ("dunning.cli_ledger:rates",
              "Reference rates the interest rules read (Bank of England, ECB, Basiszinssatz), each with the day it "
              "took effect."),
    "waive": ("dunning.cli_ledger:waive",
              "Waive what is still open of a case's interest or fees (or both); the principal is untouched."),
    "offer": ("dunning.cli_ledger:offer", "Offer to settle a case for less than it owes if paid by a date."),
    "report": ("dunning.cli_report:report",
               "The portfolio as a collections manager reads it: aging, roll rates, recovery, promises, contacts, "
               "activity."),
    "portal": ("dunning.cli_portal:portal", "The debtors' page: links to it (set [portal] base_url in dunning.toml)."),
    "approvals": ("dunning.cli_approvals:approvals", "List actions waiting for a person's approval."),
    "approve": ("dunning.cli_approvals:approve", "Approve an action (it goes out on the next run)."),
    "reject": ("dunning.cli_approvals:reject", "Reject an action; it will not go out."),
    "in-doubt": ("dunning.cli_approvals:in_doubt",
                 'Actions a crash left in flight on a channel that holds them (in_doubt = "hold").'),
    "notices": ("dunning.notices_cli:notices",
                "The policy's notices to the supervisor, manager and general manager: each role's worklist."),
    "policy": ("dunning.cli_policy:policy", "Show and check collection policies."),
    "plugins": ("dunning.cli_plugins:plugins",
                "List plugins with their version, channels (and each channel's medium) and the hooks they implement."),
    "simulate": ("dunning.cli_rehearsal:simulate",
                 "Replay the policy day by day on a copy of the database and print the timeline."),
    "backtest": ("dunning.cli_backtest:backtest", "Replay policies over the same cases and compare what they do."),
    "serve": ("dunning.cli_serve:serve",
              "Serve the web console: the day's calls, cases, payments, holds and approvals in a browser."),
    "users": ("dunning.cli_users:users", "Staff accounts for the web console: add, list, disable."),
    "datasette": ("dunning.cli_datasette:datasette", "Open the database read-only in Datasette, with canned queries."),
    "demo": ("dunning.cli_rehearsal:demo",
             "Create sample portfolios for both presets in a fresh database and run them day by day."),
}

# The engine's own errors, by the module that defines each: a command that fails with one of them ends with its
# message and exit code 1. Looked up in sys.modules, so that catching them imports nothing (an error from a
# module nobody imported cannot have been raised).
ENGINE_ERRORS = (
    ("dunning.config", "ConfigError"),
    ("dunning.policy.model", "PolicyError"),
    ("dunning.store.errors", "NotFound"),
    ("dunning.store.errors", "StoreError"),
    ("dunning.operations", "OperationError"),
    ("dunning.importer", "ImportError_"),
    ("dunning.money", "MoneyError"),
    ("dunning.checkpoints", "CheckpointError"),
)


def is_engine_error(exc: BaseException) -> bool:
    for module_name, class_name in ENGINE_ERRORS:
        module = sys.modules.get(module_name)
        if module is not None and isinstance(exc, getattr(module, class_name)):
            return True
    return False


def load_built_in(name: str) -> click.Command:
    """The built-in command ``name``, its module imported now."""
    module_name, attribute = BUILT_IN[name][0].split(":")
    command = getattr(importlib.import_module(module_name), attribute)
    if not isinstance(command, click.Command):
        raise TypeError(f"{BUILT_IN[name][0]} is not a click command")
    return command


class DunningGroup(click.Group):
    """Loads built-in commands when used, turns the engine's own errors into a clear message and exit code 1,
    and offers plugins' commands.

    Plugin commands (``register_commands``) are loaded the first time a
    command name that is no built-in is looked up, or the commands are
    listed, with the plugins the config and ``DUNNING_LOAD_PLUGINS`` allow;
    importing ``dunning.cli`` loads none.
    """

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        built_in = super().get_command(ctx, cmd_name)
        if built_in is not None:
            return built_in
        if cmd_name in BUILT_IN:
            command = load_built_in(cmd_name)
            self.add_command(command, cmd_name)
            return command
        found = self._plugin_commands(ctx).get(cmd_name)
        if found is None:
            return None
        # Which plugin the command line runs, so that State can refuse it if that plugin is left out.
        ctx.find_root().meta["dunning.command_plugin"] = found[0]
        return found[1]

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *BUILT_IN, *self._plugin_commands(ctx)})

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # As click's own, with the short help of a built-in not loaded yet taken from BUILT_IN.
        rows: list[tuple[str, click.Command]] = []
        for name in self.list_commands(ctx):
            if name in BUILT_IN and name not in self.commands:
                command: click.Command | None = click.Command(name, help=BUILT_IN[name][1])
            else:
                command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command))
        if rows:
            limit = formatter.width - 6 - max(len(name) for name, _ in rows)
            with formatter.section("Commands"):
                formatter.write_dl([(name, command.get_short_help_str(limit)) for name, command in rows])

    def _plugin_commands(self, ctx: click.Context) -> dict[str, tuple[str, click.Command]]:
        root = ctx.find_root()
        found = root.meta.get("dunning.plugin_commands")
        if found is None:
            from dunning.plugin_manager import plugin_commands

            # Warnings about plugins go where every other log line goes (stderr), never into --json output.
            log.configure(root.params.get("log_format"))
            found = root.meta["dunning.plugin_commands"] = plugin_commands(
                _disabled_plugins(root), {*self.commands, *BUILT_IN})
        return found

    def resolve_command(self, ctx: click.Context, args: list[str]) -> tuple[str | None, click.Command | None,
                                                                           list[str]]:
        resolved = super().resolve_command(ctx, args)
        log.settle()  # the command's module (a plugin's, say) may have imported structlog: configure it now
        return resolved

    def main(self, *args: Any, **kwargs: Any) -> Any:
        from dunning.start_up import collector_paused

        # Until the command has loaded and opened its runtime (dunning.start_up).
        with collector_paused():
            return super().main(*args, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (ValueError, LookupError) as exc:
            if is_engine_error(exc):
                raise DunningError(str(exc)) from None
            raise
        except Exception as exc:
            problem = database_problem(exc)
            if problem is not None:
                raise DunningError(problem) from None
            raise


def database_problem(exc: BaseException) -> str | None:
    """One line for an error the PostgreSQL server gave (refused, gone away, a statement it would not take);
    None for anything else. Looked up in sys.modules: a SQLite user's command never imports psycopg."""
    psycopg = sys.modules.get("psycopg")
    if psycopg is None or not isinstance(exc, psycopg.Error):
        return None
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    return f"database: {lines[0] if lines else type(exc).__name__}"


def _disabled_plugins(root: click.Context) -> tuple[str, ...]:
    """The config's ``[plugins] disabled``, all that choosing the plugins' commands needs.

    Only that key is read: checking the whole config (profiles, jurisdictions) would cost `dunning --help` more
    than everything else it does. A missing or broken config is the command's to report; here it disables none.
    """
    import tomllib

    from dunning.config_path import resolve_config_path

    path = resolve_config_path(root.params.get("config_path"))
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig")) if path.exists() else {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return ()
    plugins = data.get("plugins")
    disabled = plugins.get("disabled", []) if isinstance(plugins, dict) else []
    if not isinstance(disabled, list) or not all(isinstance(name, str) for name in disabled):
        return ()
    return tuple(disabled)


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
@click.option("--db", metavar="PATH|URL", help="Database to use instead of the one in the config: a SQLite file, or "
                                                "a PostgreSQL database as postgresql://user@host:5432/dbname.")
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


def load_plugin_commands(group: click.Group = cli, extra: Iterable[object] = ()) -> None:
    """Add the plugins' commands to ``group`` at once (for embedding; ``dunning`` itself loads them lazily)."""
    from dunning.plugin_manager import plugin_commands

    taken = {*group.commands, *(BUILT_IN if group is cli else ())}
    for name, (_plugin, command) in plugin_commands((), taken, list(extra)).items():
        group.add_command(command, name)


__all__ = ["EXIT_DELIVERY_FAILED", "LOAD_ENV", "NO_CONFIG", "DunningError", "State", "cli", "fail", "json_option",
           "pass_state"]
