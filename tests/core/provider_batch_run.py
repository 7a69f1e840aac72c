"""A separate process that runs dispatch with a provider that logs each key it is handed, and may die mid-run.

Used by tests/core/test_crash_batched.py:
``python provider_batch_run.py FOLDER DEDUPLICATES DIE_AT`` where DEDUPLICATES
is ``yes`` (the channel declares ``deduplicates_by_key``: its outcomes are
recorded a round at a time) or ``no`` (one by one), and DIE_AT is the number
of the send, in this process, right after which it dies (``os._exit``) before
any outcome of it is recorded; 0 runs to the end. Each key handed over is
appended to FOLDER/provider.log as "<run> <key>", the run being FOLDER/run.
A fourth argument names the database (a ``postgresql://`` URL or a file; FOLDER/dunning.db when left out).
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

folder, deduplicates, die_at = Path(sys.argv[1]), sys.argv[2] == "yes", int(sys.argv[3])
database = database_named(sys.argv[4]) if len(sys.argv) > 4 else folder / "dunning.db"
run = (folder / "run").read_text().strip()


class Provider:
    name = "email"
    needs = ()
    in_doubt = "resend"  # both kinds send again what a crash left in flight
    deduplicates_by_key = deduplicates

    def __init__(self) -> None:
        self.sends = 0

    def send(self, action, case, ctx):
        with open(folder / "provider.log", "a") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            f.write(f"{run} {ctx.key}\n")
        self.sends += 1
        if self.sends == die_at:
            os._exit(9)
        return Delivery.sent(f"provider:{ctx.key}")


class Plugin:
    plugin_name = "provider"

    @hookimpl
    def register_channels(self, register):
        register(Provider())


config = Config(path=folder / "dunning.toml", policy="trade-receivables", db=database,
                enabled_channels=("email",))
with Runtime(config, extra_plugins=[Plugin()]) as rt:
    summary = dispatch.run(rt, dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC))
print(summary.planned, summary.sent)
