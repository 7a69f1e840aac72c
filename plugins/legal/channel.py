"""The ``legal`` channel object: how the plugin is switched on and its settings checked.

Litigation is not a message: a matter opens when a case enters the
``litigation`` stage, and the lawyer's letter goes through the letter
channel. The plugin still registers a channel named ``legal`` because that
gives it what every channel gets from the core: it takes part only when
``[channels] enabled`` lists it, and its ``[channels.legal]`` table (which
the letter channel also reads for the firm's name) is checked at start-up.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dunning import Delivery
from dunning.plugins.legal.settings import parse_settings
from dunning.plugins.legal.tasks import open_from_signals


class LegalChannel:
    name = "legal"
    in_doubt = "resend"  # its send reaches nobody (matters open on entering the stage)
    deduplicates_by_key = True
    medium = "other"  # files handed to a third party, not a contact with the debtor: no window binds it
    needs: tuple[str, ...] = ()

    def check_settings(self, settings: Mapping[str, Any]) -> None:
        parse_settings(settings)

    def finish_run(self, ctx: Any) -> None:
        """Open the "file claim" tasks of bankruptcy signals recorded since the last look, at every run's end."""
        if ctx.store is None:
            return
        opened = open_from_signals(ctx)
        if opened:
            ctx.log.info("file-claim tasks opened for bankruptcy signals", count=opened)

    def send(self, action: Any, case: Any, ctx: Any) -> Delivery:
        # A policy step naming "legal" is a mistake the policy check cannot see.
        return Delivery.failed(
            "the legal channel sends no messages: send the lawyer's letter through the letter channel",
            retry=False)
