"""A separate process that runs dispatch with a plugin acting on every stage change, and may die mid-round.

Used by tests/core/test_crash_stage_round.py: ``python stage_round_run.py
FOLDER DIE_AT``, DIE_AT being the number of the stage change, in this
process, during whose ``stage_entered`` it dies (``os._exit``), inside the
round's transaction, before any of the round is committed; 0 runs to the
end. Each case the hook is called for is appended to FOLDER/stages.log as
"<run> <case id>", the run being FOLDER/run.
"""

import datetime as dt
import os
import sys
from pathlib import Path

from dunning import dispatch, hookimpl
from dunning.config import Config
from dunning.runtime import Runtime
from dunning.store.database import database_named

folder, die_at = Path(sys.argv[1]), int(sys.argv[2])
# A third argument names the database (a postgresql:// URL or a file; FOLDER/dunning.db when left out).
database = database_named(sys.argv[3]) if len(sys.argv) > 3 else folder / "dunning.db"
run = (folder / "run").read_text().strip()


class Plugin:
    plugin_name = "watcher"

    def __init__(self) -> None:
        self.calls = 0

    @hookimpl
    def stage_entered(self, case, from_stage, to_stage, ctx):
        with open(folder / "stages.log", "a") as f:
            f.write(f"{run} {case.id}\n")
        # The plugin's own evidence, in the stage change's transaction.
        ctx.record_event("watcher:watched", to=to_stage.value)
        self.calls += 1
        if self.calls == die_at:
            os._exit(9)


config = Config(path=folder / "dunning.toml", policy="trade-receivables", db=database,
                enabled_channels=())
with Runtime(config, extra_plugins=[Plugin()]) as rt:
    summary = dispatch.run(rt, dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC))
print(summary.planned, summary.escalated, summary.internal)
