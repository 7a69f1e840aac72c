"""The ``agency`` channel object: how the plugin is switched on, checked and told a run ended.

An agency is not reached message by message: cases go to it when they
enter the ``agency`` stage (``stage_entered``), and files go to it once
per run. The plugin still registers a channel named ``agency`` because
that gives it what every channel gets from the core: it takes part only
when ``[channels] enabled`` lists it, its ``[channels.agency]`` table is
checked at start-up (``check_settings``), and ``finish_run`` is called at
the end of every run, where the day's files are written.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dunning import Delivery
from dunning.plugins.agency.files import write_pending
from dunning.plugins.agency.settings import parse_settings


class AgencyChannel:
    name = "agency"
    in_doubt = "resend"  # its send reaches nobody (placements happen on entering the stage)
    deduplicates_by_key = True
    medium = "other"  # files handed to a third party, not a contact with the debtor: no window binds it
    needs: tuple[str, ...] = ()

    def check_settings(self, settings: Mapping[str, Any]) -> None:
        parse_settings(settings)

    def send(self, action: Any, case: Any, ctx: Any) -> Delivery:
        # A policy step naming "agency" is a mistake the policy check cannot see.
        return Delivery.failed(
            "the agency channel sends no messages: a case goes to an agency when it enters the agency stage",
            retry=False)

    def finish_run(self, ctx: Any) -> None:
        """Queue recalls of expired placements; write the placement and recall files (and any a crash left
        unwritten)."""
        # upkeep records recalls through the core's operations (and so the dispatcher): imported when it runs.
        from dunning.plugins.agency.upkeep import queue_expiry_recalls

        queued = queue_expiry_recalls(ctx) if ctx.store is not None else 0
        if queued:
            ctx.log.info("agency placements expired; recalls queued for the next run", count=queued)
        written = write_pending(ctx.db, parse_settings(ctx.settings), ctx.config.base_dir)
        for item in written:
            ctx.log.info("agency file written", agency=item.agency, kind=item.kind, day=item.day.isoformat(),
                         path=str(item.csv_path), rows=item.rows, sha256=item.sha256)
