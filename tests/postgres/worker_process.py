"""One dispatch worker process for the race test: ``python worker_process.py URL FOLDER DELIVERY``.

Says FOLDER/ready-<pid> once open, waits for FOLDER/go, then works the PostgreSQL database at URL once
(``dunning.dispatch.worker.work``) through a recording ``email`` channel
that appends each message's key and debtor to FOLDER/sent.log. DELIVERY is
``one-by-one`` (a channel that cannot recognise a re-send, as SMTP) or
``rounds`` (one that can: delivered a round at a time, ``dispatch.batch``).
Prints the worker's sent and claimed counts on the last line.
"""

import datetime as dt
import fcntl
import os
import sys
import time
from pathlib import Path

from dunning import Delivery, hookimpl
from dunning.config import Config
from dunning.dispatch.worker import work
from dunning.runtime import Runtime

url, folder, delivery = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
NOW = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)


class Recorder:
    """An email channel that records what it is given to send instead of sending it."""

    name = "email"
    needs = ()
    deduplicates_by_key = delivery == "rounds"

    def send(self, action, case, ctx):
        time.sleep(0.003)  # a provider takes a moment to answer: the workers' batches overlap, as in production
        with open(folder / "sent.log", "a") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            f.write(f"{ctx.key} {case.debtor_id}\n")
        return Delivery.sent(f"recorded:{ctx.key}")


class Plugin:
    plugin_name = "recorder"

    @hookimpl
    def register_channels(self, register):
        register(Recorder())


config = Config(path=folder / "dunning.toml", policy="trade-receivables", db=folder / "unused.db",
                enabled_channels=("email",))
with Runtime(config, db_path=url, extra_plugins=[Plugin()]) as rt:  # type: ignore[arg-type]
    (folder / f"ready-{os.getpid()}").touch()
    while not (folder / "go").exists():
        time.sleep(0.01)
    summary = work(rt, batch=15, once=True, now=lambda: NOW)
print(summary.run.sent, summary.claimed)
