"""A separate process that runs dispatch with an email provider logging each key it accepts.

Used by the crash and race tests: ``python provider_run.py FOLDER MODE [DATABASE]`` where
MODE is ``ok``, ``crash`` (die right after the provider accepted a message,
before the outcome is recorded) or ``race`` (wait for FOLDER/go, then run),
and DATABASE a ``postgresql://`` URL or a file (FOLDER/dunning.db when left out).
Prints the run's planned and sent counts on the last line.
"""

import datetime as dt
import fcntl
import os
import sys
from pathlib import Path

from dunning import Delivery, dispatch, hookimpl
from dunning.config import Config
from dunning.runtime import Runtime
from dunning.store.database import database_named

folder, mode = Path(sys.argv[1]), sys.argv[2]
database = database_named(sys.argv[3]) if len(sys.argv) > 3 else folder / "dunning.db"


class Provider:
    name = "email"
    needs = ()

    def send(self, action, case, ctx):
        with open(folder / "provider.log", "a") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            f.write(ctx.key + "\n")
        if mode == "crash":
            os._exit(9)
        return Delivery.sent("provider-ok")


class Plugin:
    plugin_name = "provider"

    @hookimpl
    def register_channels(self, register):
        register(Provider())


config = Config(path=folder / "dunning.toml", policy="trade-receivables", db=database,
                enabled_channels=("email",))
if mode == "race":
    while not (folder / "go").exists():
        pass
with Runtime(config, extra_plugins=[Plugin()]) as rt:
    summary = dispatch.run(rt, dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC))
print(summary.planned, summary.sent)
