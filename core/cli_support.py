"""What every command module of the ``dunning`` command line shares: the state the global options give, the
error that ends a command with one line and exit code 1, and the common options.

Light on purpose: the root group (``dunning.cli``) imports it, and the runtime's modules (store, plugins,
templates) are imported only when a command opens the runtime.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from dunning.log import get_logger

if TYPE_CHECKING:
    from dunning.config import Config
    from dunning.store.database import DatabaseName
    from dunning.plugin_context import PluginContext
    from dunning.runtime import Runtime

F = TypeVar("F", bound=Callable[..., Any])
EXIT_DELIVERY_FAILED = 3


class DunningError(click.ClickException):
    exit_code = 1


NO_CONFIG = "no dunning.toml here (pass --config or set DUNNING_CONFIG; `dunning init` writes one)"


class State:
    """What the global options say; opens the runtime on first use."""

    def __init__(self, config_path: str | None, db: str | None, now: str | None):
        from dunning.config_path import resolve_config_path

        self.config_path = resolve_config_path(config_path)
        # A file named on purpose (--config or $DUNNING_CONFIG) must exist:
        # a typo must not quietly run against an empty database.
        self.config_required = config_path is not None or bool(os.environ.get("DUNNING_CONFIG"))
        self.db = _database_option(db) if db else None
        self._now_text = now
        self._config: Config | None = None
        self._runtime: Runtime | None = None
        self.log_format: str | None = None
        # Commands that work on the defaults when there is no dunning.toml (policy show|check, plugins).
        self.defaults_will_do = False

    @property
    def config(self) -> Config:
        if self._config is None:
            from dunning import privacy
            from dunning.config import load_config

            if not self.config_required and not self.config_path.exists() and not self.defaults_will_do:
                # cron started from $HOME: refuse rather than run against a new, empty database.
                raise DunningError(NO_CONFIG)
            self._config = load_config(self.config_path, required=self.config_required)
            if self._config.holds_secret and self._config.path and privacy.readable_by_others(self._config.path):
                get_logger("dunning").warning(
                    "the config holds a password or token and others can read it: chmod 600 it, or move the "
                    "secret to an environment variable (password_env, token_env)", config=str(self._config.path))
        return self._config

    def now(self, override: str | None = None) -> dt.datetime:
        from dunning import calendar

        text = override or self._now_text
        if not text:
            return calendar.utc_now()
        try:
            return calendar.parse_moment(text, self.config.zone)
        except ValueError as exc:
            raise DunningError(f"--now: {exc}") from None

    @property
    def database(self) -> DatabaseName:
        """The database named by ``--db``, else by the config: a file path or a PostgreSQL server."""
        return self.db or self.config.db

    @property
    def database_shown(self) -> str:
        """The database for a message: the file's path, or the server's URL without its password."""
        from dunning.store.database import database_shown

        return database_shown(self.database)

    def db_path(self, command: str) -> Path:
        """The database file to use, which must exist; ``command`` works on a SQLite file only."""
        from dunning.store import StoreError, missing_database

        database = self.database
        if not isinstance(database, Path):
            raise DunningError(f"{command} works on a SQLite database file, and {database.shown} is a PostgreSQL "
                               "database")
        if not database.exists():
            raise StoreError(missing_database(database))
        return database

    def runtime(self, *, create: bool = False) -> Runtime:
        if self._runtime is None:
            from dunning.runtime import Runtime

            # The config and the plugins' settings are checked first: their errors say more than a missing file.
            self._runtime = Runtime(self.config, db_path=self.db, create_db=create)
            ctx = click.get_current_context()
            ctx.call_on_close(self._runtime.close)
            plugin = ctx.find_root().meta.get("dunning.command_plugin")
            if plugin in self._runtime.plugins.broken:
                # Its tables may be missing (a migration failed): its commands wait for the fix.
                raise DunningError(f"plugin {plugin} is left out ({self._runtime.plugins.broken[plugin]}); "
                                   "its commands work again once it is fixed")
            from dunning.start_up import resume

            resume()  # started: the garbage collector runs as usual for the rest of the command
        return self._runtime

    def plugin_context(self, now: dt.datetime | None = None) -> PluginContext:
        """The runtime as a plugin's command may use it (``dunning.PluginContext``)."""
        from dunning.plugin_context import PluginContext

        return PluginContext(self.runtime(), now)


def _database_option(value: str) -> DatabaseName:
    """``--db``: a file path, or a ``postgresql://`` URL checked whole (a bad one is a one-line error)."""
    from dunning.store.database import database_named
    from dunning.store.errors import StoreError

    try:
        return database_named(value)
    except StoreError as exc:
        raise DunningError(f"--db: {exc}") from None


def fail(message: str) -> NoReturn:
    raise DunningError(message)


def parse_case_id(value: str) -> int:
    if not (value.isascii() and value.isdigit()):
        fail(f"case id must be a number, got {value!r}")
    return int(value)


def json_option(fn: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(fn)


pass_state = click.pass_obj
